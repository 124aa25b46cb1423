package rollback

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasklock"
	"github.com/m7import/m7import/tasks"
)

// Sentinels a front end branches on (hints, status codes).
var (
	// ErrNoMeta wraps a missing or unreadable side file (REPORT.meta.json):
	// without it there is no task to delete from.
	ErrNoMeta = errors.New("no side file")
	// ErrGuard wraps CheckGrowth's refusal when Force is not set.
	ErrGuard = errors.New("some numbers were in the task before the import")
	// ErrTaskGone wraps tasks.ErrNotFound: the task imported into no longer
	// exists.
	ErrTaskGone = errors.New("the task no longer exists")
)

// Options configure Run.
type Options struct {
	// IncludeUnconfirmed also deletes the rows reported unconfirmed.
	IncludeUnconfirmed bool
	// Force deletes even when CheckGrowth refuses.
	Force bool
	// ReportPath and ReportFormat are where the rollback's own report goes
	// (one row per number: deleted, failed or invalid). Required.
	ReportPath   string
	ReportFormat reports.Format
	// LockDir, when set, is the data directory whose per-task lock the
	// rollback holds while it deletes (the lock every import of the task
	// takes too); LockWait is how long it waits for another holder (the
	// command line waits tasklock.CLIWait, the web server 0), and Command
	// describes this run to a waiter. AppKey keys the lock.
	LockDir  string
	AppKey   string
	LockWait time.Duration
	Command  string
	// Timeout bounds the count read after the deletes (default 30 s).
	Timeout time.Duration
	// Confirm, when set, is called once the plan is known and the guard
	// has passed, before anything is deleted; an error it returns ends the
	// run with that error.
	Confirm func(Preview) error
	// Warn, when set, gets a sentence for what goes ahead despite a doubt
	// (the guard overridden by Force).
	Warn func(string)
	// Progress, when set, gets the counts after each number.
	Progress func(deleter.Counts)
	// History, when set, records that the import was taken back (when
	// every number was deleted) in the entry of its report.
	History *history.Store
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Preview is what a rollback is about to do, for a confirmation.
type Preview struct {
	Report string
	Meta   journal.Meta
	Plan   Plan
	// Task is the task as it is now (its NumberTotal current).
	Task api.Task
}

// Summary is how a rollback ended.
type Summary struct {
	Preview
	// ReportPath is the rollback's own report ("" when nothing was to be
	// deleted).
	ReportPath string
	// Result are the deleter's counts, and Stopped why it stopped early.
	Result deleter.Summary
	// NumberTotalAfter is the task's count afterwards; nil when unread.
	NumberTotalAfter *int
}

// Run takes back the import whose results report is report: it reads the
// side file and plans from the report, refuses (unless Force) to delete
// numbers the import did not add (CheckGrowth), takes the task's lock and
// the import journal's lock (so that no import or --resume of the same
// report runs meanwhile), and deletes through d every number the report
// lists as imported, writing its own report. A plan with nothing to delete
// returns with Plan.Selected 0 and no error. The deleter's outcome
// (numbers failed, a stop) is in Summary.Result; the error is for a run
// that could not start or a report that could not be read or written.
func Run(ctx context.Context, c *api.Client, d *deleter.Deleter, report string, o Options) (Summary, error) {
	sum := Summary{Preview: Preview{Report: report}}
	meta, err := journal.ReadMeta(report)
	if err != nil {
		return sum, fmt.Errorf("rollback %s: %w: %w", report, ErrNoMeta, err)
	}
	if meta.TaskID == "" {
		return sum, fmt.Errorf("rollback %s: %w: %s names no task", report, ErrNoMeta, journal.MetaPath(report))
	}
	sum.Meta = meta
	plan, err := PlanFor(report, o.IncludeUnconfirmed)
	if err != nil {
		return sum, fmt.Errorf("rollback: %w", err)
	}
	sum.Plan = plan
	if plan.Selected == 0 {
		return sum, nil
	}
	if o.ReportPath == "" {
		return sum, errors.New("rollback: no path for the rollback's report")
	}
	if reports.SameFile(o.ReportPath, report) {
		return sum, fmt.Errorf("rollback: the report %s would overwrite the report being rolled back", o.ReportPath)
	}
	task, err := tasks.ByID(ctx, c, meta.TaskID)
	if errors.Is(err, tasks.ErrNotFound) {
		return sum, fmt.Errorf("rollback %s: the task it imported into, %q (id %s), no longer exists, so there is nothing to delete: %w: %w",
			report, meta.TaskName, meta.TaskID, ErrTaskGone, err)
	}
	if err != nil {
		return sum, fmt.Errorf("rollback %s: %w", report, err)
	}
	sum.Task = task
	if err := CheckGrowth(meta, plan, report); err != nil && !o.Force {
		return sum, fmt.Errorf("%w: %w", ErrGuard, err)
	} else if err != nil && o.Warn != nil {
		o.Warn(fmt.Sprintf("%v; going ahead because of --force", err))
	}
	if o.Confirm != nil {
		if err := o.Confirm(sum.Preview); err != nil {
			return sum, err
		}
	}

	release, err := lock(ctx, report, meta.TaskID, o)
	if err != nil {
		return sum, err
	}
	defer release()
	out, err := reports.Create(o.ReportPath, o.ReportFormat)
	if err != nil {
		return sum, fmt.Errorf("rollback: create report: %w", err)
	}
	defer out.Abort()
	rr, err := reports.Open(report)
	if err != nil {
		return sum, fmt.Errorf("rollback: %w", err)
	}
	defer rr.Close()
	res, runErr := deleter.Run(ctx, d, SelectFrom(rr, o.IncludeUnconfirmed), out,
		deleter.Options{Filter: api.DeleteNumbersRequest{TaskID: task.TaskID}, Progress: o.Progress})
	sum.Result = res
	if err := out.Commit(); err != nil {
		return sum, fmt.Errorf("rollback: write report %s: %w", o.ReportPath, err)
	}
	sum.ReportPath = o.ReportPath
	if runErr != nil {
		// The report still accounts for every number handled before it.
		return sum, fmt.Errorf("rollback %s: %w (the report %s has the rows read before it)", report, runErr, o.ReportPath)
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if t, err := tasks.ByID(actx, c, task.TaskID); err == nil {
		n := t.NumberTotal
		sum.NumberTotalAfter = &n
	}
	if res := sum.Result; o.History != nil && res.Stopped == nil && res.Failed+res.Skipped == 0 {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		e, err := o.History.ByReport(actx, reports.Canonical(report))
		if err == nil {
			err = o.History.MarkRolledBack(actx, e.ID, res.Deleted, now())
		}
		if err != nil && !errors.Is(err, history.ErrNotFound) && o.Warn != nil {
			o.Warn(fmt.Sprintf("could not record the rollback in the history: %v", err))
		}
	}
	return sum, nil
}

// lock takes the task's lock and the import journal's, in that order (the
// order an import takes them), and returns what releases both.
func lock(ctx context.Context, report, taskID string, o Options) (func(), error) {
	release := func() {}
	if o.LockDir != "" {
		l, err := tasklock.Acquire(ctx, o.LockDir, o.AppKey, taskID, tasklock.Options{Wait: o.LockWait, Command: o.Command})
		if err != nil {
			return nil, fmt.Errorf("rollback %s: %w", report, err)
		}
		release = func() { l.Release() }
	}
	unlock, err := journal.Lock(journal.Path(report))
	if err != nil {
		release()
		return nil, fmt.Errorf("rollback %s: %w (an import or --resume of this report is running: wait for it to finish)", report, err)
	}
	return func() { unlock(); release() }, nil
}
