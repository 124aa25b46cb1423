package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
)

func TestImportMultiBatchLandsExactlyAndReportsEveryRow(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("leads", "2000")
	rows := validRows(4500)
	rows = append(rows, []string{"坏号", "12345", "", ""}, []string{"重复", rows[0][1], "", ""}, []string{"", "", "", ""})
	in := e.leads(t, "leads.csv", rows)
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--rate", "0", "--json")
	if r.code != exitOK {
		// 4,500 valid rows all imported; one invalid and one duplicate do not
		// make the run incomplete.
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("--json output %q: %v", r.stdout, err)
	}
	want := map[string]float64{"rows": 4502, "valid": 4500, "imported": 4500, "invalid": 1, "duplicate": 1,
		"failed": 0, "unconfirmed": 0, "skipped": 0, "batches": 3, "number_total_before": 0, "number_total_after": 4500, "exit_code": 0, "rule": 1}
	for k, v := range want {
		if sum[k] != v {
			t.Errorf("summary %s = %v, want %v", k, sum[k], v)
		}
	}
	for _, k := range []string{"file", "report", "task_id", "retries", "elapsed_ms"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s", k)
		}
	}
	report := strings.TrimSuffix(in, ".csv") + ".results.csv"
	recs := readReport(t, report)
	if len(recs) != 4502 {
		t.Fatalf("report has %d rows", len(recs))
	}
	sizes := map[int]int{}
	for i, rec := range recs {
		if rec.Row != i+2 {
			t.Fatalf("report row %d is input row %d", i, rec.Row)
		}
		sizes[rec.Batch]++
	}
	if sizes[1] != 2000 || sizes[2] != 2000 || sizes[3] != 500 {
		t.Errorf("batch sizes %v, want 2000, 2000, 500", sizes)
	}
	if recs[4501].Status != importer.Duplicate || !strings.Contains(recs[4501].Reason, "row 2") {
		t.Errorf("duplicate row: %+v", recs[4501])
	}
	e.checkImportedIsOnServer(t, task, recs)
	if _, err := os.Stat(report + ".meta.json"); err != nil {
		t.Errorf("no side file: %v", err)
	}
}

func TestImportExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *testEnv) (args []string)
		code   exitCode
		stderr string
	}{
		{"validate, no credentials needed", func(e *testEnv) []string {
			delete(e.env, "M7_SECRET")
			return []string{"validate", e.leads(t, "a.csv", validRows(3))}
		}, exitOK, "3 valid"},
		{"unreadable file", func(e *testEnv) []string {
			return []string{"import", filepath.Join(e.dir, "missing.csv"), "--task-id", "x"}
		}, exitFailed, "missing.csv"},
		{"no such task", func(e *testEnv) []string {
			return []string{"import", e.leads(t, "a.csv", validRows(3)), "--task-id", "nope"}
		}, exitFailed, "no such task"},
		{"unknown task name lists how to create it", func(e *testEnv) []string {
			return []string{"import", e.leads(t, "a.csv", validRows(3)), "--task-name", "nope"}
		}, exitFailed, "--create-task"},
		{"no task flag", func(e *testEnv) []string {
			return []string{"import", e.leads(t, "a.csv", validRows(3))}
		}, exitUsage, "--task-id"},
		{"batch size over the API's limit", func(e *testEnv) []string {
			return []string{"import", e.leads(t, "a.csv", validRows(3)), "--task-id", "x", "--batch-size", "2001"}
		}, exitUsage, "2000"},
		{"secret as a flag is refused", func(e *testEnv) []string {
			return []string{"import", e.leads(t, "a.csv", validRows(3)), "--task-id", "x", "--secret", "s3cr3t"}
		}, exitUsage, "M7_SECRET"},
		{"max-invalid refuses", func(e *testEnv) []string {
			task := e.srv.CreateTask("t")
			rows := append(validRows(8), []string{"a", "123", "", ""}, []string{"b", "abc", "", ""})
			return []string{"import", e.leads(t, "a.csv", rows), "--task-id", task, "--max-invalid", "10%"}
		}, exitRefused, "over --max-invalid"},
		{"failed batches", func(e *testEnv) []string {
			task := e.srv.CreateTask("t")
			e.srv.SetFaults("import", sim.Fault{Mode: sim.Fault503, EveryN: 1})
			return []string{"import", e.leads(t, "a.csv", validRows(3)), "--task-id", task, "--max-retries", "1", "--retry-initial", "1ms"}
		}, exitIncomplete, "3 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			r := e.run(t, context.Background(), tt.setup(e)...)
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tt.code, r.stder)
			}
			if !strings.Contains(r.stder, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, r.stder)
			}
			if strings.Contains(r.stder, "test-secret") || strings.Contains(r.stdout, "test-secret") {
				t.Error("the secret was printed")
			}
		})
	}
}

