package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasks"
	"github.com/m7import/m7import/upload"
)

const importUsage = `
Usage: m7import import FILE... (--task-id ID | --task-name NAME [--create-task]) [flags]
       m7import validate FILE... [flags]

Reads each lead file (CSV/TSV/TXT in UTF-8, GBK/GB18030 or UTF-16; XLSX/XLSM),
normalizes every phone number, sends the valid rows to the task in batches
of at most 2000, and writes one outcome per input row to a results report
(default: next to the input, NAME.results.csv). validate does the same
reading and checking, sends nothing and needs no credentials.

Report columns: row,name,number,remark,agent_number,normalized_number,status,reason,batch,request_id
Statuses: imported, invalid, duplicate, failed, unconfirmed, skipped, valid (dry run)

Examples:
  M7_APPKEY=... M7_SECRET_FILE=~/.m7secret m7import import leads.xlsx --task-name 十一月回访 --create-task
  m7import import leads.csv --task-id 6ab971b0-6005-452e-9328-0883299619eb --rule 2 --json
  m7import validate leads.csv --map number=联系方式,name=客户 --max-invalid 5%

Exit codes: 0 every valid row imported (dry run: file read); 1 could not start or
stopped; 2 usage error; 3 finished but some rows failed, unconfirmed or skipped;
4 refused by --max-invalid.
`

// importOptions are the import and validate command's settings.
type importOptions struct {
	files []string
	api   apiFlags

	taskID, taskName  string
	createTask        bool
	agents, queues    listFlag
	creator, descr    string
	rule              int
	operator          string
	batchSize         int
	rate              float64
	burst             int
	concurrency       int
	maxRetries        int
	drainTimeout      time.Duration
	reportPath        string
	reportFormat      string
	dryRun            bool
	jsonOut, quiet    bool
	maxInvalid        string
	sheet, encoding   string
	mapSpec           string
	noHeader          bool
	region, policy    string
	checkAgents       bool
	resume            bool
	resendUnconfirmed bool
	force             bool
	retryInitial      time.Duration
	retryMax          time.Duration
	maxInvalidLimit   limit
	readOpts          importer.Options
}

func parseImportFlags(args []string, io stdio, validate bool) (*importOptions, error) {
	o := &importOptions{}
	name := "import"
	if validate {
		name = "validate"
	}
	fs := newFlagSet(name, importUsage, io.Err)
	o.api.register(fs)
	fs.StringVar(&o.taskID, "task-id", "", "id of the task to import into")
	fs.StringVar(&o.taskName, "task-name", "", "name of the task to import into (looked up)")
	fs.BoolVar(&o.createTask, "create-task", false, "create --task-name first when it does not exist")
	fs.Var(&o.agents, "agents", "with --create-task: agent numbers of the new task, comma-separated")
	fs.Var(&o.queues, "queues", "with --create-task: skill-group numbers of the new task, comma-separated")
	fs.StringVar(&o.creator, "creator", "", "with --create-task: agent number of the task's creator")
	fs.StringVar(&o.descr, "description", "", "with --create-task: the task's description")
	fs.IntVar(&o.rule, "rule", 1, "dedupe rule: 0 against all tasks, 1 against this task, 2 none")
	fs.StringVar(&o.operator, "operator", "", "agent number recorded as the importer (the request's agentNumber)")
	fs.IntVar(&o.batchSize, "batch-size", chunker.MaxSize, "rows per import call, at most 2000")
	fs.Float64Var(&o.rate, "rate", 5, "import calls per second at most (0: no limit)")
	fs.IntVar(&o.burst, "burst", 1, "calls that may go at once above --rate")
	fs.IntVar(&o.concurrency, "concurrency", 2, "batches in flight at once")
	fs.IntVar(&o.maxRetries, "max-retries", 5, "resends of a batch after a retryable failure")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "after Ctrl-C, how long batches in flight may take to finish")
	fs.StringVar(&o.reportPath, "report", "", "results report path (default NAME.results.csv next to the input)")
	fs.StringVar(&o.reportFormat, "report-format", "", "csv, xlsx or jsonl (default: from --report's extension, else csv)")
	fs.BoolVar(&o.dryRun, "dry-run", validate, "read, check and report; send nothing")
	fs.BoolVar(&o.jsonOut, "json", false, "print a JSON summary per file on stdout")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress and no summary on stderr")
	fs.StringVar(&o.maxInvalid, "max-invalid", "", "send nothing when more rows than N (or P%) are invalid")
	fs.StringVar(&o.sheet, "sheet", "", "XLSX sheet to read (default: the first visible one)")
	fs.StringVar(&o.encoding, "encoding", "", "text encoding: utf-8, gbk, gb18030 or utf-16 (default: detected)")
	fs.StringVar(&o.mapSpec, "map", "", "header of each field, e.g. number=联系方式,name=客户")
	fs.BoolVar(&o.noHeader, "no-header", false, "the file has no header: columns are name,number,remark,agentNumber")
	fs.StringVar(&o.region, "region", "CN", "region of numbers written without a country code")
	fs.StringVar(&o.policy, "number-policy", "strict", "strict (libphonenumber validity) or loose (3-20 digits)")
	fs.BoolVar(&o.checkAgents, "check-agents", true, "warn before sending about agent numbers the account does not have or has disabled (files with an agent column)")
	fs.BoolVar(&o.resume, "resume", false, "finish an interrupted import from its journal, sending no row twice")
	fs.BoolVar(&o.resendUnconfirmed, "resend-unconfirmed", false, "with --resume and --rule 2: resend batches whose fate is unknown (may import rows twice)")
	fs.BoolVar(&o.force, "force", false, "import a file again into a task it was already imported into")
	fs.DurationVar(&o.retryInitial, "retry-initial", 500*time.Millisecond, "first wait between attempts (doubles up to --retry-max)")
	fs.DurationVar(&o.retryMax, "retry-max", 30*time.Second, "longest wait between attempts")
	files, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	o.files = files
	return o, o.check(validate)
}

