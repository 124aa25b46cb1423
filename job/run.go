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
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/i18n"
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
	// Concurrency is how many batches may be in flight at once; 0 is
	// auto: as many as Rate and the observed latency need, at most
	// MaxAutoConcurrency.
	Concurrency int
	// Rate is the limiter's calls per second (0: none), for auto.
	Rate float64
	// Grace is how long after an attempt began the server may still be
	// processing it (default 3× Timeout): under rule 2 a batch the count
	// shows as not landed is resent only after it.
	Grace time.Duration
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

	// History, when set, records the run and refuses (rule 2) or warns
	// about (rules 0, 1) content already imported into the task.
	History *history.Store
	// Source says which front end ran the import, for the history.
	Source history.Source
	// AppKey is the account, which keys the per-task lock.
	AppKey string
	// LockDir, when set, is the data directory whose per-task lock the
	// run holds while it writes to the task; LockWait is how long it waits
	// for another holder, and Command describes this run to a waiter.
	LockDir  string
	LockWait time.Duration
	Command  string
	// Attention, when set, is where the rows that need attention go, in
	// the input's own columns plus row, status and reason (csv or xlsx).
	Attention       string
	AttentionFormat reports.Format
	// Lang is the language of the reasons in the report and the attention
	// file, and of the run's notices; statuses never change.
	Lang i18n.Lang
}

