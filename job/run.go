// Package job is one import (or check) of one input file: the pre-checks,
// the journal and resume decisions, the pipeline, the report and its side
// file, and the summary. Every front end — the command line, the web
// server, the inbox — calls it; they only parse input, wire and show.
package job

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/settle"
	"github.com/m7import/m7import/tasks"
	"github.com/m7import/m7import/upload"
)

// Options are the settings of one run.
type Options struct {
	// Rule is the server's dedupe rule.
	Rule api.Rule
	// Operator is the agent number recorded as the importer.
	Operator string
	// BatchSize is the most rows per import call.
	BatchSize int
	// Concurrency is how many batches may be in flight at once.
	Concurrency int
	// MaxRetries, RetryInitial and RetryMax are the retry schedule.
	MaxRetries             int
	RetryInitial, RetryMax time.Duration
	// DrainTimeout bounds how long batches in flight may take to finish
	// once the run is stopped.
	DrainTimeout time.Duration
	// Timeout bounds the final count read after the run.
	Timeout time.Duration
	// DryRun reads, checks and reports; nothing is sent.
	DryRun bool
	// MaxInvalid refuses to send anything when too many rows are invalid.
	MaxInvalid Limit
	// Read are the reader's options. Read.KeepRepeats is set from Rule.
	Read importer.Options
	// Report and ReportFormat are where the results report goes.
	Report       string
	ReportFormat reports.Format
	// CheckAgents warns before sending about agent numbers the account
	// does not have or has disabled.
	CheckAgents bool
	// Resume, ResendUnconfirmed and Force are the journal's rules.
	Resume, ResendUnconfirmed, Force bool
	// Progress, when set, gets snapshots while the file is read and sent.
	Progress func(pipeline.Progress)
	// Warn and Notice, when set, get a sentence each: warnings (agents,
	// counts that do not add up) and news (resuming, settled batches).
	Warn, Notice func(string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Summary is the outcome of one file: what `import --json` prints, the
// web API returns and the inbox records.
type Summary struct {
	File   string   `json:"file"`
	Report string   `json:"report"`
	TaskID string   `json:"task_id"`
	Rule   api.Rule `json:"rule"`
	DryRun bool     `json:"dry_run"`
	pipeline.Counts
	ElapsedMS         int64  `json:"elapsed_ms"`
	NumberTotalBefore *int   `json:"number_total_before"`
	NumberTotalAfter  *int   `json:"number_total_after"`
	ExitCode          int    `json:"exit_code"`
	Error             string `json:"error,omitempty"`
}

var _ pipeline.RecordWriter = (*reports.File)(nil)

// fileRun is the state of one File call.
type fileRun struct {
	opts   Options
	input  string
	report string
	task   api.Task
}

func (r *fileRun) notice(s string) {
	if r.opts.Notice != nil {
		r.opts.Notice(s)
	}
}

func (r *fileRun) warn(s string) {
	if r.opts.Warn != nil {
		r.opts.Warn(s)
	}
}

// File imports (or, with DryRun, checks) one input file into the task
// that resolve finds (called once the file is known to be readable; its
// NumberTotal must be current). client and resolve may be nil for a dry
// run. The summary is filled whatever happens; the error's Code (CodeOf)
// is the run's exit status.
func File(ctx context.Context, client *api.Client, resolve func(context.Context) (api.Task, error), input string, o Options) (sum Summary, err error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Read.KeepRepeats = !o.Rule.DedupesInFile()
	start := o.Now()
	sum = Summary{File: input, Rule: o.Rule, DryRun: o.DryRun, Report: o.Report}
	defer func() {
		sum.ElapsedMS = o.Now().Sub(start).Milliseconds()
		sum.ExitCode = int(CodeOf(err))
		if err != nil {
			sum.Error = err.Error()
		}
	}()
	r := &fileRun{opts: o, input: input, report: o.Report}
	if reports.SameFile(r.report, input) {
		return sum, Usagef("--report %s is the input file itself: choose another report path", r.report)
	}

	rd, err := importer.Open(ctx, input, o.Read)
	if err != nil {
		return sum, WithReadHint(err, input)
	}
	defer rd.Close()

	// One pass before anything is sent: --max-invalid's count, the agent
	// check and the content's hash. A file that cannot be read to the end
	// sends nothing; the import pass then reports every row read.
	var pre *precheck
	refused := ""
	if !o.DryRun || o.MaxInvalid.Set() {
		if pre, err = readAhead(ctx, input, o.Read); err != nil {
			var re *importer.RowError
			if !errors.As(err, &re) {
				return sum, err
			}
			pre, refused = nil, fmt.Sprintf("not sent: the file cannot be read to the end (row %d)", re.Row)
		}
	}
	// --max-invalid needs the whole file's count before anything is sent.
	if pre != nil && o.MaxInvalid.Exceeded(pre.invalid, pre.rows) {
		refused = fmt.Sprintf("not sent: %d of %d rows invalid, over --max-invalid %s", pre.invalid, pre.rows, o.MaxInvalid)
	}

	var up *upload.Uploader
	var meta journal.Meta
	if !o.DryRun && refused == "" {
		task, err := resolve(ctx)
		if err != nil {
			return sum, err
		}
		r.task = task
		sum.TaskID = task.TaskID
		before := task.NumberTotal
		sum.NumberTotalBefore = &before
		ucfg := upload.Config{
			TaskID: task.TaskID, Rule: o.Rule, Operator: o.Operator,
			MaxRetries: o.MaxRetries, InitialInterval: o.RetryInitial, MaxInterval: o.RetryMax,
		}
		if o.Rule.CountsEveryRow() {
			ucfg.Settle = settle.NewSettlement(countNow(client, task.TaskID), before)
		}
		if up, err = upload.New(client, ucfg); err != nil {
			return sum, err
		}
		meta = journal.Meta{Input: input, InputSHA256: pre.sha256, Report: r.report, TaskID: task.TaskID, TaskName: task.TaskName,
			Rule: o.Rule, BatchSize: o.BatchSize, Operator: o.Operator, NumberTotalBefore: before, StartedAt: start}
		if o.CheckAgents {
			if err := pre.checkAgents(ctx, client, input, r.warn); err != nil {
				r.warn(fmt.Sprintf("could not check agents: %v", err))
			}
		}
	}

	var led *journal.Journal
	if up != nil {
		j, unlock, before, err := r.openJournal(ctx, rd, pre.sha256, *sum.NumberTotalBefore)
		if err != nil {
			return sum, err
		}
		defer unlock()
		defer j.Close()
		led, meta.NumberTotalBefore = j, before
	}

	out, err := reports.Create(r.report, o.ReportFormat)
	if err != nil {
		return sum, fmt.Errorf("create report: %w", err)
	}
	defer out.Abort()

	popts := pipeline.Options{
		BatchSize: o.BatchSize, Concurrency: o.Concurrency, DrainTimeout: o.DrainTimeout,
		Progress: o.Progress, SendNothing: refused != "", SkipReason: refused,
	}
	if up != nil {
		popts.Sender, popts.Ledger = up, led
	}
	res, runErr := pipeline.Run(ctx, rd, out, popts)
	sum.Counts = res.Counts
	if err := out.Commit(); err != nil {
		return sum, fmt.Errorf("write report %s: %w", r.report, err)
	}

	if led != nil && res.Stopped == nil && runErr == nil {
		if err := led.Complete(); err != nil {
			return sum, err
		}
	}
	if up != nil {
		// The server may drop repeats silently: its count is the truth.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Timeout)
		after, err := tasks.ByID(actx, client, up.TaskID())
		cancel()
		if err == nil {
			n := after.NumberTotal
			sum.NumberTotalAfter = &n
			meta.NumberTotalAfter = n
		}
		meta.Imported, meta.Unconfirmed, meta.FinishedAt = res.Imported, res.Unconfirmed, o.Now()
		if err := journal.WriteMeta(r.report, meta); err != nil {
			return sum, fmt.Errorf("write report side file: %w", err)
		}
	}

	switch {
	case runErr != nil:
		// The report holds every row read before the problem, and what
		// happened to each: nothing sent goes unaccounted for.
		return sum, fmt.Errorf("%w (the report %s has the %d rows read before it)", runErr, r.report, res.Rows)
	case refused != "":
		return sum, &Error{Code: CodeRefused, Err: errors.New(input + ": " + strings.TrimPrefix(refused, "not sent: "))}
	case res.Stopped != nil:
		err := fmt.Errorf("%s: stopped: %w", input, res.Stopped)
		if api.IsAuth(res.Stopped) {
			return sum, stopAll(err, authHint)
		}
		return sum, err
	case res.Unconfirmed > 0 && !o.Rule.ResendIsSafe():
		return sum, &Error{Code: CodeIncomplete, Err: fmt.Errorf("%s: %d rows unconfirmed (their batch may or may not have been imported; not resent under rule 2); %d failed, %d skipped; see %s", input, res.Unconfirmed, res.Failed, res.Skipped, r.report)}
	case res.Failed+res.Unconfirmed+res.Skipped > 0:
		return sum, &Error{Code: CodeIncomplete, Err: fmt.Errorf("%s: %d failed, %d unconfirmed, %d skipped rows; see %s", input, res.Failed, res.Unconfirmed, res.Skipped, r.report)}
	}
	return sum, nil
}

// WithReadHint adds what to try for the reader's common refusals.
func WithReadHint(err error, input string) error {
	switch {
	case errors.Is(err, importer.ErrNoNumberColumn) && !strings.Contains(err.Error(), "--map"):
		return WithHint(err, "m7import import --map number=HEADER "+input)
	case errors.Is(err, importer.ErrUnsupportedFormat) && !strings.Contains(err.Error(), "save"):
		return WithHint(err, "open it in Excel or WPS and save it as .xlsx or .csv")
	}
	return err
}