// check validates the flags' values and fills the derived settings.
func (o *importOptions) check(validate bool) error {
	if len(o.files) == 0 {
		return usagef("no input file: m7import %s FILE...", map[bool]string{true: "validate", false: "import"}[validate])
	}
	if o.batchSize < 1 || o.batchSize > chunker.MaxSize {
		return usagef("--batch-size %d: must be between 1 and %d (the API's limit)", o.batchSize, chunker.MaxSize)
	}
	if o.rule < 0 || o.rule > 2 {
		return usagef("--rule %d: must be 0 (all tasks), 1 (this task) or 2 (no dedupe)", o.rule)
	}
	if o.concurrency < 1 || o.concurrency > 32 {
		return usagef("--concurrency %d: must be between 1 and 32", o.concurrency)
	}
	if o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0) {
		return usagef("--rate %v: must be a number of calls per second, 0 for no limit", o.rate)
	}
	if o.burst < 1 {
		return usagef("--burst %d: must be at least 1", o.burst)
	}
	if o.maxRetries < 0 {
		return usagef("--max-retries %d: must not be negative", o.maxRetries)
	}
	if len(o.files) > 1 && o.reportPath != "" {
		return usagef("--report names one file but %d inputs were given: each input gets its own report next to it", len(o.files))
	}
	if !o.dryRun {
		switch {
		case o.taskID != "" && o.taskName != "":
			return usagef("give --task-id or --task-name, not both")
		case o.taskID == "" && o.taskName == "":
			return usagef("import needs --task-id ID or --task-name NAME (or use validate to only check the file)")
		case o.createTask && o.taskName == "":
			return usagef("--create-task needs --task-name")
		}
	}
	var err error
	if o.maxInvalidLimit, err = parseLimit(o.maxInvalid); err != nil {
		return usagef("--max-invalid %q: %v", o.maxInvalid, err)
	}
	if o.reportFormat != "" {
		if _, err = reports.ParseFormat(o.reportFormat); err != nil {
			return usagef("--report-format: %v", err)
		}
	}
	policy, err := importer.ParsePolicy(o.policy)
	if err != nil {
		return usagef("--number-policy: %v", err)
	}
	var fields map[importer.Field]string
	if o.mapSpec != "" {
		if fields, err = importer.ParseMap(o.mapSpec); err != nil {
			return usagef("--map: %v", err)
		}
	}
	switch strings.ToLower(o.encoding) {
	case "", "utf-8", "utf8", "gbk", "gb18030", "utf-16", "utf16":
	default:
		return usagef("--encoding %q: must be utf-8, gbk, gb18030 or utf-16", o.encoding)
	}
	o.readOpts = importer.Options{
		Sheet: o.sheet, Encoding: o.encoding, Map: fields, NoHeader: o.noHeader,
		Region: strings.ToUpper(o.region), Policy: policy, Rule: o.rule,
	}
	return nil
}

// limit is a --max-invalid threshold: a count or a percentage of rows.
type limit struct {
	set     bool
	count   int
	percent float64
	isPct   bool
	text    string
}

