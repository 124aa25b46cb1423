package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/datadir"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/rollback"
	"github.com/m7import/m7import/tasklock"
)

const rollbackUsage = `
Usage: m7import rollback REPORT|HISTORY-ID [--include-unconfirmed] [--force] [--yes] [flags]

Takes back an import. Reads REPORT, the results report import wrote (CSV,
XLSX or JSONL) — or the report of import HISTORY-ID in the import
history (the number the web page and the history show) — and its side file REPORT.meta.json, which names the task
and its number count before and after the import. Deletes from that task
every number the report lists as imported (with --include-unconfirmed also
the unconfirmed ones), one delete call per number, rate limited and
retried. It shows what it will delete and asks first on a terminal (--yes
in scripts), and writes its own report (default NAME.rollback.csv next to
REPORT) with one row per number: deleted, failed or invalid.

A delete removes every row of the task with that number. When the task grew
by fewer numbers than the report calls imported, the server dropped numbers
it already held: those were in the task before the import, and deleting
them would remove numbers this import did not add. rollback then refuses
unless --force.

Examples:
  m7import rollback leads.results.csv
  m7import rollback leads.results.xlsx --include-unconfirmed --yes --report undo.csv
  m7import rollback 12

Exit codes: 0 every number deleted; 1 could not start (no side file, task
gone, refused without --force) or stopped; 2 usage error (also: no --yes
when stdin is not a terminal); 3 finished but some numbers failed.
`

// rollbackOptions are the settings of "rollback".
type rollbackOptions struct {
	api    apiFlags
	pacing pacing

	report             string
	includeUnconfirmed bool
	force, yes         bool
	jsonOut            bool
	reportPath         string
	reportFmt          string
	dataDir            string
}

func runRollbackCmd(ctx context.Context, args []string, io stdio) error {
	o, err := parseRollbackFlags(args, io)
	if err != nil {
		return err
	}
	return runRollback(ctx, o, io)
}

func parseRollbackFlags(args []string, io stdio) (*rollbackOptions, error) {
	o := &rollbackOptions{}
	fs := newFlagSet("rollback", rollbackUsage, io.Err)
	o.api.register(fs)
	o.pacing.register(fs)
	fs.BoolVar(&o.includeUnconfirmed, "include-unconfirmed", false, "also delete the numbers whose batch had an unknown fate (unconfirmed)")
	fs.BoolVar(&o.force, "force", false, "delete even when some of the numbers were in the task before the import")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation (needed when stdin is not a terminal)")
	fs.BoolVar(&o.jsonOut, "json", false, "print a JSON summary on stdout")
	fs.StringVar(&o.reportPath, "report", "", "rollback report path (default NAME.rollback.csv next to REPORT)")
	fs.StringVar(&o.reportFmt, "report-format", "", "csv, xlsx or jsonl (default: from --report's extension, else csv)")
	fs.StringVar(&o.dataDir, "data-dir", "", "where the import history and the per-task locks live (default $M7_DATA_DIR, else $XDG_DATA_HOME/m7import or ~/.local/share/m7import)")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, usagef("rollback takes one results report or history id, got %d arguments: m7import rollback REPORT", len(rest))
	}
	o.report = rest[0]
	return o, o.pacing.check()
}

