package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/datadir"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasklock"
)

const importUsage = `
Usage: m7import import FILE... (--task-id ID | --task-name NAME [--create-task]) [flags]

Reads each lead file (CSV/TSV/TXT in UTF-8, GBK/GB18030 or UTF-16; XLSX/XLSM),
normalizes every phone number, sends the valid rows to the task in batches
of at most 2000, and writes one outcome per input row to a results report
(default: next to the input, NAME.results.csv). Flags may come before or
after the files. To only check a file, see: m7import validate --help

Report columns: row,name,number,remark,agent_number,normalized_number,status,reason,batch,request_id
Statuses: imported, invalid, duplicate, failed, unconfirmed, skipped

Examples:
  M7_APPKEY=... M7_SECRET_FILE=~/.m7secret m7import import leads.xlsx --task-name 十一月回访 --create-task
  m7import import leads.csv --task-id 6ab971b0-6005-452e-9328-0883299619eb --rule 2 --json
  m7import import leads.csv --task-id ID --map number=联系方式,name=客户 --max-invalid 5% --attention fix.csv
  m7import import leads.csv --task-id ID --resume      (finish a run that was stopped)

Exit codes: 0 every valid row imported; 1 could not start or stopped; 2 usage
error; 3 finished but some rows failed, unconfirmed or skipped (or, rule 2, the
task's count does not match); 4 refused by --max-invalid: nothing was sent.
`

const validateUsage = `
Usage: m7import validate FILE... [flags]

Reads and checks each lead file exactly as import would, sends nothing and
needs no credentials. Every row's outcome (valid, invalid or duplicate, with
the reason) goes to NAME.check.csv next to the input, so a check never
replaces an import's NAME.results.csv.

Examples:
  m7import validate leads.xlsx
  m7import validate leads.csv --map number=联系方式,name=客户 --max-invalid 5%
  m7import validate export.xlsx --sheet 客户 --header-row 3 --attention fix.csv --json

Exit codes: 0 the file was read and has valid rows; 1 could not read it;
2 usage error; 3 no row is valid; 4 more invalid rows than --max-invalid.
`

// readFlags and reportFlags are the flag groups import and validate share.
var (
	readFlags   = flagGroup{"Reading the file", []string{"map", "sheet", "header-row", "no-header", "encoding", "region", "number-policy"}}
	reportFlags = flagGroup{"Report and output", []string{"report", "report-format", "attention", "max-invalid", "json", "quiet", "lang"}}
)

// importFlagGroups order import's --help by what the flags are for.
func importFlagGroups() []flagGroup {
	return []flagGroup{
		{"Task", []string{"task-id", "task-name", "create-task", "agents", "queues", "creator", "description", "rule", "operator"}},
		readFlags,
		reportFlags,
		{"Checks before sending", []string{"check-agents", "dry-run", "force"}},
		{"Sending", []string{"batch-size", "rate", "burst", "concurrency", "max-retries", "retry-initial", "retry-max", "timeout", "grace", "drain-timeout"}},
		{"Resuming a stopped run", []string{"resume", "resend-unconfirmed", "data-dir"}},
		{"Connection (the secret only from $M7_SECRET or a file)", []string{"appkey", "secret-file", "base-url", "secret"}},
	}
}

// importOptions are the import and validate command's settings.
type importOptions struct {
	files []string
	api   apiFlags
	// lang is --lang as given; langSet and langValue what it parsed to.
	lang      string
	langSet   bool
	langValue i18n.Lang

	taskID, taskName  string
	createTask        bool
	agents, queues    listFlag
	creator, descr    string
	rule              int
	operator          string
	batchSize         int
	rate              float64
	burst             int
	concurrency       string
	concurrencyValue  int
	grace             time.Duration
	dataDir           string
	attention         string
	headerRow         int
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
	maxInvalidLimit   job.Limit
	readOpts          importer.Options
	ruleValue         api.Rule
}

func parseImportFlags(args []string, io stdio, validate bool) (*importOptions, error) {
	o := &importOptions{}
	var fs *flag.FlagSet
	if validate {
		// The import-only settings keep their defaults, unseen.
		o.registerImport(flag.NewFlagSet("defaults", flag.ContinueOnError))
		o.dryRun = true
		// --secret is refused with a clear message, as everywhere, and
		// not listed.
		fs = newFlagSet("validate", validateUsage, io.Err, flagGroup{"Duplicates", []string{"rule"}}, readFlags, reportFlags, flagGroup{"", []string{"secret"}})
		fs.StringVar(&o.api.secretFlag, "secret", "", "not accepted: validate needs no secret")
	} else {
		fs = newFlagSet("import", importUsage, io.Err, importFlagGroups()...)
		o.registerImport(fs)
	}
	o.registerRead(fs, validate)
	files, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	o.files = files
	return o, o.check(validate)
}