func TestImportMaxInvalidSendsNothingAndReportsEveryRow(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	rows := append(validRows(5), []string{"a", "123", "", ""}, []string{"b", "abc", "", ""})
	in := e.leads(t, "a.csv", rows)
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--max-invalid", "1")
	if r.code != exitRefused {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if n := e.srv.Stats()["import"].Calls; n != 0 {
		t.Fatalf("%d import calls despite --max-invalid", n)
	}
	got := countStatus(readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv"))
	if got[importer.Skipped] != 5 || got[importer.Invalid] != 2 {
		t.Fatalf("statuses %v", got)
	}
	// Under the limit, the same file goes through.
	r = e.run(t, context.Background(), "import", in, "--task-id", task, "--max-invalid", "30%", "--force")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
}

func TestImportAuthFailureStopsTheRunEarly(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "a.csv", validRows(50))
	e.env["M7_SECRET"] = "wrong"
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--batch-size", "5", "--rate", "0")
	if r.code != exitFailed {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if calls := e.srv.Stats()["import"].Calls; calls != 0 {
		t.Errorf("%d import calls after the login was refused", calls)
	}
	if strings.Contains(r.stder, "wrong") {
		t.Error("the secret was printed")
	}
}

func TestImportAuthRefusedMidRunSkipsTheRest(t *testing.T) {
	// The task lookup succeeds; then the import endpoint refuses the
	// credentials (as when a key is revoked mid-run).
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "a.csv", validRows(50))
	// A proxy that spoils the signature of import calls only.
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/import") {
			r.Header.Set("m7-sign", "AAAA"+r.Header.Get("m7-sign")[4:])
		}
		e.srv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	e.env["M7_BASE_URL"] = hs.URL
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--batch-size", "5", "--rate", "0", "--concurrency", "1")
	if r.code != exitFailed {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if calls := e.srv.Stats()["import"].Calls; calls > 2 {
		t.Errorf("%d import calls: the run went on after the auth refusal", calls)
	}
	got := countStatus(readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv"))
	if got[importer.Failed] != 5 || got[importer.Skipped] != 45 {
		t.Errorf("statuses %v", got)
	}
}

func TestImportRetriesAndAmbiguity(t *testing.T) {
	tests := []struct {
		name   string
		rule   string
		fault  sim.Fault
		code   exitCode
		status map[importer.Status]int
		calls  int
		// failCount makes the simulator refuse the count query that would
		// settle an ambiguous reply (the second task query of the run).
		failCount bool
	}{
		{"503 then ok", "2", sim.Fault{Mode: sim.Fault503, EveryN: 2}, exitOK, map[importer.Status]int{importer.Imported: 30}, 5, false},
		{"429 then ok", "2", sim.Fault{Mode: sim.Fault429, EveryN: 2}, exitOK, map[importer.Status]int{importer.Imported: 30}, 5, false},
		{"process-then-500 under rule 1 is resent", "1", sim.Fault{Mode: sim.FaultProcessThen500, EveryN: 2}, exitOK, map[importer.Status]int{importer.Imported: 30}, 5, false},
		// Under rule 2 the batch is not resent; the task's numberTotal
		// settles it.
		{"process-then-500 under rule 2 is settled, not resent", "2", sim.Fault{Mode: sim.FaultProcessThen500, EveryN: 2}, exitOK, map[importer.Status]int{importer.Imported: 30}, 3, false},
		{"dropped reply under rule 2 is settled, not resent", "2", sim.Fault{Mode: sim.FaultProcessThenDrop, EveryN: 2}, exitOK, map[importer.Status]int{importer.Imported: 30}, 3, false},
		// When numberTotal cannot be read, the batch stays unconfirmed.
		{"unsettled ambiguity under rule 2 is unconfirmed", "2", sim.Fault{Mode: sim.FaultProcessThen500, EveryN: 2}, exitIncomplete, map[importer.Status]int{importer.Imported: 20, importer.Unconfirmed: 10}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := e.srv.CreateTask("t")
			e.srv.SetFaults("import", tt.fault)
			if tt.failCount {
				e.srv.SetFaults("get", sim.Fault{Mode: sim.Fault503, EveryN: 2})
			}
			in := e.leads(t, "a.csv", validRows(30))
			r := e.run(t, context.Background(), "import", in, "--task-id", task, "--rule", tt.rule, "--batch-size", "10",
				"--rate", "0", "--concurrency", "1", "--retry-initial", "1ms", "--retry-max", "2ms")
			if r.code != tt.code {
				t.Fatalf("exit %d: %s", r.code, r.stder)
			}
			recs := readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv")
			got := countStatus(recs)
			for s, n := range tt.status {
				if got[s] != n {
					t.Errorf("%d %s rows, want %d (all: %v)", got[s], s, n, got)
				}
			}
			if calls := e.srv.Stats()["import"].Calls; calls != tt.calls {
				t.Errorf("%d import calls, want %d", calls, tt.calls)
			}
			// Whatever the faults, no number is on the server twice.
			for n, c := range e.serverNumbers(task) {
				if c != 1 {
					t.Errorf("%s on the server %d times", n, c)
				}
			}
			for _, rec := range recs {
				// A reply that was lost has no request id; numberTotal settled it.
				if rec.Status == importer.Imported && rec.RequestID == "" && !strings.Contains(rec.Reason, "numberTotal") {
					t.Errorf("row %d imported without a request id", rec.Row)
				}
			}
		})
	}
}

func TestImportCancelMidRunLeavesCompleteReport(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults("import", sim.Fault{Mode: sim.FaultLatency, Latency: 50 * time.Millisecond})
	in := e.leads(t, "a.csv", validRows(1000))
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitUntil(t, "3 import calls", func() bool { return e.srv.Stats()["import"].Calls >= 3 })
		cancel() // what Ctrl-C does
	}()
	r := e.run(t, ctx, "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0", "--concurrency", "2")
	if r.code != exitFailed {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	recs := readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv")
	if len(recs) != 1000 {
		t.Fatalf("report has %d rows, want all 1000", len(recs))
	}
	got := countStatus(recs)
	if got[importer.Skipped] == 0 || got[importer.Imported] == 0 || got[importer.Imported]+got[importer.Skipped] != 1000 {
		t.Fatalf("statuses %v", got)
	}
	e.checkImportedIsOnServer(t, task, recs)
}

func TestImportTaskNameAndCreateTask(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	in := e.leads(t, "a.csv", validRows(3))
	r := e.run(t, context.Background(), "import", in, "--task-name", "十一月回访", "--create-task", "--agents", "2000,2001")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	ts := e.srv.Tasks()
	if len(ts) != 1 || ts[0].Name != "十一月回访" || ts[0].Numbers != 3 {
		t.Fatalf("tasks %+v", ts)
	}
	// Second file into the now existing task by name: no new task.
	in2 := e.leads(t, "b.csv", validRows(5))
	if r := e.run(t, context.Background(), "import", in2, "--task-name", "十一月回访", "--create-task"); r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if ts := e.srv.Tasks(); len(ts) != 1 || ts[0].Numbers != 5 {
		t.Fatalf("tasks %+v", ts)
	}
	// Two tasks of one name: ambiguous, the error lists both ids.
	e.srv.CreateTask("十一月回访")
	r = e.run(t, context.Background(), "import", in2, "--task-name", "十一月回访")
	if r.code != exitFailed || !strings.Contains(r.stder, ts[0].ID) {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
}

func TestImportRateLimitHolds(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 3 s")
	}
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "a.csv", validRows(80))
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--batch-size", "5", "--rate", "5", "--burst", "1", "--concurrency", "4")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	if n := len(e.srv.CallTimes("import")); n != 16 {
		t.Fatalf("%d import calls", n)
	}
	// Every call counts against the account's limit, lookups included.
	times := e.srv.CallTimes("*")
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j].Sub(times[i]) < time.Second; j++ {
			n++
		}
		if n > 5+1 {
			t.Fatalf("%d requests within one second from call %d", n, i)
		}
	}
}