func runRollback(ctx context.Context, o *rollbackOptions, io stdio) (err error) {
	if err := o.resolveHistoryID(ctx, io); err != nil {
		return err
	}
	reportPath, format, err := reports.SidePath(o.report, o.reportPath, o.reportFmt, ".rollback")
	if err != nil {
		return usagef("%v", err)
	}
	if reports.SameFile(reportPath, o.report) {
		return usagef("--report %s would overwrite the report being rolled back", reportPath)
	}
	c, err := o.api.client(io, o.pacing.limiter())
	if err != nil {
		return err
	}
	d, err := o.pacing.deleter(c)
	if err != nil {
		return err
	}
	cfg, _ := o.api.config(io)
	lockDir, err := datadir.Resolve(io.Getenv, o.dataDir)
	if err != nil {
		return err
	}
	var sum deleteSummary
	if o.jsonOut {
		defer func() {
			sum.ExitCode = int(exitFor(err))
			if err != nil && !errors.Is(err, errSilent) {
				sum.Error = err.Error()
			}
			if sum.TaskID != "" {
				writeJSON(io.Out, sum)
			}
		}()
	}
	hist, err := history.Open(ctx, lockDir)
	if err != nil {
		return err
	}
	defer hist.Close()
	progress, done := progressLine(io)
	res, err := rollback.Run(ctx, c, d, o.report, rollback.Options{
		History:            hist,
		IncludeUnconfirmed: o.includeUnconfirmed, Force: o.force, ReportPath: reportPath, ReportFormat: format,
		LockDir: lockDir, AppKey: cfg.AppKey, LockWait: tasklock.CLIWait, Command: "m7import rollback " + filepath.Base(o.report),
		Timeout: o.api.timeout, Progress: progress,
		Warn: func(s string) { fmt.Fprintf(io.Err, "warning: %s\n", s) },
		Confirm: func(p rollback.Preview) error {
			sum = deleteSummary{TaskID: p.Task.TaskID, TaskName: p.Task.TaskName, From: o.report, Report: reportPath,
				NumberTotalBefore: p.Task.NumberTotal}
			printRollbackPlan(io.Err, o, p.Meta, p.Plan, p.Task)
			return confirm(io, o.yes, fmt.Sprintf("delete %d numbers from task %q (id %s)", p.Plan.Selected, p.Task.TaskName, p.Task.TaskID))
		},
	})
	done()
	switch {
	case errors.Is(err, rollback.ErrNoMeta):
		return job.WithHint(err, "rollback needs the side file import writes next to its report: "+journal.MetaPath(o.report))
	case errors.Is(err, rollback.ErrTaskGone):
		return job.WithHint(err, "m7import task list   (to find the task the numbers are in now)")
	case errors.Is(err, rollback.ErrGuard):
		return job.WithHint(err, "m7import rollback --force "+shellQuote(o.report)+"   (deletes them anyway)")
	case errors.Is(err, tasklock.ErrHeld):
		return job.WithHint(err, "one run per task at a time: wait for the other run to finish, then run this command again")
	case err != nil:
		return apiHint(err)
	}
	if res.Plan.Selected == 0 {
		fmt.Fprintf(io.Err, "nothing to roll back: %s lists no imported rows", o.report)
		if res.Plan.Unconfirmed > 0 && !o.includeUnconfirmed {
			fmt.Fprintf(io.Err, " (%d unconfirmed: add --include-unconfirmed to delete them)", res.Plan.Unconfirmed)
		}
		fmt.Fprintln(io.Err)
		return nil
	}
	r := res.Result
	sum.Counts = &r.Counts
	after := res.NumberTotalAfter
	sum.NumberTotalAfter = after
	if r.Stopped == nil {
		fmt.Fprintf(io.Err, "rollback: %d numbers: %d deleted, %d failed, %d invalid, %d skipped%s\n",
			r.Rows, r.Deleted, r.Failed, r.Invalid, r.Skipped, totals(res.Task.NumberTotal, after))
		if after != nil && r.Failed+r.Skipped == 0 {
			if *after == res.Meta.NumberTotalBefore {
				fmt.Fprintf(io.Err, "  the task holds %d numbers again, as before the import\n", *after)
			} else {
				fmt.Fprintf(io.Err, "  note: the task held %d numbers before the import and holds %d now (changed by something else since?)\n",
					res.Meta.NumberTotalBefore, *after)
			}
		}
		fmt.Fprintf(io.Err, "  report: %s\n", reportPath)
	}
	return deleteOutcome(r, reportPath)
}

// resolveHistoryID turns "m7import rollback 12" into the report of the
// history's import 12, unless a file named 12 exists.
func (o *rollbackOptions) resolveHistoryID(ctx context.Context, io stdio) error {
	id, err := strconv.ParseInt(o.report, 10, 64)
	if err != nil || id <= 0 {
		return nil
	}
	if _, err := os.Stat(o.report); err == nil {
		return nil
	}
	dir, err := datadir.Resolve(io.Getenv, o.dataDir)
	if err != nil {
		return err
	}
	h, err := history.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer h.Close()
	e, err := h.Get(ctx, id)
	if errors.Is(err, history.ErrNotFound) {
		return job.WithHint(fmt.Errorf("rollback %d: no import %d in the history %s: %w", id, id, h.Path(), err),
			"m7import rollback REPORT   (the results report the import wrote)")
	}
	if err != nil {
		return fmt.Errorf("rollback %d: %w", id, err)
	}
	if e.Report == "" {
		return fmt.Errorf("rollback %d: the history records no report for import %d (%s)", id, id, e.File)
	}
	o.report = e.Report
	return nil
}

// printRollbackPlan says what rollback is about to delete.
func printRollbackPlan(w io.Writer, o *rollbackOptions, meta journal.Meta, plan rollback.Plan, task api.Task) {
	what := "imported"
	if o.includeUnconfirmed && plan.Unconfirmed > 0 {
		what = fmt.Sprintf("%d imported + %d unconfirmed", plan.Imported, plan.Unconfirmed)
	}
	fmt.Fprintf(w, "rollback of %s (%d rows, imported into task %q, id %s", o.report, plan.Rows, task.TaskName, task.TaskID)
	if !meta.StartedAt.IsZero() {
		fmt.Fprintf(w, ", on %s", meta.StartedAt.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintf(w, ", rule %d)\n", meta.Rule)
	fmt.Fprintf(w, "  will delete %d numbers (%s), one call each, from the task, which holds %d numbers now\n",
		plan.Selected, what, task.NumberTotal)
	sample := strings.Join(plan.Sample, ", ")
	if more := plan.Selected - len(plan.Sample); more > 0 {
		sample += fmt.Sprintf(" and %d more", more)
	}
	fmt.Fprintf(w, "  numbers: %s\n", sample)
	if !o.includeUnconfirmed && plan.Unconfirmed > 0 {
		fmt.Fprintf(w, "  %d unconfirmed rows are kept (add --include-unconfirmed to delete them too)\n", plan.Unconfirmed)
	}
	if meta.Rule == api.RuleNone {
		fmt.Fprintln(w, "  note: the import used rule 2 (no dedupe): a number that was in the task before the import loses its earlier rows too (a delete removes every row with the number)")
	}
}