// registerRead adds the flags that say how a file is read, checked and
// reported: import, validate and inbox share them.
func (o *importOptions) registerRead(fs *flag.FlagSet, validate bool) {
	// The rule decides whether repeats within the file are duplicates, so
	// a check reads with it exactly as the import would.
	fs.IntVar(&o.rule, "rule", 1, "dedupe rule: 0 against all tasks, 1 against this task, 2 none (repeats within the file are duplicates under 0 and 1)")
	fs.StringVar(&o.lang, "lang", "", "language of reasons, progress and summaries: zh or en (default: from LC_ALL, LC_MESSAGES or LANG; statuses stay English)")
	defaultReport := "NAME.results.csv"
	if validate {
		defaultReport = "NAME.check.csv"
	}
	fs.StringVar(&o.reportPath, "report", "", "report path (default "+defaultReport+" next to the input)")
	fs.StringVar(&o.reportFormat, "report-format", "", "csv, xlsx or jsonl (default: from --report's extension, else csv)")
	fs.BoolVar(&o.jsonOut, "json", false, "print a JSON summary per file on stdout")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress and no summary on stderr")
	fs.StringVar(&o.maxInvalid, "max-invalid", "", "refuse the file (exit 4, import sends nothing) when more rows than N (or P%) are invalid")
	fs.StringVar(&o.sheet, "sheet", "", "XLSX sheet to read (default: the first visible one with a phone-number column)")
	fs.StringVar(&o.encoding, "encoding", "", "text encoding: utf-8, gbk, gb18030 or utf-16 (default: detected)")
	fs.StringVar(&o.mapSpec, "map", "", "header of each field, e.g. number=联系方式,name=客户")
	fs.BoolVar(&o.noHeader, "no-header", false, "the file has no header: columns are name,number,remark,agentNumber")
	fs.IntVar(&o.headerRow, "header-row", 0, "the header is on row N (default: the first of the first 20 rows with a phone-number column)")
	fs.StringVar(&o.attention, "attention", "", "also write the rows that need attention, in the input's own columns plus row, status and reason, to this .csv or .xlsx file (fix them and import it again)")
	fs.StringVar(&o.region, "region", "CN", "region of numbers written without a country code")
	fs.StringVar(&o.policy, "number-policy", "strict", "strict (libphonenumber validity) or loose (3-20 digits)")
}

// register adds every import flag to fs (the inbox takes them all).
func (o *importOptions) register(fs *flag.FlagSet, validate bool) {
	o.registerImport(fs)
	o.registerRead(fs, validate)
}

// registerImport adds the flags only an import has: the task, sending,
// resuming and the connection.
func (o *importOptions) registerImport(fs *flag.FlagSet) {
	o.api.register(fs)
	fs.StringVar(&o.taskID, "task-id", "", "id of the task to import into")
	fs.StringVar(&o.taskName, "task-name", "", "name of the task to import into (looked up)")
	fs.BoolVar(&o.createTask, "create-task", false, "create --task-name first when it does not exist")
	fs.Var(&o.agents, "agents", "with --create-task: agent numbers of the new task, comma-separated")
	fs.Var(&o.queues, "queues", "with --create-task: skill-group numbers of the new task, comma-separated")
	fs.StringVar(&o.creator, "creator", "", "with --create-task: agent number of the task's creator")
	fs.StringVar(&o.descr, "description", "", "with --create-task: the task's description")
	fs.StringVar(&o.operator, "operator", "", "agent number recorded as the importer (the request's agentNumber)")
	fs.IntVar(&o.batchSize, "batch-size", chunker.MaxSize, "rows per import call, at most 2000")
	fs.Float64Var(&o.rate, "rate", 5, "import calls per second at most (0: no limit)")
	fs.IntVar(&o.burst, "burst", 1, "calls that may go at once above --rate")
	fs.StringVar(&o.concurrency, "concurrency", "auto", "batches in flight at once: auto (as many as --rate and the server's latency need, up to 8) or a number")
	fs.DurationVar(&o.grace, "grace", 0, "rule 2: how long the server may still be working on a request after it was sent; a batch the task's count shows as not landed is resent only after it (default 3× --timeout)")
	fs.IntVar(&o.maxRetries, "max-retries", 5, "resends of a batch after a retryable failure")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "after Ctrl-C, how long batches in flight may take to finish")
	fs.BoolVar(&o.dryRun, "dry-run", false, "read, check and report like validate; send nothing")
	fs.StringVar(&o.dataDir, "data-dir", "", "where the import history and the per-task locks live (default $M7_DATA_DIR, else $XDG_DATA_HOME/m7import or ~/.local/share/m7import)")
	fs.BoolVar(&o.checkAgents, "check-agents", true, "warn before sending about agent numbers the account does not have or has disabled (files with an agent column)")
	fs.BoolVar(&o.resume, "resume", false, "finish an interrupted import from its journal, sending no row twice")
	fs.BoolVar(&o.resendUnconfirmed, "resend-unconfirmed", false, "with --resume and --rule 2: resend batches whose fate is unknown (may import rows twice)")
	fs.BoolVar(&o.force, "force", false, "import content again into a task it was already imported into (under any file name)")
	fs.DurationVar(&o.retryInitial, "retry-initial", 500*time.Millisecond, "first wait between attempts (doubles up to --retry-max)")
	fs.DurationVar(&o.retryMax, "retry-max", 30*time.Second, "longest wait between attempts")
}

