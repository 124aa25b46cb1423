package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
)

// A check after an import writes its own report: the import's report,
// meta and journal stay, and rollback still takes the import back.
func TestValidateAfterImportKeepsTheImportsRecord(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "B.csv", validRows(12))
	if r := e.run(t, context.Background(), "import", in, "--task-id", task, "--rate", "0"); r.code != exitOK {
		t.Fatalf("import: exit %d: %s", r.code, r.stder)
	}
	r := e.run(t, context.Background(), "validate", in)
	if r.code != exitOK || !strings.Contains(r.stder, "B.check.csv") {
		t.Fatalf("validate: exit %d: %s", r.code, r.stder)
	}
	report := strings.TrimSuffix(in, ".csv") + ".results.csv"
	if got := countStatus(readReport(t, report)); got[importer.Imported] != 12 {
		t.Fatalf("the import's report after validate: %v", got)
	}
	r = e.run(t, context.Background(), "rollback", report, "--yes", "--rate", "0")
	if r.code != exitOK || len(e.held(task)) != 0 {
		t.Fatalf("rollback after validate: exit %d, %d numbers left: %s", r.code, len(e.held(task)), r.stder)
	}
	// The history says so.
	r = e.run(t, context.Background(), "history")
	if !strings.Contains(r.stdout+r.stder, "rolled back") {
		t.Fatalf("history does not show the rollback:\n%s%s", r.stdout, r.stder)
	}
}

// Importing an edited file under the same name keeps the first import's
// record under a timestamped name, so it can still be taken back.
func TestASecondImportMovesTheFirstImportsRecordAside(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "D.csv", validRows(5))
	if r := e.run(t, context.Background(), "import", in, "--task-id", task, "--rate", "0"); r.code != exitOK {
		t.Fatalf("first import: exit %d: %s", r.code, r.stder)
	}
	rows := validRows(8)[5:]
	e.leads(t, "D.csv", rows) // edited: other numbers, same name
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--rate", "0")
	if r.code != exitOK {
		t.Fatalf("second import: exit %d: %s", r.code, r.stder)
	}
	aside, _ := filepath.Glob(filepath.Join(e.dir, "D.results.2*.csv"))
	if len(aside) != 1 {
		t.Fatalf("the first import's report was not kept aside: %v\n%s", aside, r.stder)
	}
	for _, p := range []string{aside[0] + ".meta.json", aside[0] + ".journal"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%v", err)
		}
	}
	if got := countStatus(readReport(t, aside[0])); got[importer.Imported] != 5 {
		t.Fatalf("the first import's report: %v", got)
	}
	// The first import can still be rolled back, by its history id too.
	out := e.run(t, context.Background(), "import", in, "--task-id", task, "--rate", "0", "--json", "--force")
	var sum map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.stdout)), &sum); err != nil || sum["history_id"] == nil {
		t.Fatalf("--json: %v: %q", err, out.stdout)
	}
	r = e.run(t, context.Background(), "rollback", aside[0], "--yes", "--rate", "0")
	if r.code != exitOK {
		t.Fatalf("rollback of the first import: exit %d: %s", r.code, r.stder)
	}
}

// The fix-and-reimport round trip: the attention file lists the rows to
// fix in the input's own columns; fixed and dropped back in, only those
// rows go, and no cell gains a second apostrophe.
func TestAttentionFileRoundTrip(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := filepath.Join(e.dir, "leads.csv")
	content := "客户名称,手机号码,备注,座席工号\n" +
		"张三,13800138000,=1+1,2000\n" +
		"李四,1380013800A,'+86 old,2000\n" +
		"王五,13800138000,dup,2001\n" +
		"赵六,13900139000,,\n"
	if err := os.WriteFile(in, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	att := filepath.Join(e.dir, "fix.csv")
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--rate", "0", "--attention", att)
	if r.code != exitOK {
		t.Fatalf("import: exit %d: %s", r.code, r.stder)
	}
	b, err := os.ReadFile(att)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !strings.Contains(text, "客户名称,手机号码,备注,座席工号,row,status,reason") ||
		!strings.Contains(text, ",3,invalid,") || !strings.Contains(text, ",4,duplicate,") || strings.Contains(text, "赵六") {
		t.Fatalf("attention file:\n%s", text)
	}
	// Fix the number in a spreadsheet and save (the cells come back as the
	// file holds them), then drop the file in again.
	fixed := strings.Replace(text, "1380013800A", "13700137000", 1)
	if err := os.WriteFile(att, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	r = e.run(t, context.Background(), "import", att, "--task-id", task, "--rate", "0", "--attention", filepath.Join(e.dir, "fix2.csv"))
	if r.code != exitIncomplete { // the duplicate needs a decision: skipped
		t.Fatalf("reimport: exit %d: %s", r.code, r.stder)
	}
	recs := readReport(t, filepath.Join(e.dir, "fix.results.csv"))
	got := countStatus(recs)
	if got[importer.Imported] != 1 || got[importer.Skipped] != 1 || len(recs) != 2 {
		t.Fatalf("reimport report: %v", got)
	}
	if n := e.serverNumbers(task)["13700137000"]; n != 1 {
		t.Fatalf("the fixed number is on the server %d times", n)
	}
	second, err := os.ReadFile(filepath.Join(e.dir, "fix2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{text, fixed, string(second)} {
		if strings.Contains(f, "''") {
			t.Fatalf("a doubled apostrophe:\n%s", f)
		}
	}
	if !strings.Contains(text, ",'+86 old,") {
		t.Fatalf("the remark is not defused once:\n%s", text)
	}
	for _, rec := range recs {
		if rec.Name == "李四" && rec.Remark != "+86 old" {
			t.Fatalf("the fixed row's remark came back as %q", rec.Remark)
		}
	}
}

// validate reads with the dedupe rule the import will use: under rule 2
// repeats within the file are not duplicates.
func TestValidateTakesTheRule(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	rows := validRows(3)
	rows = append(rows, rows[0])
	in := e.leads(t, "r.csv", rows)
	for rule, dups := range map[string]int{"1": 1, "2": 0} {
		r := e.run(t, context.Background(), "validate", in, "--rule", rule, "--json")
		var sum map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &sum); err != nil || r.code != exitOK {
			t.Fatalf("rule %s: exit %d %v: %s", rule, r.code, err, r.stder)
		}
		if sum["duplicate"] != float64(dups) {
			t.Fatalf("rule %s: %v duplicates, want %d", rule, sum["duplicate"], dups)
		}
	}
}
