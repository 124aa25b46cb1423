package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasklock"
)

// lockTask takes the per-task lock shared by every m7import on this
// machine (imports, rollbacks, deletes, the web server and the inbox), so
// that two writers never settle each other's batches. Without a LockDir
// there is no lock.
func (r *fileRun) lockTask(ctx context.Context) (release func(), err error) {
	o := r.opts
	if o.LockDir == "" {
		return func() {}, nil
	}
	lock, err := tasklock.Acquire(ctx, o.LockDir, o.AppKey, r.task.TaskID, tasklock.Options{
		Wait: o.LockWait, Command: o.Command,
		Waiting: func(he *tasklock.HeldError) {
			r.waitedForLock = true
			r.notice(fmt.Sprintf("waiting up to %s for %s", o.LockWait, he.Error()))
		},
	})
	if err != nil {
		return nil, &Error{Code: CodeFailed, Err: fmt.Errorf("%s: %w", r.input, err),
			Hint: "one import per task at a time: wait for the other run to finish, then run this command again"}
	}
	return func() { lock.Release() }, nil
}

// ErrAlreadyImported is wrapped by the refusal to import content that the
// history says is already in the task (under rule 2, without Force).
var ErrAlreadyImported = errors.New("already imported")

// checkContent refuses (rule 2) or warns about (rules 0 and 1) content the
// history says was imported into this task before, under any file or
// report name. Resuming this report's own journal is not a second import.
func (r *fileRun) checkContent(ctx context.Context, sha string) error {
	o := r.opts
	if o.History == nil || o.Force {
		return nil
	}
	earlier, err := o.History.ImportedContent(ctx, sha, r.task.TaskID)
	if err != nil {
		return fmt.Errorf("%s: read the import history: %w", r.input, err)
	}
	report := reports.Canonical(r.report)
	var others []history.Entry
	for _, e := range earlier {
		if o.Resume && e.Report == report {
			continue // this report's own journal decides (resume or refuse)
		}
		others = append(others, e)
	}
	if len(others) == 0 {
		return nil
	}
	e := others[0]
	what := "was imported"
	if e.State == history.StateRunning {
		what = "is being imported, or its import was interrupted,"
	}
	msg := fmt.Sprintf("%s has the same content as %s, which %s into task %s on %s (history id %d, %d rows imported, report %s)",
		r.input, e.File, what, r.task.TaskID, e.StartedAt.Local().Format("2006-01-02 15:04"), e.ID, e.Imported, e.Report)
	if o.Rule.ResendIsSafe() {
		r.warn(msg + ": the server drops the numbers the task already holds")
		return nil
	}
	hint := fmt.Sprintf("add --force to import it again, or m7import rollback %d to take the earlier import back", e.ID)
	if e.State == history.StateRunning {
		hint = "resume it with the same command and --report " + e.Report + " --resume, or add --force to import it again"
	}
	return &Error{Code: CodeFailed, Err: fmt.Errorf("%s: refusing to import it twice under rule 2: %w", msg, ErrAlreadyImported), Hint: hint}
}

// renameAside moves a finished import's report, meta, journal and
// attention file out of the way of a new run, naming them by the time the
// import finished (NAME.results.20261125T020001.csv), and tells the
// history where they went: a run never replaces an import's record.
func (r *fileRun) renameAside(ctx context.Context, finished time.Time) error {
	if finished.IsZero() {
		finished = r.opts.Now()
	}
	stamp := finished.Local().Format("20060102T150405")
	ext := filepath.Ext(r.report)
	base := strings.TrimSuffix(r.report, ext)
	to := base + "." + stamp + ext
	if _, err := os.Stat(to); err == nil {
		to = base + "." + stamp + fmt.Sprintf("-%d", r.opts.Now().UnixNano()%1e6) + ext
	}
	moves := [][2]string{
		{r.report, to},
		{journal.MetaPath(r.report), journal.MetaPath(to)},
		{journal.Path(r.report), journal.Path(to)},
	}
	if r.opts.Attention != "" {
		aext := filepath.Ext(r.opts.Attention)
		moves = append(moves, [2]string{r.opts.Attention, strings.TrimSuffix(r.opts.Attention, aext) + "." + stamp + aext})
	}
	for _, m := range moves {
		if err := os.Rename(m[0], m[1]); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("move the earlier import's %s aside: %w", m[0], err)
		}
	}
	r.notice(fmt.Sprintf("the earlier import's report %s is now %s", r.report, to))
	if r.opts.History == nil {
		return nil
	}
	e, err := r.opts.History.ByReport(ctx, reports.Canonical(r.report))
	if errors.Is(err, history.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the import history: %w", err)
	}
	p := history.Paths{Report: reports.Canonical(to), Meta: reports.Canonical(journal.MetaPath(to)), Journal: reports.Canonical(journal.Path(to))}
	if len(moves) > 3 {
		p.Attention = reports.Canonical(moves[3][1])
	}
	return r.opts.History.UpdatePaths(ctx, e.ID, p)
}

// begin records the run in the history (a resumed run goes on with the
// entry of the run it resumes).
func (r *fileRun) begin(ctx context.Context, sha string, before int, started time.Time) error {
	o := r.opts
	if o.History == nil {
		return nil
	}
	report := reports.Canonical(r.report)
	if o.Resume {
		if e, err := o.History.ByReport(ctx, report); err == nil && e.SHA256 == sha && e.TaskID == r.task.TaskID {
			r.historyID = e.ID
			return nil
		}
	}
	b := before
	id, err := o.History.Begin(ctx, history.Entry{
		File: reports.Canonical(r.input), SHA256: sha, TaskID: r.task.TaskID, TaskName: r.task.TaskName, Rule: int(o.Rule),
		AppKey: o.AppKey, Report: report, Meta: reports.Canonical(journal.MetaPath(r.report)), Journal: reports.Canonical(journal.Path(r.report)),
		Attention: reports.Canonical(o.Attention), NumberTotalBefore: &b, Source: o.Source, StartedAt: started,
	})
	if err != nil {
		return err
	}
	r.historyID = id
	return nil
}

// finish records how the run ended.
func (r *fileRun) finish(ctx context.Context, sum Summary, err error) {
	o := r.opts
	if o.History == nil || r.historyID == 0 {
		return
	}
	state := history.StateDone
	switch c := CodeOf(err); {
	case ctx.Err() != nil:
		state = history.StateCancelled
	case c == CodeFailed || c == CodeUsage:
		state = history.StateFailed
	}
	raw, _ := json.Marshal(sum)
	e := history.Entry{
		State: state, Rows: sum.Rows, Valid: sum.Valid, Imported: sum.Imported, Invalid: sum.Invalid,
		Duplicate: sum.Duplicate, Failed: sum.Failed, Unconfirmed: sum.Unconfirmed, Skipped: sum.Skipped,
		NumberTotalAfter: sum.NumberTotalAfter, ExitCode: sum.ExitCode, Error: sum.Error,
		FinishedAt: r.opts.Now(), Summary: raw,
	}
	if ferr := o.History.Finish(context.WithoutCancel(ctx), r.historyID, e); ferr != nil {
		r.warn(fmt.Sprintf("could not record the import in the history %s: %v", o.History.Path(), ferr))
	}
}