func TestReportFormatsAndEscaping(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	in := e.leads(t, "a.csv", [][]string{{"=HYPERLINK(\"x\")", "13800138000", "@SUM(1)", ""}, {"-1", "+86 139-0013-9000", "+x", ""}})
	for _, f := range []string{"csv", "xlsx", "jsonl"} {
		t.Run(f, func(t *testing.T) {
			report := filepath.Join(e.dir, "out."+f)
			if r := e.run(t, context.Background(), "validate", in, "--report", report); r.code != exitOK {
				t.Fatalf("exit %d: %s", r.code, r.stder)
			}
			recs := readReport(t, report)
			if len(recs) != 2 || recs[0].Name != "=HYPERLINK(\"x\")" || recs[1].Number != "+86 139-0013-9000" || recs[1].Normalized != "13900139000" {
				t.Fatalf("round trip %+v", recs)
			}
			if f != "csv" {
				return
			}
			raw, _ := os.ReadFile(report)
			if !bytes.HasPrefix(raw, []byte("\ufeffrow,name,number,remark,agent_number,normalized_number,status,reason,batch,request_id\n")) &&
				!bytes.HasPrefix(raw, []byte("\ufeffrow,name,number,remark,agent_number,normalized_number,status,reason,batch,request_id\r\n")) {
				t.Fatalf("header: %q", raw[:min(len(raw), 120)])
			}
			for _, bad := range []string{"\n2,=HYP", ",@SUM", ",+86", ",-1,", ",+x"} {
				if bytes.Contains(raw, []byte(bad)) {
					t.Errorf("formula not neutralized: %q in %s", bad, raw)
				}
			}
		})
	}
}

