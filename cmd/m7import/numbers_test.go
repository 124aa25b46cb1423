package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/reports"
)

// seed imports rows into task through the API (rule 2: every row lands).
func (e *testEnv) seed(t *testing.T, task string, rows ...api.ImportRow) {
	t.Helper()
	c, err := api.New(api.Config{BaseURL: e.url, AppKey: e.env["M7_APPKEY"], Secret: e.env["M7_SECRET"], Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(context.Background(), api.ImportRequest{TaskID: task, ImportData: rows, Rule: api.RuleNone}); err != nil {
		t.Fatal(err)
	}
}

// held lists the numbers the task holds, sorted.
func (e *testEnv) held(task string) []string {
	var out []string
	for _, n := range e.srv.Numbers(task) {
		out = append(out, n.Number)
	}
	slices.Sort(out)
	return out
}

// filterTask makes a task whose rows differ in every filterable field.
func filterTask(t *testing.T, e *testEnv) string {
	t.Helper()
	task := e.srv.CreateTask("filters", "2000", "2001")
	e.seed(t, task,
		api.ImportRow{Name: "张三", Number: "13800138001", Remark: "vip", AgentNumber: "2000"},
		api.ImportRow{Name: "李四", Number: "13800138002", Remark: "vip", AgentNumber: "2001"},
		api.ImportRow{Name: "张三", Number: "13800138003", Remark: "", AgentNumber: "2001"},
		api.ImportRow{Name: "王五", Number: "13800138004", Remark: "new", AgentNumber: "2000"},
	)
	e.srv.SetCallResult(task, "13800138001", api.CallResultNotDeal)
	e.srv.SetCallResult(task, "13800138003", api.CallResultNotDeal)
	return task
}

func TestNumbersDeleteEachFilterAndTheirAND(t *testing.T) {
	tests := []struct {
		name string
		args []string
		left []string // suffixes of the numbers left, 1..4
	}{
		{"number, normalized", []string{"--number", "+86 138-0013-8001"}, []string{"2", "3", "4"}},
		{"full-width number", []string{"--number", "１３８００１３８００２"}, []string{"1", "3", "4"}},
		{"name", []string{"--name", "张三"}, []string{"2", "4"}},
		{"agent", []string{"--agent", "2000"}, []string{"2", "3"}},
		{"remark", []string{"--remark", "vip"}, []string{"3", "4"}},
		{"call result", []string{"--call-result", "not_deal"}, []string{"2", "4"}},
		{"name AND agent", []string{"--name", "张三", "--agent", "2001"}, []string{"1", "2", "4"}},
		{"agent AND remark AND call result", []string{"--agent", "2000", "--remark", "vip", "--call-result", "NOT_DEAL"}, []string{"2", "3", "4"}},
		{"number AND name that do not match together", []string{"--number", "13800138001", "--name", "李四"}, []string{"1", "2", "3", "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := filterTask(t, e)
			r := e.run(t, context.Background(), append([]string{"numbers", "delete", "--task-id", task}, tt.args...)...)
			if r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stder)
			}
			var want []string
			for _, s := range tt.left {
				want = append(want, "1380013800"+s)
			}
			if got := e.held(task); !slices.Equal(got, want) {
				t.Errorf("task holds %v, want %v", got, want)
			}
			if !strings.Contains(r.stder, "task numbers 4 → ") {
				t.Errorf("stderr %q does not show the count change", r.stder)
			}
		})
	}
}

