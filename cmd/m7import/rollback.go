package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/m7import/m7import/datadir"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/rollback"
	"github.com/m7import/m7import/tasklock"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasks"
)

const rollbackUsage = `
Usage: m7import rollback REPORT [--include-unconfirmed] [--force] [--yes] [flags]

Takes back an import. Reads REPORT, the results report import wrote (CSV,
XLSX or JSONL), and its side file REPORT.meta.json, which names the task
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
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, usagef("rollback takes one results report, got %d arguments: m7import rollback REPORT", len(rest))
	}
	o.report = rest[0]
	return o, o.pacing.check()
}

func runRollback(ctx context.Context, o *rollbackOptions, io stdio) (err error) {
	meta, err := journal.ReadMeta(o.report)
	if err != nil {
		return job.WithHint(fmt.Errorf("rollback %s: %w", o.report, err), "rollback needs the side file import writes next to its report: "+journal.MetaPath(o.report))
	}
	switch {
	case meta.TaskID == "":
		return fmt.Errorf("rollback %s: %s names no task", o.report, journal.MetaPath(o.report))
	}
	plan, err := rollback.PlanFor(o.report, o.includeUnconfirmed)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	if plan.Selected == 0 {
		fmt.Fprintf(io.Err, "nothing to roll back: %s lists no imported rows", o.report)
		if plan.Unconfirmed > 0 && !o.includeUnconfirmed {
			fmt.Fprintf(io.Err, " (%d unconfirmed: add --include-unconfirmed to delete them)", plan.Unconfirmed)
		}
		fmt.Fprintln(io.Err)
		return nil
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
	// Nothing else may write to the task meanwhile, nor resume this import.
	release, err := lockForRollback(ctx, o, io, meta)
	if err != nil {
		return err
	}
	defer release()
	task, err := tasks.ByID(ctx, c, meta.TaskID)
	if errors.Is(err, tasks.ErrNotFound) {
		return job.WithHint(fmt.Errorf("rollback %s: the task it imported into, %q (id %s), no longer exists, so there is nothing to delete: %w",
			o.report, meta.TaskName, meta.TaskID, tasks.ErrNotFound), "m7import task list   (to find the task the numbers are in now)")
	}
	if err != nil {
		return apiHint(fmt.Errorf("rollback %s: %w", o.report, err))
	}
	if err := rollback.CheckGrowth(meta, plan, o.report); err != nil && !o.force {
		return job.WithHint(err, "m7import rollback --force "+shellQuote(o.report)+"   (deletes them anyway)")
	} else if err != nil {
		fmt.Fprintf(io.Err, "warning: %v; going ahead because of --force\n", err)
	}

	sum := deleteSummary{TaskID: task.TaskID, TaskName: task.TaskName, From: o.report, Report: reportPath,
		NumberTotalBefore: task.NumberTotal}
	if o.jsonOut {
		defer func() {
			sum.ExitCode = int(exitFor(err))
			if err != nil && !errors.Is(err, errSilent) {
				sum.Error = err.Error()
			}
			writeJSON(io.Out, sum)
		}()
	}
	printRollbackPlan(io.Err, o, meta, plan, task)
	if err := confirm(io, o.yes, fmt.Sprintf("delete %d numbers from task %q (id %s)", plan.Selected, task.TaskName, task.TaskID)); err != nil {
		return err
	}

	d, err := o.pacing.deleter(c)
	if err != nil {
		return err
	}
	rr, err := reports.Open(o.report)
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	defer rr.Close()
	res, runErr, err := deleteAll(ctx, io, d, rollback.SelectFrom(rr, o.includeUnconfirmed),
		reportPath, format, api.DeleteNumbersRequest{TaskID: task.TaskID})
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	sum.Counts = &res.Counts
	if runErr != nil {
		// The report still accounts for every number handled before it.
		return fmt.Errorf("rollback %s: %w (the report %s has the rows read before it)", o.report, runErr, reportPath)
	}
	after := numberTotalAfter(ctx, c, task.TaskID, o.api.timeout)
	sum.NumberTotalAfter = after
	fmt.Fprintf(io.Err, "rollback: %d numbers: %d deleted, %d failed, %d invalid, %d skipped%s\n",
		res.Rows, res.Deleted, res.Failed, res.Invalid, res.Skipped, totals(task.NumberTotal, after))
	if after != nil && res.Failed+res.Skipped == 0 {
		if *after == meta.NumberTotalBefore {
			fmt.Fprintf(io.Err, "  the task holds %d numbers again, as before the import\n", *after)
		} else {
			fmt.Fprintf(io.Err, "  note: the task held %d numbers before the import and holds %d now (changed by something else since?)\n",
				meta.NumberTotalBefore, *after)
		}
	}
	fmt.Fprintf(io.Err, "  report: %s\n", reportPath)
	return deleteOutcome(res, reportPath)
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

// lockForRollback takes the task's lock (waiting like an import) and the
// import journal's lock, so that a rollback never runs while an import
// into the task, or a --resume of this very report, does.
func lockForRollback(ctx context.Context, o *rollbackOptions, io stdio, meta journal.Meta) (func(), error) {
	cfg, err := o.api.config(io)
	if err != nil {
		return nil, err
	}
	dir, err := datadir.Resolve(io.Getenv, "")
	if err != nil {
		return nil, err
	}
	lock, err := tasklock.Acquire(ctx, dir, cfg.AppKey, meta.TaskID, tasklock.Options{
		Wait: tasklock.CLIWait, Command: "m7import rollback " + filepath.Base(o.report),
	})
	if err != nil {
		return nil, job.WithHint(fmt.Errorf("rollback %s: %w", o.report, err), "wait for the import to finish, then run the rollback again")
	}
	unlock, err := journal.Lock(journal.Path(o.report))
	if err != nil {
		lock.Release()
		return nil, job.WithHint(fmt.Errorf("rollback %s: %w", o.report, err), "wait for the import to finish, then run the rollback again")
	}
	return func() { unlock(); lock.Release() }, nil
}