// check validates the flags' values and fills the derived settings.
func (o *importOptions) check(validate bool) error {
	if len(o.files) == 0 {
		return usagef("no input file: m7import %s FILE...", map[bool]string{true: "validate", false: "import"}[validate])
	}
	if len(o.files) > 1 && (o.reportPath != "" || o.attention != "") {
		return usagef("--report and --attention name one file but %d inputs were given: each input gets its own report next to it", len(o.files))
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
	return o.checkSettings()
}

// checkSettings validates the values of the flags that say how files are
// read and sent, and fills the derived settings (import and inbox).
func (o *importOptions) checkSettings() error {
	if o.batchSize < 1 || o.batchSize > chunker.MaxSize {
		return usagef("--batch-size %d: must be between 1 and %d (the API's limit)", o.batchSize, chunker.MaxSize)
	}
	rule, err := api.ParseRule(o.rule)
	if err != nil {
		return usagef("--%v", err)
	}
	o.ruleValue = rule
	switch n, err := strconv.Atoi(o.concurrency); {
	case o.concurrency == "auto":
		o.concurrencyValue = 0
	case err != nil || n < 1 || n > 32:
		return usagef("--concurrency %s: must be auto or a number between 1 and 32", o.concurrency)
	default:
		o.concurrencyValue = n
	}
	if o.grace < 0 {
		return usagef("--grace %s: must not be negative", o.grace)
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
	if o.api.secretFlag != "" {
		return usagef("--secret is not accepted (it would show in ps and shell history): set M7_SECRET or use --secret-file")
	}
	if o.headerRow < 0 {
		return usagef("--header-row %d: must be a row number from 1", o.headerRow)
	}
	if o.headerRow > 0 && o.noHeader {
		return usagef("give --header-row or --no-header, not both")
	}
	if o.lang != "" {
		if o.langValue, err = i18n.Parse(o.lang); err != nil {
			return usagef("--lang %s: %v", o.lang, err)
		}
		o.langSet = true
	}
	if o.maxInvalidLimit, err = job.ParseLimit(o.maxInvalid); err != nil {
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
	if _, err := importer.NewNormalizer(strings.ToUpper(o.region), policy); err != nil {
		return usagef("--region %s: %v", o.region, err)
	}
	o.readOpts = importer.Options{
		Sheet: o.sheet, Encoding: o.encoding, Map: fields, NoHeader: o.noHeader, HeaderRow: o.headerRow,
		Region: strings.ToUpper(o.region), Policy: policy,
	}
	return nil
}

func runImportCmd(ctx context.Context, args []string, io stdio, validate bool) error {
	o, err := parseImportFlags(args, io, validate)
	if err != nil {
		return err
	}
	return runImport(ctx, o, io)
}

// importRun is the state shared by the files of one command line.
type importRun struct {
	o       *importOptions
	io      stdio
	lang    i18n.Lang
	client  *api.Client
	appKey  string
	dataDir string
	history *history.Store
	// created is the task --create-task made, so that the next files of
	// the same command line go into it.
	created *api.Task
}

// runImport imports (or validates) each file in turn. The command's error
// is the worst of the files'.
func runImport(ctx context.Context, o *importOptions, io stdio) error {
	r := &importRun{o: o, io: io}
	if !o.dryRun {
		if err := r.connect(ctx); err != nil {
			return err
		}
		defer r.history.Close()
	}
	var worst error
	for _, f := range o.files {
		err := r.file(ctx, f)
		if err != nil && (worst == nil || job.Worse(exitFor(err), exitFor(worst))) {
			worst = err
		}
		if err != nil && !o.jsonOut && !errors.Is(err, errSilent) && len(o.files) > 1 {
			report(err, io)
		}
		if ctx.Err() != nil || job.StopsAll(err) {
			break
		}
	}
	if worst != nil && len(o.files) > 1 && !errors.Is(worst, errSilent) {
		// Each file's error was printed as it happened.
		return &job.Error{Code: exitFor(worst), Err: errSilent}
	}
	return worst
}

// connect builds the API client (paced by the one limiter) and opens the
// data directory's history.
func (r *importRun) connect(ctx context.Context) error {
	o := r.o
	var lim *rate.Limiter
	if o.rate > 0 {
		// One limiter in the client paces every call (task lookups, agent
		// check, imports, retries, settlement counts): the account's rate
		// limit counts them all.
		lim = rate.NewLimiter(rate.Limit(o.rate), o.burst)
	}
	c, err := o.api.client(r.io, lim)
	if err != nil {
		return err
	}
	r.client = c
	cfg, _ := o.api.config(r.io)
	r.appKey = cfg.AppKey
	if r.dataDir, err = datadir.Resolve(r.io.Getenv, o.dataDir); err != nil {
		return err
	}
	r.history, err = history.Open(ctx, r.dataDir)
	return err
}

// jobOptions are the run's settings from the flags, the same for every
// file of import and of inbox (which sets the report paths itself).
func (r *importRun) jobOptions() job.Options {
	r.lang = r.o.langValue
	if !r.o.langSet {
		r.lang = i18n.FromEnv(r.io.Getenv)
	}
	return job.Options{
		Lang: r.lang,
		Rule: r.o.ruleValue, Operator: r.o.operator, BatchSize: r.o.batchSize, Concurrency: r.o.concurrencyValue,
		Rate: r.o.rate, Grace: r.o.grace,
		MaxRetries: r.o.maxRetries, RetryInitial: r.o.retryInitial, RetryMax: r.o.retryMax,
		DrainTimeout: r.o.drainTimeout, Timeout: r.o.api.timeout, DryRun: r.o.dryRun,
		MaxInvalid: r.o.maxInvalidLimit, Read: r.o.readOpts,
		CheckAgents: r.o.checkAgents, Resume: r.o.resume, ResendUnconfirmed: r.o.resendUnconfirmed, Force: r.o.force,
		History: r.history, Source: history.SourceCLI, AppKey: r.appKey, LockDir: r.dataDir,
		LockWait: tasklock.CLIWait,
		Warn:     func(s string) { fmt.Fprintln(r.io.Err, i18n.T(r.lang, i18n.Warning, i18n.Notice(r.lang, s))) },
		Notice:   r.notice,
	}
}

// file imports one input file; its summary is printed whatever happens.
func (r *importRun) file(ctx context.Context, input string) error {
	suffix := ".results"
	if r.o.dryRun {
		// A check keeps its own report: it never replaces an import's.
		suffix = ".check"
	}
	reportPath, format, err := reports.SidePath(input, r.o.reportPath, r.o.reportFormat, suffix)
	if err != nil {
		return usagef("%v", err)
	}
	view := newProgressView(r.io.Err, isTerminal(r.io.Err), r.o.quiet || r.o.jsonOut && !isTerminal(r.io.Err), filepath.Base(input), r.o.dryRun)
	opts := r.jobOptions()
	view.lang = r.lang
	opts.Report, opts.ReportFormat = reportPath, format
	opts.Progress = view.update
	opts.Command = "m7import import " + filepath.Base(input)
	if r.o.attention != "" {
		if opts.AttentionFormat, err = reports.FormatFromPath(r.o.attention); err != nil {
			return usagef("--attention %s: %v", r.o.attention, err)
		}
		opts.Attention = r.o.attention
	}
	sum, err := job.File(ctx, r.client, r.resolveTask, input, opts)
	view.finish()
	if err != nil {
		err = r.nextStep(err, sum)
		sum.Error = err.Error()
	}
	r.printSummary(sum, err)
	return err
}

// nextStep adds to err what to do about it: which option names a report
// path that cannot be written, the base URL of a server that cannot be
// reached, and, for a file refused by --max-invalid, where each row's
// reason is and how to get the rows to fix.
func (r *importRun) nextStep(err error, sum job.Summary) error {
	err = withNextStep(err, r.io.Getenv)
	if exitFor(err) != exitRefused || job.HintOf(err) != "" {
		return err
	}
	var hint string
	switch {
	case r.o.attention != "":
		hint = fmt.Sprintf("fix the rows in %s (each with its reason) and import that file, or raise --max-invalid", r.o.attention)
	default:
		hint = fmt.Sprintf("add --attention %s to get the rows to fix in the file's own columns, fix them and import that file, or raise --max-invalid", shellQuote(attentionName(sum.File)))
	}
	if sum.Report != "" {
		hint = fmt.Sprintf("see each row's reason in %s; %s", sum.Report, hint)
	}
	return job.WithHint(err, hint)
}

// attentionName suggests an attention file beside the input:
// leads.xlsx → leads.fix.csv.
func attentionName(input string) string {
	return strings.TrimSuffix(input, filepath.Ext(input)) + ".fix.csv"
}

func (r *importRun) notice(s string) {
	if !r.o.quiet {
		fmt.Fprintln(r.io.Err, i18n.Notice(r.lang, s))
	}
}

// resolveTask finds (or creates) the task of each file.
func (r *importRun) resolveTask(ctx context.Context) (api.Task, error) {
	ref := job.TaskRef{ID: r.o.taskID, Name: r.o.taskName}
	if r.o.createTask && r.created == nil {
		ref.Create = &api.CreateTaskRequest{Description: r.o.descr, AgentNumberList: r.o.agents,
			QueueNumberList: r.o.queues, AgentNumber: r.o.creator}
	}
	if r.created != nil {
		ref = job.TaskRef{ID: r.created.TaskID}
	}
	t, created, err := job.ResolveTask(ctx, r.client, ref)
	if created {
		r.created = &t
		r.notice(i18n.T(r.lang, i18n.CreatedTask, t.TaskName, t.TaskID))
	}
	return t, err
}

func (r *importRun) printSummary(s job.Summary, err error) {
	if r.o.jsonOut {
		b, _ := json.Marshal(s)
		fmt.Fprintf(r.io.Out, "%s\n", b)
		return
	}
	if r.o.quiet || s.Rows == 0 && err != nil {
		return
	}
	w, l := r.io.Err, r.lang
	if s.DryRun {
		fmt.Fprintln(w, i18n.T(l, i18n.SummaryCheck, s.File, s.Rows, s.Valid, s.Invalid, s.Duplicate))
	} else {
		fmt.Fprintln(w, i18n.T(l, i18n.SummaryImport, s.File, s.Rows, s.Imported, s.Invalid, s.Duplicate, s.Failed, s.Unconfirmed, s.Skipped))
		fmt.Fprint(w, i18n.T(l, i18n.SummaryBatches, s.Batches, s.Retries, (time.Duration(s.ElapsedMS)*time.Millisecond).Round(time.Millisecond)))
		if s.NumberTotalBefore != nil && s.NumberTotalAfter != nil {
			fmt.Fprint(w, i18n.T(l, i18n.SummaryTaskTotal, s.TaskID, *s.NumberTotalBefore, *s.NumberTotalAfter, *s.NumberTotalAfter-*s.NumberTotalBefore))
		}
		fmt.Fprintln(w)
		if r.o.resume {
			fmt.Fprintln(w, i18n.T(l, i18n.SummarySentThisRun, s.SentThisRun))
		}
		if s.NumberTotalAfter != nil && !s.Rule.CountsEveryRow() && s.KeptByServer < s.SentThisRun {
			fmt.Fprintln(w, i18n.T(l, i18n.SummaryKeptThisRun, s.KeptByServer, s.SentThisRun))
		}
		if s.Mismatch != "" {
			fmt.Fprintln(w, "  "+i18n.T(l, i18n.Warning, s.Mismatch))
		}
		if s.SettledByCount > 0 {
			fmt.Fprintln(w, i18n.T(l, i18n.SummarySettled, s.SettledByCount))
		}
	}
	if s.Report != "" && s.Rows > 0 {
		fmt.Fprintln(w, i18n.T(l, i18n.SummaryReport, s.Report))
	}
}
