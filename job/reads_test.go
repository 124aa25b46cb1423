package job_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/internal/leadgen"
	"github.com/m7import/m7import/job"
)

// TestImportReadsTheFileAtMostTwice counts the passes over the input of an
// import with --max-invalid and an agent column (the pre-check that also
// hashes the bytes, then the import pass): one home for the pre-checks,
// one read of the input for them (issue 15).
func TestImportReadsTheFileAtMostTwice(t *testing.T) {
	rows := 1_000_000
	if testing.Short() || raceEnabled {
		rows = 50_000
	}
	e := newEnv(t)
	in := filepath.Join(e.dir, "leads.csv")
	if err := leadgen.WriteFile(in, leadgen.Config{Rows: rows, Seed: 15, InvalidPct: 2, DupPct: 1}); err != nil {
		t.Fatal(err)
	}
	id := e.srv.CreateTask("reads", "2000", "2001")
	o := e.options(t, in)
	o.Rule, o.Concurrency = api.RuleNone, 4
	if o.MaxInvalid, _ = job.ParseLimit("5%"); !o.MaxInvalid.Set() {
		t.Fatal("--max-invalid 5% not set")
	}
	opens := 0
	o.Read.Opened = func(string) { opens++ }
	task := func(context.Context) (api.Task, error) { return api.Task{TaskID: id, TaskName: "reads"}, nil }
	sum, err := job.File(context.Background(), e.client, task, in, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Mapping["agentNumber"] == "" {
		t.Fatalf("the generated file has no agent column: mapping %v", sum.Mapping)
	}
	if sum.Imported == 0 || sum.Imported != sum.Valid {
		t.Fatalf("summary %+v", sum.Counts)
	}
	if opens > 2 {
		t.Fatalf("the input was opened %d times for one import, want at most 2", opens)
	}
}
