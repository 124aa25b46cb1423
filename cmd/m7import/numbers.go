package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/rollback"

	"golang.org/x/time/rate"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasks"
)

const numbersUsage = `
Usage: m7import numbers delete --task-id ID [--number N] [--name NAME] [--agent A] [--remark R]
                               [--call-result NOT_DEAL|DEALING|UNDEAL] [flags]
       m7import numbers delete --task-id ID --from FILE [filters] [--report PATH] [flags]
       m7import numbers delete --task-id ID --all [--yes]

Deletes numbers from a dial-out task. The filters are ANDed: a number is
deleted when it matches every filter given. --number is normalized like an
import row (13800138000, +86 138-0013-8000 and ８６１３８００１３８０００ are
the same number). Without any filter the call would empty the task: that
needs --all, and then a yes at the prompt (or --yes in a script).

--from FILE deletes every number listed in a lead file (CSV/TSV/TXT, XLSX;
read like an import) or in a results report of import, one delete call per
distinct number, rate limited and retried like the import, and writes a
report (default FILE.deleted.csv) with one row per input row: deleted,
failed, invalid (or skipped when the run was stopped). Filters given with
--from narrow each call.

Examples:
  m7import numbers delete --task-id 6ab971b0-6005-452e-9328-0883299619eb --number 13800138000
  m7import numbers delete --task-id 6ab971b0-6005-452e-9328-0883299619eb --agent 2000 --call-result NOT_DEAL
  m7import numbers delete --task-id 6ab971b0-6005-452e-9328-0883299619eb --from donotcall.xlsx
  m7import numbers delete --task-id 6ab971b0-6005-452e-9328-0883299619eb --all --yes

One change to a task at a time: while an import or a rollback of the same
task runs on this machine, numbers delete waits up to --lock-wait, then
refuses naming that run.

Exit codes: 0 done; 1 could not start or stopped; 2 usage error (also: --all
without --yes when stdin is not a terminal); 3 --from finished but some
numbers failed or were skipped.
`

// runNumbersCmd dispatches "numbers delete".
func runNumbersCmd(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		fmt.Fprint(unstamped(io.Err), strings.TrimLeft(numbersUsage, "\n"))
		return usagef("numbers: missing subcommand (delete)")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "delete":
		o, err := parseNumbersDeleteFlags(rest, io)
		if err != nil {
			return err
		}
		return runNumbersDelete(ctx, o, io)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(unstamped(io.Err), strings.TrimLeft(numbersUsage, "\n"))
		return flag.ErrHelp
	default:
		return usagef("numbers: unknown subcommand %q (want delete)", sub)
	}
}

// pacing are the rate-limit and retry flags of the commands that send one
// call per number.
type pacing struct {
	rate         float64
	burst        int
	maxRetries   int
	retryInitial time.Duration
	retryMax     time.Duration
}

func (p *pacing) register(fs *flag.FlagSet) {
	fs.Float64Var(&p.rate, "rate", 5, "delete calls per second at most (0: no limit)")
	fs.IntVar(&p.burst, "burst", 1, "calls that may go at once above --rate")
	fs.IntVar(&p.maxRetries, "max-retries", 5, "resends of a delete after a retryable failure")
	fs.DurationVar(&p.retryInitial, "retry-initial", 500*time.Millisecond, "first wait between attempts (doubles up to --retry-max)")
	fs.DurationVar(&p.retryMax, "retry-max", 30*time.Second, "longest wait between attempts")
}

func (p *pacing) check() error {
	switch {
	case p.rate < 0 || math.IsNaN(p.rate) || math.IsInf(p.rate, 0):
		return usagef("--rate %v: must be a number of calls per second, 0 for no limit", p.rate)
	case p.burst < 1:
		return usagef("--burst %d: must be at least 1", p.burst)
	case p.maxRetries < 0:
		return usagef("--max-retries %d: must not be negative", p.maxRetries)
	}
	return nil
}

// deleteAll deletes the number of every row src yields and writes a row of
// outcome each to a new report at path. The report is committed even when
// src cannot be read to the end (runErr), so that every row handled is
// accounted for; err is a report that cannot be written.
func deleteAll(ctx context.Context, io stdio, d *deleter.Deleter, src deleter.Source, path string, format reports.Format, filter api.DeleteNumbersRequest) (res deleter.Summary, runErr, err error) {
	out, err := reports.Create(path, format)
	if err != nil {
		return res, nil, fmt.Errorf("create report: %w", err)
	}
	defer out.Abort()
	progress, done := progressLine(io)
	res, runErr = deleter.Run(ctx, d, src, out, deleter.Options{Filter: filter, Progress: progress})
	done()
	if err := out.Commit(); err != nil {
		return res, runErr, fmt.Errorf("write report %s: %w", path, err)
	}
	return res, runErr, nil
}