func parseLimit(s string) (limit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return limit{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 || math.IsNaN(v) {
			return limit{}, errors.New("want a count like 50 or a percentage like 5%")
		}
		return limit{set: true, percent: v, isPct: true, text: s}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return limit{}, errors.New("want a count like 50 or a percentage like 5%")
	}
	return limit{set: true, count: n, text: s}, nil
}

// exceeded reports whether invalid of rows breaks the limit.
func (l limit) exceeded(invalid, rows int) bool {
	if !l.set {
		return false
	}
	if l.isPct {
		return rows > 0 && float64(invalid)*100 > l.percent*float64(rows)
	}
	return invalid > l.count
}

// summary is the per-file outcome printed at the end (and as --json).
type summary struct {
	File   string `json:"file"`
	Report string `json:"report"`
	TaskID string `json:"task_id"`
	Rule   int    `json:"rule"`
	DryRun bool   `json:"dry_run"`
	pipeline.Counts
	ElapsedMS         int64  `json:"elapsed_ms"`
	NumberTotalBefore *int   `json:"number_total_before"`
	NumberTotalAfter  *int   `json:"number_total_after"`
	ExitCode          int    `json:"exit_code"`
	Error             string `json:"error,omitempty"`
}

func runImportCmd(ctx context.Context, args []string, io stdio, validate bool) error {
	o, err := parseImportFlags(args, io, validate)
	if err != nil {
		return err
	}
	return runImport(ctx, o, io)
}

// importer is the state shared by the files of one command line.
type importRun struct {
	o      *importOptions
	io     stdio
	client *api.Client
	task   *api.Task
}

// runImport imports (or validates) each file in turn. The command's error
// is the worst of the files'.
func runImport(ctx context.Context, o *importOptions, io stdio) error {
	r := &importRun{o: o, io: io}
	if !o.dryRun {
		var lim *rate.Limiter
		if o.rate > 0 {
			// One limiter in the client paces every call (task lookups,
			// agent check, imports, retries, settlement counts): the
			// account's rate limit counts them all.
			lim = rate.NewLimiter(rate.Limit(o.rate), o.burst)
		}
		c, err := o.api.client(io, lim)
		if err != nil {
			return err
		}
		r.client = c
	}
	var worst error
	for _, f := range o.files {
		err := r.file(ctx, f)
		if err != nil && (worst == nil || severity(err) > severity(worst)) {
			worst = err
		}
		if err != nil && !o.jsonOut && !errors.Is(err, errSilent) && len(o.files) > 1 {
			report(err, io)
		}
		if ctx.Err() != nil || (err != nil && errors.Is(err, errStopAll)) {
			break
		}
	}
	if worst != nil && len(o.files) > 1 && !errors.Is(worst, errSilent) {
		// Each file's error was printed as it happened.
		return &codeError{code: exitFor(worst), err: errSilent}
	}
	return worst
}

// errStopAll marks a failure that dooms the remaining files too.
var errStopAll = errors.New("stop")

func severity(err error) int {
	switch exitFor(err) {
	case exitFailed:
		return 4
	case exitRefused:
		return 3
	case exitIncomplete:
		return 2
	case exitOK:
		return 0
	}
	return 1
}