func TestFlagsAfterFileArguments(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	in := e.leads(t, "a.csv", validRows(2))
	report := filepath.Join(e.dir, "r.jsonl")
	r := e.run(t, context.Background(), "validate", in, "--report", report, "--json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"valid":2`) {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stder)
	}
	if _, err := os.Stat(report); err != nil {
		t.Fatal(err)
	}
}

func TestSeveralFilesEachGetTheirReportAndSummaryLine(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	a := e.leads(t, "a.csv", validRows(3))
	rows := validRows(6)[3:]
	rows = append(rows, []string{"x", "abc", "", ""})
	b := e.leads(t, "b.csv", rows)
	r := e.run(t, context.Background(), "import", a, b, "--task-id", task, "--json", "--rate", "0")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one JSON line per file, got %q", r.stdout)
	}
	for i, want := range []struct {
		file             string
		imported, invald float64
	}{{a, 3, 0}, {b, 3, 1}} {
		var sum map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &sum); err != nil {
			t.Fatal(err)
		}
		if sum["file"] != want.file || sum["imported"] != want.imported || sum["invalid"] != want.invald {
			t.Errorf("line %d: %v", i, sum)
		}
		if _, err := os.Stat(sum["report"].(string)); err != nil {
			t.Errorf("report of %s: %v", want.file, err)
		}
	}
	if got := len(e.srv.Numbers(task)); got != 6 {
		t.Fatalf("task holds %d numbers", got)
	}
}

func TestUnreadableRowMidFileSendsNothingAndReportsEveryRowRead(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	rows := validRows(40)
	rows[25][2] = strings.Repeat("x", 2<<20) // a 2 MiB remark on row 27
	in := e.leads(t, "a.csv", rows)
	r := e.run(t, context.Background(), "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0", "--concurrency", "1")
	if r.code != exitFailed || !strings.Contains(r.stder, "row 27") {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	recs := readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv")
	got := countStatus(recs)
	// The pass before sending found the unreadable row: nothing was
	// sent, and every row read before it is reported.
	if len(recs) != 25 || got[importer.Skipped] != 25 || !strings.Contains(recs[0].Reason, "cannot be read to the end (row 27)") {
		t.Fatalf("report: %d rows, %v, %q", len(recs), got, recs[0].Reason)
	}
	if n := len(e.srv.Numbers(task)); n != 0 {
		t.Fatalf("%d numbers sent from a file that cannot be read to the end", n)
	}
}