func TestNumbersDeleteRefusals(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   exitCode
		stderr string
	}{
		{"no filter", []string{}, exitUsage, "--all"},
		{"--all off a terminal without --yes", []string{"--all"}, exitUsage, "add --yes"},
		{"--all with a filter", []string{"--all", "--yes", "--name", "张三"}, exitUsage, "no filter"},
		{"invalid --number", []string{"--number", "12345"}, exitUsage, "not a valid"},
		{"bad call result", []string{"--call-result", "DONE"}, exitUsage, "NOT_DEAL"},
		{"--number with --from", []string{"--number", "13800138001", "--from", "x.csv"}, exitUsage, "not both"},
		{"unknown task", []string{"--task-id", "no-such-task", "--name", "张三"}, exitFailed, "no such task"},
		{"secret as a flag", []string{"--name", "张三", "--secret", "s"}, exitUsage, "M7_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := filterTask(t, e)
			args := append([]string{"numbers", "delete", "--task-id", task}, tt.args...)
			r := e.run(t, context.Background(), args...)
			if r.code != tt.code || !strings.Contains(r.stder, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stder, tt.code, tt.stderr)
			}
			if n := len(e.held(task)); n != 4 {
				t.Errorf("task holds %d numbers after a refusal, want 4", n)
			}
			if n := e.srv.Stats()[sim.EndpointDelete].Calls; n != 0 {
				t.Errorf("%d delete calls after a refusal", n)
			}
		})
	}
}