// Summary is the outcome of one file: what `import --json` prints, the
// web API returns and the inbox records.
type Summary struct {
	File      string    `json:"file"`
	Report    string    `json:"report"`
	Attention string    `json:"attention,omitempty"`
	SHA256    string    `json:"sha256,omitempty"`
	HistoryID int64     `json:"history_id,omitempty"`
	StartedAt time.Time `json:"started_at"`
	// FinishedAt is when the run ended.
	FinishedAt time.Time `json:"finished_at"`
	// Sheet, HeaderRow, Mapping and Ignored say what was read: the sheet,
	// the header's row, which column fed each field ("" for none), and
	// the columns no field uses.
	Sheet     string            `json:"sheet,omitempty"`
	HeaderRow int               `json:"header_row,omitempty"`
	Mapping   map[string]string `json:"mapping,omitempty"`
	Ignored   []string          `json:"ignored,omitempty"`
	TaskID    string            `json:"task_id"`
	Rule      api.Rule          `json:"rule"`
	DryRun    bool              `json:"dry_run"`
	pipeline.Counts
	ElapsedMS         int64 `json:"elapsed_ms"`
	NumberTotalBefore *int  `json:"number_total_before"`
	NumberTotalAfter  *int  `json:"number_total_after"`
	// KeptByServer is how much the task grew during this run.
	KeptByServer int `json:"kept_by_server"`
	// SettledByCount is how many batches whose reply was lost the task's
	// numberTotal showed as imported.
	SettledByCount int `json:"settled_by_count"`
	// Mismatch, under rule 2, says how the task's growth differs from what
	// this run imported.
	Mismatch string `json:"mismatch,omitempty"`
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

var _ pipeline.RecordWriter = (*reports.File)(nil)

// fileRun is the state of one File call.
type fileRun struct {
	opts      Options
	client    *api.Client
	input     string
	report    string
	task      api.Task
	historyID int64
	// waitedForLock is set when another run held the task's lock first.
	waitedForLock bool
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
	if o.Grace <= 0 {
		o.Grace = DefaultGrace(o.Timeout)
	}
	o.Read.KeepRepeats = !o.Rule.DedupesInFile()
	start := o.Now()
	// Report is set once the report is written: a summary never names a
	// report that does not exist.
	sum = Summary{File: input, Rule: o.Rule, DryRun: o.DryRun, StartedAt: start}
	if o.Attention != "" {
		o.Read.KeepCells = true // the attention file repeats the input's cells
	}
	r := &fileRun{opts: o, client: client, input: input, report: o.Report}
	defer func() {
		sum.FinishedAt = o.Now()
		sum.ElapsedMS = sum.FinishedAt.Sub(start).Milliseconds()
		sum.ExitCode = int(CodeOf(err))
		if err != nil {
			sum.Error = err.Error()
		}
		r.finish(ctx, sum, err)
	}()
	if reports.SameFile(r.report, input) {
		return sum, Usagef("--report %s is the input file itself: choose another report path", r.report)
	}

	// The import pass reads to the end even once the run is stopped, so
	// that every row is in the report (the unsent ones skipped).
	rd, err := importer.Open(context.WithoutCancel(ctx), input, o.Read)
	if err != nil {
		return sum, WithReadHint(err, input)
	}
	defer rd.Close()
	r.describe(&sum, rd)

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

	// The report exists (as a temp file beside its path) before any call.
	words := reports.Options{Translate: i18n.Reasons(o.Lang)}
	rep, err := reports.CreateWith(r.report, o.ReportFormat, words)
	if err != nil {
		return sum, err
	}
	defer rep.Abort()
	var out pipeline.RecordWriter = rep
	var att *reports.AttentionWriter
	if o.Attention != "" {
		if reports.SameFile(o.Attention, input) {
			return sum, Usagef("--attention %s is the input file itself: choose another path", o.Attention)
		}
		if att, err = reports.CreateAttentionWith(o.Attention, o.AttentionFormat, rd.Header(), numberColumn(rd), words); err != nil {
			return sum, err
		}
		defer att.Abort()
		out = both{rep, att}
	}
	var src pipeline.RecordReader = rd
	if rd.IsAttention() {
		src = &attentionRows{rd: rd, force: o.Force}
	}

	popts := pipeline.Options{
		BatchSize: o.BatchSize, Concurrency: max(o.Concurrency, 1), DrainTimeout: o.DrainTimeout,
		Progress: o.Progress, SendNothing: refused != "", SkipReason: refused,
	}
	if pre != nil {
		popts.ExpectValid = pre.valid
	}
	var (
		led     *journal.Journal
		tracker *settle.Tracker
		meta    journal.Meta
		runBase int
	)
	sending := !o.DryRun && refused == ""
	if sending {
		task, err := resolve(ctx)
		if err != nil {
			return sum, err
		}
		r.task = task
		sum.TaskID = task.TaskID
		release, err := r.lockTask(ctx)
		if err != nil {
			return sum, err
		}
		defer release()
		if r.waitedForLock {
			// Another import may have changed the task while we waited.
			if n, err := countNow(client, task.TaskID)(ctx); err == nil {
				task.NumberTotal = n
			}
		}
		before := task.NumberTotal
		sum.NumberTotalBefore = &before
		sum.SHA256 = pre.sha256
		if err := r.checkContent(ctx, pre.sha256); err != nil {
			return sum, err
		}
		if o.CheckAgents {
			if err := pre.checkAgents(ctx, client, input, r.warn); err != nil {
				r.warn(fmt.Sprintf("could not check agents: %v", err))
			}
		}
		j, unlock, firstBefore, base, err := r.openJournal(ctx, rd, pre.sha256, before)
		if err != nil {
			return sum, err
		}
		defer unlock()
		defer j.Close()
		led, runBase = j, base
		if _, err := rep.RemoveStale(); err != nil {
			r.warn(err.Error())
		}
		if err := r.begin(ctx, pre.sha256, firstBefore, start); err != nil {
			return sum, err
		}
		sum.HistoryID = r.historyID
		meta = journal.Meta{Input: input, InputSHA256: pre.sha256, Report: r.report, TaskID: task.TaskID, TaskName: task.TaskName,
			Rule: o.Rule, BatchSize: o.BatchSize, Operator: o.Operator, Mapping: sum.Mapping, NumberTotalBefore: firstBefore, StartedAt: start}
		// Written before the first call, so that even a run killed at once
		// can be rolled back; rewritten with the final counts at the end.
		if err := journal.WriteMeta(r.report, meta); err != nil {
			return sum, fmt.Errorf("write report side file: %w", err)
		}
		ucfg := upload.Config{
			TaskID: task.TaskID, Rule: o.Rule, Operator: o.Operator,
			MaxRetries: o.MaxRetries, InitialInterval: o.RetryInitial, MaxInterval: o.RetryMax,
			Attempt: j.Attempt, Now: o.Now,
		}
		slots := o.Concurrency
		if slots == 0 {
			auto := &autoInFlight{rate: o.Rate, limit: MaxAutoConcurrency, warn: r.warn}
			slots, popts.InFlight, ucfg.Observe = MaxAutoConcurrency, auto.inFlight, auto.observe
		}
		popts.Concurrency = slots
		if o.Rule.CountsEveryRow() {
			// Batches that can be in doubt together never look alike: each
			// slot has its own size, and the count names the set that landed.
			popts.Sizes, popts.Alone = settle.Sizes(o.BatchSize, slots), true
			tracker = settle.NewTracker(countNow(client, task.TaskID), base, settle.TrackerOptions{Grace: o.Grace, Now: o.Now})
			ucfg.Tracker = tracker
		}
		up, err := upload.New(client, ucfg)
		if err != nil {
			return sum, err
		}
		popts.Sender, popts.Ledger, popts.Planned = up, j, j.Planned
	}

	res, runErr := pipeline.Run(ctx, src, out, popts)
	sum.Counts = res.Counts
	if tracker != nil {
		sum.SettledByCount = tracker.SettledByCount()
	}
	if runErr == nil && pre != nil {
		// The bytes imported must be the bytes checked and hashed.
		if sha, err := rd.SHA256(); err == nil && sha != pre.sha256 {
			runErr = fmt.Errorf("%s changed while it was imported (its content is not what was checked before sending): wait until it is fully written, then run again with --resume: %w", input, importer.ErrFileChanged)
		}
	}
	if att != nil {
		if err := att.Commit(); err != nil {
			return sum, err
		}
		sum.Attention = o.Attention
	}
	if err := rep.Commit(); err != nil {
		if led != nil {
			return sum, WithHint(fmt.Errorf("%w; the journal %s keeps the record of what was sent", err, journal.Path(r.report)),
				"free space (or fix the folder), then run the same command with --resume to write the report")
		}
		return sum, err
	}
	sum.Report = o.Report

	if led != nil && res.Stopped == nil && runErr == nil {
		if err := led.Complete(); err != nil {
			return sum, err
		}
	}
	var mismatch error
	if sending {
		// The server may drop repeats silently: its count is the truth.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Timeout)
		after, err := tasks.ByID(actx, client, r.task.TaskID)
		cancel()
		if err == nil {
			n := after.NumberTotal
			sum.NumberTotalAfter = &n
			meta.NumberTotalAfter = n
			sum.KeptByServer = n - runBase
			mismatch = r.reconcile(&sum, res.Counts, n-runBase)
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
	case refused != "" && o.MaxInvalid.Set() && pre != nil:
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
	case mismatch != nil:
		return sum, mismatch
	case o.DryRun && res.Valid == 0:
		// A nightly check of an empty or broken file must not look green.
		return sum, &Error{Code: CodeIncomplete, Err: fmt.Errorf("%s: no valid row in %d rows read; see %s", input, res.Rows, r.report)}
	}
	return sum, nil
}

// reconcile compares the task's growth during this run with what this run
// imported. Under rule 2 every imported row adds one number: any other
// growth means rows twice, another writer, or rows missing, and is a
// warning, a line of the summary and exit status 3. Under rules 0 and 1
// the server drops numbers it already holds, so a smaller growth is
// normal and only said.
func (r *fileRun) reconcile(sum *Summary, c pipeline.Counts, grew int) error {
	low, high := c.ImportedThisRun, c.ImportedThisRun+c.UnconfirmedThisRun
	if !r.opts.Rule.CountsEveryRow() {
		return nil
	}
	if grew >= low && grew <= high {
		return nil
	}
	var what string
	switch {
	case grew > high:
		what = fmt.Sprintf("the task grew by %d numbers during this run, %d more than the %d rows it imported: rows imported twice, or another import into the same task meanwhile", grew, grew-high, high)
	default:
		what = fmt.Sprintf("the task grew by %d numbers during this run, %d fewer than the %d rows reported imported: rows missing from the task, or numbers deleted from it meanwhile", grew, low-grew, low)
	}
	sum.Mismatch = what
	r.warn(r.input + ": " + what)
	return &Error{Code: CodeIncomplete, Err: fmt.Errorf("%s: %s; check the task in the 7moor console (report: %s)", r.input, what, r.report)}
}

// DefaultGrace is the grace period derived from the request timeout: an
// attempt may still be running on the server for a while after the client
// gave up on it. It is an assumption, not a proof (the API has no
// idempotency key); --grace overrides it.
func DefaultGrace(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return 3 * timeout
}

// WithReadHint adds what to try for the reader's common refusals.
func WithReadHint(err error, input string) error {
	switch {
	case errors.Is(err, importer.ErrNoNumberColumn) && !containsAny(err.Error(), "--map", "--sheet", "--header-row", "--no-header"):
		return WithHint(err, "m7import import --map number=HEADER "+input)
	case errors.Is(err, importer.ErrUnsupportedFormat) && !strings.Contains(err.Error(), "save"):
		return WithHint(err, "open it in Excel or WPS and save it as .xlsx or .csv")
	}
	return err
}

// describe fills the summary with what the reader detected and says it:
// the sheet, the header row, which column feeds each field, and the
// reader's notes (rows skipped above the header, fallback columns,
// repeated headers).
func (r *fileRun) describe(sum *Summary, rd *importer.Reader) {
	sum.Sheet, sum.HeaderRow, sum.Ignored = rd.Sheet(), rd.HeaderRow(), rd.Ignored()
	sum.Mapping = map[string]string{}
	var parts []string
	for _, m := range rd.Mapping() {
		sum.Mapping[string(m.Field)] = m.Header
		h := m.Header
		if m.Column < 0 {
			h = "(none)"
		}
		parts = append(parts, string(m.Field)+" ← "+h)
	}
	line := r.input + ": " + strings.Join(parts, ", ")
	if len(sum.Ignored) > 0 {
		line += "; ignored: " + strings.Join(sum.Ignored, ", ")
	}
	r.notice(line)
	for _, n := range rd.Notes() {
		r.notice(r.input + ": " + n)
	}
}

// numberColumn is the input column the number comes from (-1: none).
func numberColumn(rd *importer.Reader) int {
	for _, m := range rd.Mapping() {
		if m.Field == importer.FieldNumber {
			return m.Column
		}
	}
	return -1
}

// both writes every record to the report and to the attention file.
type both struct {
	report    pipeline.RecordWriter
	attention *reports.AttentionWriter
}

func (b both) Write(rec importer.Record) error {
	if err := b.report.Write(rec); err != nil {
		return err
	}
	return b.attention.Write(rec)
}

// attentionRows reads an attention file dropped back in after fixing:
// rows that were invalid (now fixed), failed or skipped go again; rows
// that were duplicate or unconfirmed need a person's decision (sending
// them could import a number twice) and are reported skipped, unless
// Force (NOTES: the attention file and re-importing it).
type attentionRows struct {
	rd    *importer.Reader
	force bool
}

func (a *attentionRows) Next() (importer.Record, error) {
	rec, err := a.rd.Next()
	if err != nil || a.force || rec.Status != importer.Valid {
		return rec, err
	}
	switch rec.PriorStatus {
	case importer.Duplicate, importer.Unconfirmed:
		rec.Status = importer.Skipped
		rec.Reason = fmt.Sprintf("needs a decision: this row was %s in the earlier import (row %d there); add --force to send it anyway", rec.PriorStatus, rec.PriorRow)
	}
	return rec, nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