// file imports one input file; its summary is printed whatever happens.
func (r *importRun) file(ctx context.Context, input string) (err error) {
	start := time.Now()
	sum := summary{File: input, Rule: r.o.rule, DryRun: r.o.dryRun}
	defer func() {
		sum.ElapsedMS = time.Since(start).Milliseconds()
		sum.ExitCode = int(exitFor(err))
		if err != nil && !errors.Is(err, errSilent) {
			sum.Error = err.Error()
		}
		r.printSummary(sum, err)
	}()

	reportPath, format, err := sideReportPath(input, r.o.reportPath, r.o.reportFormat, ".results")
	if err != nil {
		return err
	}
	sum.Report = reportPath
	if samePath(reportPath, input) {
		return usagef("--report %s is the input file itself: choose another report path", reportPath)
	}

	rd, err := importer.Open(ctx, input, r.o.readOpts)
	if err != nil {
		return withReadHint(err, input)
	}
	defer rd.Close()

	// --max-invalid needs the whole file's count before anything is sent.
	refused := ""
	if r.o.maxInvalidLimit.set {
		rows, invalid, err := countInvalid(ctx, input, r.o.readOpts)
		if err != nil {
			return err
		}
		if r.o.maxInvalidLimit.exceeded(invalid, rows) {
			refused = fmt.Sprintf("not sent: %d of %d rows invalid, over --max-invalid %s", invalid, rows, r.o.maxInvalidLimit.text)
		}
	}

	var up *upload.Uploader
	var meta journal.Meta
	if !r.o.dryRun && refused == "" {
		task, err := r.resolveTask(ctx)
		if err != nil {
			return err
		}
		sum.TaskID = task.TaskID
		before := task.NumberTotal
		sum.NumberTotalBefore = &before
		ucfg := upload.Config{
			TaskID: task.TaskID, Rule: r.o.rule, Operator: r.o.operator,
			MaxRetries: r.o.maxRetries, InitialInterval: r.o.retryInitial, MaxInterval: r.o.retryMax,
		}
		if r.o.rule == 2 {
			ucfg.Settle = upload.NewSettlement(func(ctx context.Context) (int, error) {
				t, err := tasks.ByID(ctx, r.client, task.TaskID)
				return t.NumberTotal, err
			}, before)
		}
		up, err = upload.New(r.client, ucfg)
		if err != nil {
			return err
		}
		meta = journal.Meta{Input: input, Report: reportPath, TaskID: task.TaskID, TaskName: task.TaskName,
			Rule: r.o.rule, BatchSize: r.o.batchSize, Operator: r.o.operator, NumberTotalBefore: before, StartedAt: start}
	}

	if up != nil && r.o.checkAgents {
		if _, err := checkAgents(ctx, r.client, input, r.o.readOpts, r.io.Err); err != nil {
			fmt.Fprintf(r.io.Err, "warning: could not check agents: %v\n", err)
		}
	}

	var led *journal.Journal
	if up != nil {
		j, unlock, before, err := r.openJournal(ctx, input, reportPath, rd, sum.NumberTotalBefore)
		if err != nil {
			return err
		}
		defer unlock()
		defer j.Close()
		led, meta.NumberTotalBefore = j, before
	}

	out, err := reports.Create(reportPath, format)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	defer out.Abort()

	view := newProgressView(r.io.Err, isTerminal(r.io.Err), r.o.quiet || r.o.jsonOut && !isTerminal(r.io.Err), filepath.Base(input), r.o.dryRun)
	popts := pipeline.Options{
		BatchSize: r.o.batchSize, Concurrency: r.o.concurrency, DrainTimeout: r.o.drainTimeout,
		Progress: view.update, SendNothing: refused != "", SkipReason: refused,
	}
	if up != nil {
		popts.Sender, popts.Ledger = up, led
	}
	res, runErr := pipeline.Run(ctx, rd, out, popts)
	view.finish()
	sum.Counts = res.Counts
	if err := out.Commit(); err != nil {
		return fmt.Errorf("write report %s: %w", reportPath, err)
	}

	if led != nil && res.Stopped == nil && runErr == nil {
		if err := led.Complete(); err != nil {
			return err
		}
	}
	if up != nil {
		// The server may drop repeats silently: its count is the truth.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.api.timeout)
		after, err := tasks.ByID(actx, r.client, up.TaskID())
		cancel()
		if err == nil {
			n := after.NumberTotal
			sum.NumberTotalAfter = &n
			meta.NumberTotalAfter = n
		}
		meta.Imported, meta.Unconfirmed, meta.FinishedAt = res.Imported, res.Unconfirmed, time.Now()
		if err := journal.WriteMeta(reportPath, meta); err != nil {
			return fmt.Errorf("write report side file: %w", err)
		}
	}

	switch {
	case runErr != nil:
		// The report holds every row read before the problem, and what
		// happened to each: nothing sent goes unaccounted for.
		return fmt.Errorf("%w (the report %s has the %d rows read before it)", runErr, reportPath, res.Rows)
	case refused != "":
		return &codeError{code: exitRefused, err: errors.New(input + ": " + strings.TrimPrefix(refused, "not sent: "))}
	case res.Stopped != nil:
		err := fmt.Errorf("%s: stopped: %w", input, res.Stopped)
		if api.IsAuth(res.Stopped) {
			return &hintError{err: fmt.Errorf("%w: %w", err, errStopAll), hint: "check M7_APPKEY and M7_SECRET (the secret is never printed)"}
		}
		return err
	case res.Unconfirmed > 0 && r.o.rule == 2:
		return &codeError{code: exitIncomplete, err: fmt.Errorf("%s: %d rows unconfirmed (their batch may or may not have been imported; not resent under rule 2); %d failed, %d skipped; see %s", input, res.Unconfirmed, res.Failed, res.Skipped, reportPath)}
	case res.Failed+res.Unconfirmed+res.Skipped > 0:
		return &codeError{code: exitIncomplete, err: fmt.Errorf("%s: %d failed, %d unconfirmed, %d skipped rows; see %s", input, res.Failed, res.Unconfirmed, res.Skipped, reportPath)}
	}
	return nil
}