// limiter is the one limiter that paces every call of the command (the
// API client waits on it), or nil for no limit.
func (p *pacing) limiter() *rate.Limiter {
	if p.rate <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(p.rate), p.burst)
}

// deleter builds the Deleter the flags describe.
func (p *pacing) deleter(c deleter.Client) (*deleter.Deleter, error) {
	return deleter.New(c, deleter.Config{MaxRetries: p.maxRetries,
		InitialInterval: p.retryInitial, MaxInterval: p.retryMax})
}

// numbersDeleteOptions are the settings of "numbers delete".
type numbersDeleteOptions struct {
	api    apiFlags
	pacing pacing
	lock   lockFlags

	taskID     string
	number     string
	name       string
	agent      string
	remark     string
	callResult string
	all, yes   bool
	from       string
	reportPath string
	reportFmt  string
	jsonOut    bool

	sheet, encoding, mapSpec string
	noHeader                 bool
	region, policy           string

	readOpts   importer.Options
	normalized string // --number, normalized
}

func parseNumbersDeleteFlags(args []string, io stdio) (*numbersDeleteOptions, error) {
	o := &numbersDeleteOptions{}
	fs := newFlagSet("numbers delete", numbersUsage, io.Err)
	o.api.register(fs)
	o.pacing.register(fs)
	o.lock.register(fs)
	fs.StringVar(&o.taskID, "task-id", "", "id of the task to delete numbers from (required)")
	fs.StringVar(&o.number, "number", "", "delete this number (normalized like an import row)")
	fs.StringVar(&o.name, "name", "", "delete numbers with this customer name")
	fs.StringVar(&o.agent, "agent", "", "delete numbers assigned to this agent number")
	fs.StringVar(&o.remark, "remark", "", "delete numbers with this remark")
	fs.StringVar(&o.callResult, "call-result", "", "delete numbers with this call result: NOT_DEAL, DEALING or UNDEAL")
	fs.BoolVar(&o.all, "all", false, "delete every number of the task (no filter)")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (needed for --all when stdin is not a terminal)")
	fs.StringVar(&o.from, "from", "", "delete every number listed in this lead file or results report")
	fs.StringVar(&o.reportPath, "report", "", "with --from: report path (default FILE.deleted.csv next to FILE)")
	fs.StringVar(&o.reportFmt, "report-format", "", "with --from: csv, xlsx or jsonl (default: from --report's extension, else csv)")
	fs.BoolVar(&o.jsonOut, "json", false, "print a JSON summary on stdout")
	fs.StringVar(&o.sheet, "sheet", "", "with --from: XLSX sheet to read (default: the first visible one)")
	fs.StringVar(&o.encoding, "encoding", "", "with --from: text encoding: utf-8, gbk, gb18030 or utf-16 (default: detected)")
	fs.StringVar(&o.mapSpec, "map", "", "with --from: header of each field, e.g. number=联系方式")
	fs.BoolVar(&o.noHeader, "no-header", false, "with --from: the file has no header (columns name,number,remark,agentNumber)")
	fs.StringVar(&o.region, "region", "CN", "region of numbers written without a country code")
	fs.StringVar(&o.policy, "number-policy", "strict", "strict (libphonenumber validity) or loose (3-20 digits)")
	if err := noPositional(fs, args); err != nil {
		return nil, err
	}
	return o, o.check()
}

// filtered reports whether any filter besides the task id is given.
func (o *numbersDeleteOptions) filtered() bool {
	return o.number != "" || o.name != "" || o.agent != "" || o.remark != "" || o.callResult != ""
}

