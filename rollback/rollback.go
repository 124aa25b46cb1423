// Package rollback decides what taking back an import deletes: the plan
// read from the import's report, the guard that refuses to delete numbers
// the import did not add, and the sources of numbers to delete (a report's
// imported rows, or any list of numbers: a report or a lead file). The
// deleter sends the calls.
package rollback

import (
	"context"
	"fmt"
	"io"

	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
)

// Plan is what a first pass over an import's report found.
type Plan struct {
	Rows        int      // rows in the report
	Imported    int      // rows reported imported
	Unconfirmed int      // rows reported unconfirmed
	Selected    int      // rows to delete
	Sample      []string // the first numbers to delete, for the prompt
}

// sampleSize is how many numbers a Plan shows.
const sampleSize = 5

// wanted reports whether a report row's number is to be deleted.
func wanted(st importer.Status, includeUnconfirmed bool) bool {
	return st == importer.Imported || includeUnconfirmed && st == importer.Unconfirmed
}

// PlanFor reads the report once to count what a rollback would delete.
func PlanFor(path string, includeUnconfirmed bool) (Plan, error) {
	var p Plan
	r, err := reports.Open(path)
	if err != nil {
		return p, err
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return p, nil
		}
		if err != nil {
			return p, fmt.Errorf("read report %s: %w", path, err)
		}
		p.Rows++
		switch rec.Status {
		case importer.Imported:
			p.Imported++
		case importer.Unconfirmed:
			p.Unconfirmed++
		}
		if wanted(rec.Status, includeUnconfirmed) {
			p.Selected++
			if len(p.Sample) < sampleSize {
				p.Sample = append(p.Sample, rec.Normalized)
			}
		}
	}
}

// CheckGrowth refuses a rollback that would delete numbers the import did
// not add. The server drops a number it already holds (rule 0 or 1) while
// the report still calls the row imported (NOTES.md: the import result has
// no per-row outcome), and a delete by number removes every row with it;
// so when the task grew by fewer numbers than rollback would delete, some
// of those numbers were in the task before the import.
func CheckGrowth(meta journal.Meta, plan Plan, report string) error {
	added := meta.NumberTotalAfter - meta.NumberTotalBefore
	if added >= plan.Selected {
		return nil
	}
	unknown := ""
	if meta.NumberTotalAfter == 0 {
		unknown = " (or the count after the import was not recorded)"
	}
	if added < plan.Imported {
		return fmt.Errorf("rollback %s: task %s grew by %d numbers during the import (%d → %d)%s, but the report lists %d rows as imported: "+
			"at least %d of those numbers were already in the task before the import (the server drops numbers it holds), "+
			"and deleting them would remove numbers this import did not add",
			report, meta.TaskID, added, meta.NumberTotalBefore, meta.NumberTotalAfter, unknown, plan.Imported, plan.Imported-max(added, 0))
	}
	return fmt.Errorf("rollback %s: task %s grew by %d numbers during the import (%d → %d)%s, but the report lists %d imported and %d unconfirmed rows: "+
		"some unconfirmed numbers were never added, and deleting them would remove rows with those numbers that were in the task before the import, if any",
		report, meta.TaskID, added, meta.NumberTotalBefore, meta.NumberTotalAfter, unknown, plan.Imported, plan.Selected-plan.Imported)
}

// Selected yields the report rows a rollback deletes: those reported
// imported (and unconfirmed, when included), by the number the import
// sent.
type Selected struct {
	r                  *reports.Reader
	includeUnconfirmed bool
}

var _ deleter.Source = (*Selected)(nil)

// SelectFrom reads the rows to delete from an open report.
func SelectFrom(r *reports.Reader, includeUnconfirmed bool) *Selected {
	return &Selected{r: r, includeUnconfirmed: includeUnconfirmed}
}

// Next returns the next row to delete.
func (s *Selected) Next() (importer.Record, error) {
	for {
		rec, err := s.r.Next()
		if err != nil {
			return rec, err
		}
		if !wanted(rec.Status, s.includeUnconfirmed) {
			continue
		}
		rec.Status, rec.Reason = importer.Valid, ""
		if rec.Normalized == "" {
			rec.Status, rec.Reason = importer.Invalid, "the report gives no normalized number for this row"
		}
		return rec, nil
	}
}

// NumberList is an open list of numbers to delete.
type NumberList interface {
	deleter.Source
	Close() error
}

// OpenNumberList opens a file of numbers to delete. A results report of
// import is read with the reports reader (which undoes the CSV's formula
// guard) and each row is deleted by the number the import sent; anything
// else is read as a lead file, normalized like an import.
func OpenNumberList(ctx context.Context, path string, opts importer.Options) (NumberList, error) {
	if rr, err := reports.Open(path); err == nil {
		norm, err := importer.NewNormalizer(opts.Region, opts.Policy)
		if err != nil {
			rr.Close()
			return nil, err
		}
		return &reportNumbers{r: rr, norm: norm}, nil
	}
	r, err := importer.Open(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// reportNumbers reads a results report as a list of numbers to delete.
type reportNumbers struct {
	r    *reports.Reader
	norm *importer.Normalizer
}

// Next returns the report's next row, valid with the number the import
// sent, or normalized from the number cell when the import sent none.
func (s *reportNumbers) Next() (importer.Record, error) {
	rec, err := s.r.Next()
	if err != nil {
		return rec, err
	}
	rec.Status, rec.Reason = importer.Valid, ""
	if rec.Normalized == "" {
		n, err := s.norm.Normalize(rec.Number)
		if err != nil {
			rec.Status, rec.Reason = importer.Invalid, err.Error()
		}
		rec.Normalized = n
	}
	return rec, nil
}

// Close closes the report.
func (s *reportNumbers) Close() error { return s.r.Close() }
