package rollback_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/rollback"
)

func writeReport(t *testing.T, recs ...importer.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leads.results.csv")
	f, err := reports.Create(path, reports.CSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := f.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlanAndGuard(t *testing.T) {
	report := writeReport(t,
		importer.Record{Row: 2, Number: "13800138000", Normalized: "13800138000", Status: importer.Imported, Batch: 1},
		importer.Record{Row: 3, Number: "13800138001", Normalized: "13800138001", Status: importer.Imported, Batch: 1},
		importer.Record{Row: 4, Number: "x", Status: importer.Invalid, Reason: "not a phone number"},
		importer.Record{Row: 5, Number: "13800138002", Normalized: "13800138002", Status: importer.Unconfirmed, Batch: 2},
	)
	tests := []struct {
		name               string
		includeUnconfirmed bool
		before, after      int
		selected           int
		refused            string
	}{
		{"the task grew by what was imported", false, 10, 12, 2, ""},
		{"the server dropped one it held: refused", false, 10, 11, 2, "at least 1 of those numbers were already in the task"},
		{"unconfirmed included, one never landed: refused", true, 10, 12, 3, "some unconfirmed numbers were never added"},
		{"unconfirmed included, all landed", true, 10, 13, 3, ""},
		{"the count after was not recorded", false, 10, 0, 2, "not recorded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := rollback.PlanFor(report, tt.includeUnconfirmed)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Rows != 4 || plan.Imported != 2 || plan.Unconfirmed != 1 || plan.Selected != tt.selected {
				t.Fatalf("plan %+v", plan)
			}
			err = rollback.CheckGrowth(journal.Meta{TaskID: "T", NumberTotalBefore: tt.before, NumberTotalAfter: tt.after}, plan, report)
			switch {
			case tt.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.refused != "" && (err == nil || !strings.Contains(err.Error(), tt.refused)):
				t.Fatalf("err = %v, want one saying %q", err, tt.refused)
			}
		})
	}
}