func TestNumbersDeleteAllWithYesEmptiesTheTask(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := filterTask(t, e)
	other := e.srv.CreateTask("other")
	e.seed(t, other, api.ImportRow{Number: "13800138001"})
	r := e.run(t, context.Background(), "numbers", "delete", "--task-id", task, "--all", "--yes", "--json")
	if r.code != exitOK || len(e.held(task)) != 0 {
		t.Fatalf("exit %d, task holds %v: %s", r.code, e.held(task), r.stder)
	}
	if len(e.held(other)) != 1 {
		t.Errorf("another task lost its numbers")
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum["number_total_before"] != 4.0 || sum["number_total_after"] != 0.0 {
		t.Errorf("--json %q (%v)", r.stdout, err)
	}
}

func TestNumbersDeleteFromFile(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := filterTask(t, e)
	// Every other delete call is refused with a 503 first: the retries
	// must still delete every number.
	e.srv.SetFaults(sim.EndpointDelete, sim.Fault{Mode: sim.Fault503, EveryN: 2})
	in := e.leads(t, "dnc.csv", [][]string{
		{"甲", "138 0013 8001", "", ""},
		{"乙", "12345", "", ""},          // invalid
		{"丙", "+8613800138003", "", ""}, // same number in another form
		{"丁", "13800138001", "", ""},    // repeat of row 2
		{"戊", "13900139000", "", ""},    // not in the task: deleting it is a no-op
	})
	r := e.run(t, context.Background(), "numbers", "delete", "--task-id", task, "--from", in,
		"--rate", "0", "--retry-initial", "1ms", "--retry-max", "2ms")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if got := e.held(task); !slices.Equal(got, []string{"13800138002", "13800138004"}) {
		t.Errorf("task holds %v", got)
	}
	recs := readReport(t, filepath.Join(e.dir, "dnc.deleted.csv"))
	want := []importer.Status{deleter.Deleted, importer.Invalid, deleter.Deleted, deleter.Deleted, deleter.Deleted}
	if len(recs) != len(want) {
		t.Fatalf("report has %d rows, want %d", len(recs), len(want))
	}
	for i, rec := range recs {
		if rec.Status != want[i] || rec.Row != i+2 {
			t.Errorf("report row %d: %s (%s), want row %d %s", rec.Row, rec.Status, rec.Reason, i+2, want[i])
		}
	}
	if !strings.Contains(recs[1].Reason, "not a valid") || !strings.Contains(recs[3].Reason, "same number as row 2") {
		t.Errorf("reasons: %q, %q", recs[1].Reason, recs[3].Reason)
	}
	st := e.srv.Stats()[sim.EndpointDelete]
	if st.Processed != 3 || st.Faults["503"] == 0 {
		t.Errorf("server processed %d deletes with %v faults, want 3 (one per distinct number) after retries", st.Processed, st.Faults)
	}

	// With a filter, --from deletes only the listed numbers that also match.
	task2 := filterTask(t, e)
	e.srv.SetFaults(sim.EndpointDelete)
	in2 := e.leads(t, "some.csv", [][]string{{"", "13800138001", "", ""}, {"", "13800138002", "", ""}, {"", "13800138003", "", ""}})
	r = e.run(t, context.Background(), "numbers", "delete", "--task-id", task2, "--from", in2, "--name", "张三", "--rate", "0",
		"--report", filepath.Join(e.dir, "out.jsonl"))
	if r.code != exitOK {
		t.Fatalf("--from with --name: exit %d: %s", r.code, r.stder)
	}
	if got := e.held(task2); !slices.Equal(got, []string{"13800138002", "13800138004"}) {
		t.Errorf("--from with --name: task holds %v", got)
	}
	if n := len(readReport(t, filepath.Join(e.dir, "out.jsonl"))); n != 3 {
		t.Errorf("jsonl report has %d rows", n)
	}
}

func TestNumbersDeleteFromResultsReport(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.seed(t, task, api.ImportRow{Number: "13800138001"}, api.ImportRow{Number: "13800138002"}, api.ImportRow{Number: "13800138003"})
	path := filepath.Join(e.dir, "old.results.csv")
	f, err := reports.Create(path, reports.CSV)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range []importer.Record{
		// The CSV writer guards "+86..." against formula injection; the
		// report reader undoes it, and the number the import sent is used.
		{Row: 2, Number: "+86 138 0013 8001", Normalized: "13800138001", Status: importer.Imported},
		{Row: 3, Number: "13800138003", Normalized: "13800138003", Status: importer.Failed},
		{Row: 4, Number: "bad", Status: importer.Invalid, Reason: "not a phone number: put the phone number in this cell"},
	} {
		if err := f.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	r := e.run(t, context.Background(), "numbers", "delete", "--task-id", task, "--from", path, "--rate", "0")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if got := e.held(task); !slices.Equal(got, []string{"13800138002"}) {
		t.Errorf("task holds %v", got)
	}
	got := countStatus(readReport(t, filepath.Join(e.dir, "old.results.deleted.csv")))
	if got[deleter.Deleted] != 2 || got[importer.Invalid] != 1 {
		t.Errorf("report statuses %v", got)
	}
}

func TestConfirm(t *testing.T) {
	tests := []struct {
		name        string
		input       string
		interactive bool
		yes         bool
		want        error // nil, errCancelled, or any usage error
		prompted    bool
	}{
		{"yes flag", "", false, true, nil, false},
		{"answer y", "y\n", true, false, nil, true},
		{"answer YES", " YES \n", true, false, nil, true},
		{"answer n", "n\n", true, false, errCancelled, true},
		{"just enter", "\n", true, false, errCancelled, true},
		{"end of input", "", true, false, errCancelled, true},
		{"not a terminal", "y\n", false, false, usagef("x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w strings.Builder
			err := confirmWith(strings.NewReader(tt.input), &w, tt.interactive, tt.yes, "delete all 3 numbers of task \"x\"")
			switch {
			case tt.want == nil && err != nil, tt.want == errCancelled && !errors.Is(err, errCancelled):
				t.Errorf("err = %v, want %v", err, tt.want)
			case tt.want != nil && tt.want != errCancelled && exitFor(err) != exitUsage:
				t.Errorf("err = %v, want a usage error", err)
			}
			if prompted := strings.Contains(w.String(), "Delete all 3 numbers of task \"x\"? [y/N]"); prompted != tt.prompted {
				t.Errorf("prompt %q, want prompted=%v", w.String(), tt.prompted)
			}
		})
	}
}

func TestNumbersDeleteFromIsPacedLikeTheImport(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 2 s")
	}
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	rows := validRows(12)
	var seeded []api.ImportRow
	for _, r := range rows {
		seeded = append(seeded, api.ImportRow{Name: r[0], Number: r[1]})
	}
	e.seed(t, task, seeded...)
	in := e.leads(t, "dnc.csv", rows)
	start := len(e.srv.CallTimes("*"))
	r := e.run(t, context.Background(), "numbers", "delete", "--task-id", task, "--from", in, "--rate", "5")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if left := e.held(task); len(left) != 0 {
		t.Fatalf("task still holds %v", left)
	}
	// Every call counts, the task lookup included: never more than the
	// rate plus the burst in any second.
	times := e.srv.CallTimes("*")[start:]
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Second; j++ {
			n++
		}
		if n > 5+1 {
			t.Fatalf("%d calls within one second from call %d", n, i)
		}
	}
}
