package job

import (
	"time"

	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/settle"

	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
)

// openJournal starts the journal of an import, or reopens it for
// --resume, after checking that the rerun is the same import. It returns
// the task's numberTotal before the first run began, and the count this
// run starts from (after settling what an interrupted run left in doubt). These are the
// resume / refuse / --force rules of README's "crash safety".
func (r *fileRun) openJournal(ctx context.Context, rd *importer.Reader, sha string, before int) (*journal.Journal, func(), int, int, error) {
	o := r.opts
	path := journal.Path(r.report)
	unlock, err := journal.Lock(path)
	if err != nil {
		return nil, nil, 0, 0, fmt.Errorf("%s: %w", r.input, err)
	}
	fail := func(err error) (*journal.Journal, func(), int, int, error) {
		unlock()
		return nil, nil, 0, 0, err
	}
	cols := map[string]string{}
	for f, h := range rd.Columns() {
		cols[string(f)] = h
	}
	id := journal.Identity{
		InputSHA256: sha, TaskID: r.task.TaskID, Rule: o.Rule, BatchSize: o.BatchSize, Columns: cols,
		Policy: o.Read.Policy.String(), Region: o.Read.Region, Sheet: o.Read.Sheet,
		Encoding: strings.ToLower(o.Read.Encoding), NoHeader: o.Read.NoHeader,
	}
	jopts := journal.Options{ResendUnconfirmed: o.ResendUnconfirmed}
	prior, err := journal.Read(path)
	fresh := func() (*journal.Journal, func(), int, int, error) {
		if prior != nil && prior.Complete {
			// A finished import's record is kept, under another name.
			m, _ := journal.ReadMeta(r.report)
			if err := r.renameAside(ctx, m.FinishedAt); err != nil {
				return fail(err)
			}
		}
		j, err := journal.Create(path, r.input, id, before, jopts)
		if err != nil {
			return fail(err)
		}
		return j, unlock, before, before, nil
	}
	switch {
	case errors.Is(err, journal.ErrNoJournal):
		return fresh()
	case err != nil:
		return fail(err)
	}
	same := prior.Identity.InputSHA256 == id.InputSHA256 && prior.Identity.TaskID == id.TaskID
	// A finished run of another file or task is simply history: a nightly
	// job may always pass --resume. An interrupted one, or a finished one
	// of this same file and task, resumes only with the same options.
	if diff := prior.Identity.Diff(id); o.Resume && len(diff) > 0 && !(prior.Complete && !same) {
		return fail(WithHint(
			fmt.Errorf("cannot resume %s: the journal %s is for another import: %s", r.input, path, strings.Join(diff, "; ")),
			"rerun with the original file and options, or without --resume to start a new import (another --report keeps the old journal)"))
	}
	switch {
	case prior.Complete && !same:
		return fresh() // another file or task: a new run
	case prior.Complete && o.Force && !o.Resume:
		return fresh()
	case prior.Complete && !o.Resume:
		return fail(WithHint(
			fmt.Errorf("%s was already imported into task %s (journal %s): refusing to import it twice", r.input, id.TaskID, path),
			"add --force to import it again, or --resume to retry only its failed rows"))
	case !prior.Complete && !o.Resume:
		return fail(WithHint(
			fmt.Errorf("an earlier import of %s was interrupted (journal %s)", r.input, path),
			"run the same command with --resume: it sends what was not sent and nothing twice"))
	}
	var settled map[int]bool
	if id.Rule.CountsEveryRow() {
		if settled, before, err = r.settlePrior(ctx, prior, before); err != nil {
			return fail(err)
		}
	}
	j, err := journal.Resume(path, prior, settled, before, jopts)
	if err != nil {
		return fail(err)
	}
	imported := 0
	for _, b := range prior.Batches {
		if b.State == string(importer.Imported) {
			imported++
		}
	}
	r.notice(i18n.T(r.opts.Lang, i18n.Resuming, r.input, imported))
	return j, unlock, prior.NumberTotalBefore, before, nil
}

// settlePrior settles, before a rule-2 run resumes, the batches the
// interrupted run left of unknown fate: those the task's count shows
// landed are imported; those it shows did not land are resent, but only
// once the grace period since their last attempt began has passed (the
// server may still have been working on them), so a resume started
// sooner waits for it, saying so. It returns the verdicts and the count
// the resumed run starts from.
func (r *fileRun) settlePrior(ctx context.Context, prior *journal.Log, numberTotal int) (map[int]bool, int, error) {
	count := countNow(r.client, r.task.TaskID)
	for {
		unknown, delta, last := prior.InDoubt(numberTotal)
		if len(unknown) == 0 {
			return nil, numberTotal, nil
		}
		landed, ok := settle.Decide(unknown, delta)
		if !ok {
			r.warn(fmt.Sprintf("%s: %d batches sent by the interrupted run stay unconfirmed and are not resent: %s", r.input, len(unknown), settle.Mismatch(unknown, delta)))
			return nil, numberTotal, nil
		}
		allLanded := true
		for _, l := range landed {
			allLanded = allLanded && l
		}
		wait := last.Add(r.opts.Grace).Sub(r.opts.Now())
		if allLanded || wait <= 0 {
			return landed, numberTotal, nil
		}
		r.notice(i18n.T(r.opts.Lang, i18n.ResumeWaiting, r.input, wait.Round(time.Second), r.opts.Now().Sub(last).Round(time.Second)))
		if err := settle.Sleep(ctx, wait); err != nil {
			return nil, 0, fmt.Errorf("%s: stopped while waiting to settle the interrupted run: %w", r.input, err)
		}
		n, err := count(ctx)
		if err != nil {
			return nil, 0, err
		}
		numberTotal = n
	}
}