// check validates the flags and fills the derived settings.
func (o *numbersDeleteOptions) check() error {
	if err := o.pacing.check(); err != nil {
		return err
	}
	if err := o.lock.check(); err != nil {
		return err
	}
	o.callResult = strings.ToUpper(strings.TrimSpace(o.callResult))
	switch o.callResult {
	case "", api.CallResultNotDeal, api.CallResultDealing, api.CallResultUndeal:
	default:
		return usagef("--call-result %q: want NOT_DEAL (not answered), DEALING (in a call) or UNDEAL (not dialled)", o.callResult)
	}
	switch {
	case strings.TrimSpace(o.taskID) == "":
		return usagef("numbers delete: --task-id is required (m7import task list shows the ids)")
	case o.all && (o.filtered() || o.from != ""):
		return usagef("--all deletes every number of the task: it takes no filter and no --from")
	case o.from != "" && o.number != "":
		return usagef("give --number or --from, not both")
	case !o.all && !o.filtered() && o.from == "":
		return job.WithHint(usagef("numbers delete: no filter given: that would delete every number of task %s", o.taskID), "m7import numbers delete --task-id "+o.taskID+" --all   (to really empty the task)")
	case o.from == "" && (o.reportPath != "" || o.reportFmt != ""):
		return usagef("--report and --report-format go with --from")
	}
	policy, err := importer.ParsePolicy(o.policy)
	if err != nil {
		return usagef("--number-policy: %v", err)
	}
	norm, err := importer.NewNormalizer(o.region, policy)
	if err != nil {
		return usagef("--region: %v", err)
	}
	if o.number != "" {
		n, err := norm.Normalize(o.number)
		if err != nil {
			return usagef("--number %q: %v", o.number, err)
		}
		o.normalized = n
	}
	var fields map[importer.Field]string
	if o.mapSpec != "" {
		if fields, err = importer.ParseMap(o.mapSpec); err != nil {
			return usagef("--map: %v", err)
		}
	}
	// Rule 2: the reader flags no duplicates; deleter.Run sends each
	// distinct number once and reports repeats with their first row.
	o.readOpts = importer.Options{Sheet: o.sheet, Encoding: o.encoding, Map: fields, NoHeader: o.noHeader,
		Region: strings.ToUpper(o.region), Policy: policy, KeepRepeats: true}
	return nil
}

// filter is the delete request the flags describe (without --from's
// numbers).
func (o *numbersDeleteOptions) filter() api.DeleteNumbersRequest {
	return api.DeleteNumbersRequest{TaskID: o.taskID, CustomerName: o.name, AgentNumber: o.agent,
		CustomerNumber: o.normalized, Remark: o.remark, CallResult: o.callResult}
}

// describe names the filters for messages: `number 13800138000 and call
// result UNDEAL`.
func (o *numbersDeleteOptions) describe() string {
	var parts []string
	add := func(what, v string) {
		if v != "" {
			parts = append(parts, fmt.Sprintf("%s %q", what, v))
		}
	}
	add("number", o.normalized)
	add("name", o.name)
	add("agent", o.agent)
	add("remark", o.remark)
	add("call result", o.callResult)
	return strings.Join(parts, " and ")
}

