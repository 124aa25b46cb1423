package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/reports"
)

func TestRollbackLeavesTheTaskExactlyAsBeforeTheImport(t *testing.T) {
	for _, format := range []string{"csv", "xlsx", "jsonl"} {
		t.Run(format, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			ctx := context.Background()
			task := e.srv.CreateTask("回访", "2000", "2001")
			e.seed(t, task, api.ImportRow{Name: "老客户", Number: "13700137001", Remark: "old", AgentNumber: "2000"},
				api.ImportRow{Name: "老客户2", Number: "13700137002", AgentNumber: "2001"})
			e.srv.SetCallResult(task, "13700137001", api.CallResultNotDeal)
			before, tasksBefore := e.srv.Numbers(task), e.srv.Tasks()

			rows := validRows(30)
			rows = append(rows, []string{"坏号", "12345", "", ""}, []string{"重复", rows[3][1], "", ""})
			rows[5][3] = "2002" // a disabled agent: the server spreads the row
			in := e.leads(t, "leads.csv", rows)
			report := filepath.Join(e.dir, "leads.results."+format)
			r := e.run(t, ctx, "import", in, "--task-id", task, "--rate", "0", "--report", report)
			if r.code != exitOK {
				t.Fatalf("import: exit %d: %s", r.code, r.stder)
			}
			if n := len(e.srv.Numbers(task)); n != 32 {
				t.Fatalf("after the import the task holds %d rows, want 32", n)
			}

			r = e.run(t, ctx, "rollback", report, "--yes", "--rate", "0", "--json")
			if r.code != exitOK {
				t.Fatalf("rollback: exit %d: %s", r.code, r.stder)
			}
			if after := e.srv.Numbers(task); !reflect.DeepEqual(after, before) {
				t.Errorf("after rollback the task holds %v, want exactly %v", after, before)
			}
			if got := e.srv.Tasks(); !reflect.DeepEqual(got, tasksBefore) {
				t.Errorf("tasks %+v, want %+v", got, tasksBefore)
			}
			if n := e.srv.Stats()[sim.EndpointDelete].Calls; n != 30 {
				t.Errorf("%d delete calls, want 30 (one per imported number)", n)
			}
			if !strings.Contains(r.stder, "will delete 30 numbers") || !strings.Contains(r.stder, "as before the import") {
				t.Errorf("stderr:\n%s", r.stder)
			}
			recs := readReport(t, filepath.Join(e.dir, "leads.results.rollback.csv"))
			if len(recs) != 30 || countStatus(recs)[deleter.Deleted] != 30 || recs[0].Row != 2 || recs[0].Name != "客户0" {
				t.Errorf("rollback report: %d rows, %v, first %+v", len(recs), countStatus(recs), recs[0])
			}
			var sum map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum["deleted"] != 30.0 || sum["number_total_after"] != 2.0 {
				t.Errorf("--json %q (%v)", r.stdout, err)
			}
		})
	}
}

func TestRollbackRefusesWhenSomeNumbersWereInTheTaskBefore(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	ctx := context.Background()
	task := e.srv.CreateTask("t", "2000")
	rows := validRows(5)
	e.seed(t, task, api.ImportRow{Name: "already", Number: rows[2][1]})
	in := e.leads(t, "leads.csv", rows)
	if r := e.run(t, ctx, "import", in, "--task-id", task, "--rate", "0", "--rule", "1"); r.code != exitOK {
		t.Fatalf("import: exit %d: %s", r.code, r.stder)
	}
	report := filepath.Join(e.dir, "leads.results.csv")
	if n := len(e.srv.Numbers(task)); n != 5 {
		t.Fatalf("task holds %d rows, want 5 (the server dropped the repeat)", n)
	}

	r := e.run(t, ctx, "rollback", report, "--yes", "--rate", "0")
	if r.code != exitFailed || !strings.Contains(r.stder, "grew by 4") || !strings.Contains(r.stder, "already in the task before the import") ||
		!strings.Contains(r.stder, "--force") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stder)
	}
	if n := e.srv.Stats()[sim.EndpointDelete].Calls; n != 0 || len(e.srv.Numbers(task)) != 5 {
		t.Errorf("%d delete calls, task holds %d rows after a refusal", n, len(e.srv.Numbers(task)))
	}

	// --force deletes them all, the number that was there before included.
	r = e.run(t, ctx, "rollback", report, "--yes", "--force", "--rate", "0")
	if r.code != exitOK || len(e.srv.Numbers(task)) != 0 || !strings.Contains(r.stder, "warning:") {
		t.Errorf("--force: exit %d, task holds %v, stderr:\n%s", r.code, e.held(task), r.stder)
	}
}

