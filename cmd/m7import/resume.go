package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
)

// openJournal starts the journal of an import, or reopens it for
// --resume, after checking that the rerun is the same import. It returns
// the task's numberTotal before the first run began.
func (r *importRun) openJournal(ctx context.Context, input, report string, rd *importer.Reader, before *int) (*journal.Journal, func(), int, error) {
	path := journal.Path(report)
	unlock, err := journal.Lock(path)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("%s: %w", input, err)
	}
	fail := func(err error) (*journal.Journal, func(), int, error) {
		unlock()
		return nil, nil, 0, err
	}
	sha, err := journal.HashFile(input)
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", input, err))
	}
	cols := map[string]string{}
	for f, h := range rd.Columns() {
		cols[string(f)] = h
	}
	id := journal.Identity{
		InputSHA256: sha, TaskID: r.task.TaskID, Rule: r.o.rule, BatchSize: r.o.batchSize, Columns: cols,
		Policy: r.o.readOpts.Policy.String(), Region: r.o.readOpts.Region, Sheet: r.o.sheet,
		Encoding: strings.ToLower(r.o.encoding), NoHeader: r.o.noHeader,
	}
	jopts := journal.Options{ResendUnconfirmed: r.o.resendUnconfirmed}
	prior, err := journal.Read(path)
	fresh := func() (*journal.Journal, func(), int, error) {
		j, err := journal.Create(path, input, id, *before, jopts)
		if err != nil {
			return fail(err)
		}
		return j, unlock, *before, nil
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
	if diff := prior.Identity.Diff(id); r.o.resume && len(diff) > 0 && !(prior.Complete && !same) {
		return fail(&hintError{
			err:  fmt.Errorf("cannot resume %s: the journal %s is for another import: %s", input, path, strings.Join(diff, "; ")),
			hint: "rerun with the original file and options, or without --resume to start a new import (another --report keeps the old journal)",
		})
	}
	switch {
	case prior.Complete && !same:
		return fresh() // another file or task: a new run
	case prior.Complete && r.o.force && !r.o.resume:
		return fresh()
	case prior.Complete && !r.o.resume:
		return fail(&hintError{
			err:  fmt.Errorf("%s was already imported into task %s (journal %s): refusing to import it twice", input, id.TaskID, path),
			hint: "add --force to import it again, or --resume to retry only its failed rows",
		})
	case !prior.Complete && !r.o.resume:
		return fail(&hintError{
			err:  fmt.Errorf("an earlier import of %s was interrupted (journal %s)", input, path),
			hint: "run the same command with --resume: it sends what was not sent and nothing twice",
		})
	}
	var settled map[int]bool
	if id.Rule == 2 {
		settled = prior.Settle(*before)
	}
	j, err := journal.Resume(path, prior, settled, *before, jopts)
	if err != nil {
		return fail(err)
	}
	if !r.o.quiet {
		imported := 0
		for _, b := range prior.Batches {
			if b.State == "imported" {
				imported++
			}
		}
		fmt.Fprintf(r.io.Err, "resuming %s: %d batches already imported\n", input, imported)
	}
	return j, unlock, prior.NumberTotalBefore, nil
}