// deleteSummary is the --json output of numbers delete and rollback.
type deleteSummary struct {
	TaskID            string `json:"task_id"`
	TaskName          string `json:"task_name"`
	From              string `json:"from,omitempty"`
	Report            string `json:"report,omitempty"`
	Filter            string `json:"filter,omitempty"`
	All               bool   `json:"all,omitempty"`
	NumberTotalBefore int    `json:"number_total_before"`
	NumberTotalAfter  *int   `json:"number_total_after"`
	*deleter.Counts
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

func runNumbersDelete(ctx context.Context, o *numbersDeleteOptions, io stdio) (err error) {
	c, err := o.api.client(io, o.pacing.limiter())
	if err != nil {
		return err
	}
	task, err := tasks.ByID(ctx, c, o.taskID)
	if err != nil {
		return apiHint(err)
	}
	// Never while an import or a rollback changes the same task: their
	// counts (and settlement) would be wrong.
	cfg, _ := o.api.config(io)
	release, waited, err := o.lock.lockTask(ctx, io, cfg.AppKey, task.TaskID, "m7import numbers delete --task-id "+task.TaskID)
	if err != nil {
		return err
	}
	defer release()
	if waited {
		// Another run may have changed the task while we waited.
		if t, err := tasks.ByID(ctx, c, o.taskID); err == nil {
			task = t
		}
	}
	sum := deleteSummary{TaskID: task.TaskID, TaskName: task.TaskName, From: o.from, All: o.all,
		Filter: o.describe(), NumberTotalBefore: task.NumberTotal}
	if o.jsonOut {
		defer func() {
			sum.ExitCode = int(exitFor(err))
			if err != nil && !errors.Is(err, errSilent) {
				sum.Error = err.Error()
			}
			writeJSON(io.Out, sum)
		}()
	}
	d, err := o.pacing.deleter(c)
	if err != nil {
		return err
	}
	if o.from != "" {
		return o.deleteFrom(ctx, c, d, task, &sum, io)
	}

	if o.all {
		if err := confirm(io, o.yes, fmt.Sprintf("delete all %d numbers of task %q (id %s)", task.NumberTotal, task.TaskName, task.TaskID)); err != nil {
			return err
		}
	}
	res := d.Delete(ctx, o.filter())
	if res.Err != nil {
		return apiHint(fmt.Errorf("delete numbers from task %s: %w", task.TaskID, res.Err))
	}
	after := numberTotalAfter(ctx, c, task.TaskID, o.api.timeout)
	sum.NumberTotalAfter = after
	what := "every number"
	if !o.all {
		what = "numbers with " + o.describe()
	}
	fmt.Fprintf(io.Err, "deleted %s from task %q (id %s)%s\n", what, task.TaskName, task.TaskID, totals(task.NumberTotal, after))
	return nil
}

// deleteFrom deletes every number listed in o.from.
func (o *numbersDeleteOptions) deleteFrom(ctx context.Context, c *api.Client, d *deleter.Deleter, task api.Task, sum *deleteSummary, io stdio) error {
	src, err := rollback.OpenNumberList(ctx, o.from, o.readOpts)
	if err != nil {
		return job.WithReadHint(err, o.from)
	}
	defer src.Close()
	reportPath, format, err := reports.SidePath(o.from, o.reportPath, o.reportFmt, ".deleted")
	if err != nil {
		return usagef("%v", err)
	}
	if reports.SameFile(reportPath, o.from) {
		return usagef("--report %s would overwrite the input file", reportPath)
	}
	sum.Report = reportPath
	fmt.Fprintf(io.Err, "deleting the numbers listed in %s from task %q (id %s), one call per number\n", o.from, task.TaskName, task.TaskID)
	res, runErr, err := deleteAll(ctx, io, d, src, reportPath, format, o.filter())
	if err != nil {
		return err
	}
	sum.Counts = &res.Counts
	if runErr != nil {
		// The report still accounts for every row handled before it.
		return fmt.Errorf("%s: %w (the report %s has the rows read before it)", o.from, runErr, reportPath)
	}
	after := numberTotalAfter(ctx, c, task.TaskID, o.api.timeout)
	sum.NumberTotalAfter = after
	fmt.Fprintf(io.Err, "%s: %d rows: %d deleted, %d failed, %d invalid, %d skipped%s\n  report: %s\n",
		o.from, res.Rows, res.Deleted, res.Failed, res.Invalid, res.Skipped, totals(task.NumberTotal, after), reportPath)
	return deleteOutcome(res, reportPath)
}

// deleteOutcome turns a finished deleter run into the command's error:
// the one place that decides exit 3 for the delete commands.
func deleteOutcome(res deleter.Summary, reportPath string) error {
	switch {
	case res.Stopped != nil:
		return apiHint(fmt.Errorf("stopped: %w (see %s)", res.Stopped, reportPath))
	case res.Failed+res.Skipped > 0:
		return &job.Error{Code: exitIncomplete, Err: fmt.Errorf("%d numbers failed, %d skipped; see %s (deleting again is safe)", res.Failed, res.Skipped, reportPath)}
	}
	return nil
}

// numberTotalAfter reads the task's number count after a delete, even
// when ctx was cancelled; nil when it cannot be read.
func numberTotalAfter(ctx context.Context, c tasks.Lister, taskID string, timeout time.Duration) *int {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	t, err := tasks.ByID(actx, c, taskID)
	if err != nil {
		return nil
	}
	n := t.NumberTotal
	return &n
}

// totals describes a task's count change: "; task numbers 10 → 7 (-3)".
func totals(before int, after *int) string {
	if after == nil {
		return "; the task's number count could not be read afterwards"
	}
	return fmt.Sprintf("; task numbers %d → %d (%+d)", before, *after, *after-before)
}

// progressLine returns a progress callback that redraws one line on a
// terminal stderr (nil otherwise: no progress in logs), and the function
// that clears that line when the run is over.
func progressLine(io stdio) (progress func(deleter.Counts), done func()) {
	if !isTerminal(io.Err) {
		return nil, func() {}
	}
	var last time.Time
	drawn := false
	progress = func(c deleter.Counts) {
		if now := time.Now(); now.Sub(last) >= 200*time.Millisecond {
			last, drawn = now, true
			fmt.Fprintf(io.Err, "\r%d rows: %d deleted, %d failed, %d invalid\x1b[K", c.Rows, c.Deleted, c.Failed, c.Invalid)
		}
	}
	return progress, func() {
		if drawn {
			fmt.Fprint(io.Err, "\r\x1b[K")
		}
	}
}