// writeImportFixture writes a report and its side file by hand, as import
// would have.
func writeImportFixture(t *testing.T, dir string, meta journal.Meta, recs ...importer.Record) string {
	t.Helper()
	path := filepath.Join(dir, "leads.results.csv")
	f, err := reports.Create(path, reports.CSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := f.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	meta.Report = path
	if err := journal.WriteMeta(path, meta); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestRollbackOfATaskThatNoLongerExists(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	report := writeImportFixture(t, e.dir,
		journal.Meta{TaskID: "6ab971b0-6005-452e-9328-0883299619eb", TaskName: "十一月回访", NumberTotalBefore: 0, NumberTotalAfter: 1, Imported: 1},
		importer.Record{Row: 2, Number: "13800138000", Normalized: "13800138000", Status: importer.Imported, Batch: 1})
	r := e.run(t, context.Background(), "rollback", report, "--yes")
	if r.code != exitFailed || !strings.Contains(r.stder, "no longer exists") || !strings.Contains(r.stder, "十一月回访") ||
		!strings.Contains(r.stder, "6ab971b0-6005-452e-9328-0883299619eb") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stder)
	}
	if n := e.srv.Stats()[sim.EndpointDelete].Calls; n != 0 {
		t.Errorf("%d delete calls", n)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "leads.results.rollback.csv")); err == nil {
		t.Errorf("a rollback report was written for a rollback that did not start")
	}
}

func TestRollbackIncludeUnconfirmed(t *testing.T) {
	recs := []importer.Record{
		{Row: 2, Number: "13800138001", Normalized: "13800138001", Status: importer.Imported, Batch: 1},
		{Row: 3, Number: "13800138002", Normalized: "13800138002", Status: importer.Imported, Batch: 1},
		{Row: 4, Number: "13800138003", Normalized: "13800138003", Status: importer.Unconfirmed, Batch: 2},
		{Row: 5, Number: "12345", Status: importer.Invalid, Reason: "too short: digits are missing; check the number (a landline needs its area code)"},
		{Row: 6, Number: "13800138009", Normalized: "13800138009", Status: importer.Failed, Batch: 3},
	}
	tests := []struct {
		name  string
		args  []string
		left  []string
		rows  int
		stder string
	}{
		{"imported only", nil, []string{"13800138003", "13800138004", "13800138009"}, 2, "1 unconfirmed rows are kept"},
		{"with unconfirmed", []string{"--include-unconfirmed"}, []string{"13800138004", "13800138009"}, 3, "2 imported + 1 unconfirmed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := e.srv.CreateTask("t")
			// 13800138004 was there before; 13800138009 (failed) came from elsewhere.
			e.seed(t, task, api.ImportRow{Number: "13800138004"}, api.ImportRow{Number: "13800138009"})
			e.seed(t, task, api.ImportRow{Number: "13800138001"}, api.ImportRow{Number: "13800138002"}, api.ImportRow{Number: "13800138003"})
			report := writeImportFixture(t, e.dir, journal.Meta{TaskID: task, TaskName: "t", Rule: 1,
				NumberTotalBefore: 2, NumberTotalAfter: 5, Imported: 2, Unconfirmed: 1}, recs...)
			r := e.run(t, context.Background(), append([]string{"rollback", report, "--yes", "--rate", "0"}, tt.args...)...)
			if r.code != exitOK || !strings.Contains(r.stder, tt.stder) {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stder)
			}
			if got := e.held(task); !slices.Equal(got, tt.left) {
				t.Errorf("task holds %v, want %v", got, tt.left)
			}
			if n := len(readReport(t, filepath.Join(e.dir, "leads.results.rollback.csv"))); n != tt.rows {
				t.Errorf("rollback report has %d rows, want %d", n, tt.rows)
			}
		})
	}
}

func TestRollbackRefusals(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.seed(t, task, api.ImportRow{Number: "13800138001"})
	imported := importer.Record{Row: 2, Number: "13800138001", Normalized: "13800138001", Status: importer.Imported, Batch: 1}
	noMeta := filepath.Join(e.dir, "bare.results.csv")
	if err := os.WriteFile(noMeta, []byte(strings.Join(reports.Columns, ",")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		meta   journal.Meta
		args   []string
		code   exitCode
		stderr string
	}{
		{"off a terminal without --yes", journal.Meta{TaskID: task, NumberTotalAfter: 1, Imported: 1}, nil, exitUsage, "add --yes"},
		{"count after not recorded", journal.Meta{TaskID: task, Imported: 1}, []string{"--yes"}, exitFailed, "not recorded"},
		{"report over itself", journal.Meta{TaskID: task, NumberTotalAfter: 1}, []string{"--yes", "--report", "SELF"}, exitUsage, "overwrite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			report := writeImportFixture(t, t.TempDir(), tt.meta, imported)
			args := []string{"rollback", report}
			for _, a := range tt.args {
				if a == "SELF" {
					a = report
				}
				args = append(args, a)
			}
			r := e.run(t, context.Background(), args...)
			if r.code != tt.code || !strings.Contains(r.stder, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stder, tt.code, tt.stderr)
			}
			if len(e.held(task)) != 1 {
				t.Errorf("the number was deleted")
			}
		})
	}
	r := e.run(t, context.Background(), "rollback", noMeta, "--yes")
	if r.code != exitFailed || !strings.Contains(r.stder, "bare.results.csv.meta.json") {
		t.Errorf("no side file: exit %d, stderr %q", r.code, r.stder)
	}
	r = e.run(t, context.Background(), "rollback", "a.csv", "b.csv")
	if r.code != exitUsage {
		t.Errorf("two reports: exit %d", r.code)
	}
}