// countInvalid reads the file once to count its rows and invalid rows.
func countInvalid(ctx context.Context, path string, opts importer.Options) (rows, invalid int, err error) {
	rd, err := importer.Open(ctx, path, opts)
	if err != nil {
		return 0, 0, err
	}
	defer rd.Close()
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return rows, invalid, nil
		}
		if err != nil {
			return rows, invalid, err
		}
		rows++
		if rec.Status == importer.Invalid {
			invalid++
		}
	}
}

// resolveTask finds (or creates) the task once per command line.
func (r *importRun) resolveTask(ctx context.Context) (api.Task, error) {
	var (
		t   api.Task
		err error
	)
	switch {
	case r.o.taskID != "":
		t, err = tasks.ByID(ctx, r.client, r.o.taskID)
	default:
		t, err = tasks.ByName(ctx, r.client, r.o.taskName)
		if errors.Is(err, tasks.ErrNotFound) && r.o.createTask {
			if r.task != nil {
				return *r.task, nil
			}
			t, err = tasks.Create(ctx, r.client, api.CreateTaskRequest{
				TaskName: r.o.taskName, Description: r.o.descr, AgentNumberList: r.o.agents,
				QueueNumberList: r.o.queues, AgentNumber: r.o.creator,
			}, false)
			if err == nil && !r.o.quiet {
				fmt.Fprintf(r.io.Err, "created task %q (id %s)\n", t.TaskName, t.TaskID)
			}
		} else if errors.Is(err, tasks.ErrNotFound) {
			err = &hintError{err: err, hint: "add --create-task to create it, or m7import task list"}
		}
	}
	if err != nil {
		if api.IsAuth(err) {
			return t, &hintError{err: fmt.Errorf("%w: %w", err, errStopAll), hint: "check M7_APPKEY and M7_SECRET (the secret is never printed)"}
		}
		return t, fmt.Errorf("%w: %w", err, errStopAll)
	}
	r.task = &t
	return t, nil
}

// withReadHint adds what to try for the reader's common refusals.
func withReadHint(err error, input string) error {
	switch {
	case errors.Is(err, importer.ErrNoNumberColumn) && !strings.Contains(err.Error(), "--map"):
		return &hintError{err: err, hint: "m7import import --map number=HEADER " + input}
	case errors.Is(err, importer.ErrUnsupportedFormat) && !strings.Contains(err.Error(), "save"):
		return &hintError{err: err, hint: "open it in Excel or WPS and save it as .xlsx or .csv"}
	}
	return err
}

func (r *importRun) printSummary(s summary, err error) {
	if r.o.jsonOut {
		b, _ := json.Marshal(s)
		fmt.Fprintf(r.io.Out, "%s\n", b)
		return
	}
	if r.o.quiet || s.Rows == 0 && err != nil {
		return
	}
	w := r.io.Err
	fmt.Fprintf(w, "%s: %d rows read", s.File, s.Rows)
	if s.DryRun {
		fmt.Fprintf(w, ", %d valid, %d invalid, %d duplicate\n", s.Valid, s.Invalid, s.Duplicate)
	} else {
		fmt.Fprintf(w, ": %d imported, %d invalid, %d duplicate, %d failed, %d unconfirmed, %d skipped\n",
			s.Imported, s.Invalid, s.Duplicate, s.Failed, s.Unconfirmed, s.Skipped)
		fmt.Fprintf(w, "  %d batches, %d retries, %s", s.Batches, s.Retries, (time.Duration(s.ElapsedMS) * time.Millisecond).Round(time.Millisecond))
		if s.NumberTotalBefore != nil && s.NumberTotalAfter != nil {
			added := *s.NumberTotalAfter - *s.NumberTotalBefore
			fmt.Fprintf(w, "; task %s numbers %d → %d (+%d)", s.TaskID, *s.NumberTotalBefore, *s.NumberTotalAfter, added)
			if added < s.Imported {
				fmt.Fprintf(w, " — the server kept %d of %d imported rows (it drops numbers it already holds under rule %d)", added, s.Imported, s.Rule)
			}
		}
		fmt.Fprintln(w)
	}
	if s.Report != "" && s.Rows > 0 {
		fmt.Fprintf(w, "  report: %s\n", s.Report)
	}
}
