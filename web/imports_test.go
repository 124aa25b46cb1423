package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/reports"
	"github.com/m7import/m7import/tasklock"
	"github.com/m7import/m7import/tasks"
	"github.com/m7import/m7import/web"
)

// testDeadline bounds every wait of these tests.
const testDeadline = 60 * time.Second

// serialImports makes the server's imports send one batch at a time, so
// that the simulator's request ids come in the same order as in a command
// line run with --concurrency 1.
func serialImports(c *web.Config) {
	c.Import = web.DefaultImportOptions()
	c.Import.Concurrency = 1
	c.Import.DrainTimeout = 5 * time.Second
	c.Import.Timeout = 5 * time.Second
}

// importItem is the part of an import's JSON the tests read.
type importItem struct {
	ID          string `json:"id"`
	State       string `json:"state"`
	File        string `json:"file"`
	TaskID      string `json:"task_id"`
	Rows        int    `json:"rows"`
	Valid       int    `json:"valid"`
	Imported    int    `json:"imported"`
	Invalid     int    `json:"invalid"`
	Duplicate   int    `json:"duplicate"`
	Skipped     int    `json:"skipped"`
	ExitCode    int    `json:"exit_code"`
	Error       string `json:"error"`
	RolledBack  bool   `json:"rolled_back"`
	HistoryID   int64  `json:"history_id"`
	Batches     int    `json:"batches"`
	NumberAfter *int   `json:"number_total_after"`
}

type conflictReply struct {
	Error    string `json:"error"`
	ImportID string `json:"import_id"`
}

// startImport posts an import of file into task.
func (e *env) startImport(t *testing.T, fileID, taskID string, force bool) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"file_id": fileID, "task_id": taskID, "rule": 1, "force": force})
	return e.do(t, "POST", "/api/imports", "application/json", bytes.NewReader(b), e.token)
}

func (e *env) startImportOK(t *testing.T, fileID, taskID string) string {
	t.Helper()
	status, body := e.startImport(t, fileID, taskID, false)
	if status != http.StatusAccepted {
		t.Fatalf("start import: status %d, want 202: %s", status, body)
	}
	var r struct{ ID string }
	decode(t, body, &r)
	return r.ID
}

// follow reads the import's event stream to its done event and returns
// the progress events seen and the done event's import.
func (e *env) follow(t *testing.T, id string) (progress int, done importItem) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/api/imports/"+id+"/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	next := eventReader(res)
	for {
		ev := next()
		switch ev.name {
		case "progress":
			progress++
		case "done":
			decode(t, []byte(ev.data), &done)
			return progress, done
		case "":
			t.Fatalf("the event stream of %s ended without done (%v)", id, ctx.Err())
		}
	}
}

// waitState polls the import until its state is not running.
func (e *env) waitState(t *testing.T, id string) importItem {
	t.Helper()
	deadline := time.Now().Add(testDeadline)
	for {
		var it importItem
		if status := e.getJSON(t, "/api/imports/"+id, &it); status != 200 {
			t.Fatalf("GET import %s: %d", id, status)
		}
		if it.State != "running" {
			return it
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %s still running after %s", id, testDeadline)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) get(t *testing.T, path string) []byte {
	t.Helper()
	status, body := e.do(t, "GET", path, "", nil, "")
	if status != 200 {
		t.Fatalf("GET %s: %d: %s", path, status, body)
	}
	return body
}

// cliRun imports the sample as `m7import import --concurrency 1` does,
// into a simulator in the same state as the test's, and returns the
// report and attention paths.
func cliRun(t *testing.T, format, attFormat reports.Format) (report, attention string) {
	t.Helper()
	s := sim.New(sim.Config{AppKey: "test-key", Secret: "test-secret", Seed: 1})
	hs := httptest.NewServer(s)
	defer hs.Close()
	task := s.CreateTask("回访", "2000", "2001")
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "test-key", Secret: "test-secret"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The page looks the task up once before the run: so do we, so that
	// the simulator's request ids line up.
	if _, err := tasks.ByID(ctx, c, task); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "leads.csv")
	os.WriteFile(in, readFile(t, sample), 0o600)
	o := web.DefaultImportOptions()
	o.Concurrency = 1
	o.Report, o.ReportFormat = filepath.Join(dir, "leads.results."+string(format)), format
	o.Attention, o.AttentionFormat = filepath.Join(dir, "leads.attention."+string(attFormat)), attFormat
	resolve := func(ctx context.Context) (api.Task, error) { return tasks.ByID(ctx, c, task) }
	if _, err := job.File(ctx, c, resolve, in, o); err != nil && job.CodeOf(err) != job.CodeIncomplete {
		t.Fatalf("cli run: %v", err)
	}
	return o.Report, o.Attention
}

func TestImportThroughThePageMatchesTheCLI(t *testing.T) {
	e := newEnv(t, serialImports)
	task := e.sim.CreateTask("回访", "2000", "2001")
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	id := e.startImportOK(t, f.ID, task)
	progress, done := e.follow(t, id)

	if done.ID != id || done.State != "done" || done.File != "leads.csv" || done.TaskID != task || done.HistoryID == 0 {
		t.Errorf("done event %+v", done)
	}
	if progress == 0 {
		t.Error("no progress event before done")
	}
	if held := len(e.sim.Numbers(task)); done.Imported == 0 || held != done.Imported || done.Rows != done.Imported+done.Invalid+done.Duplicate+done.Skipped {
		t.Errorf("done %+v; the task holds %d numbers", done, held)
	}
	var raw map[string]any
	decode(t, e.get(t, "/api/imports/"+id), &raw)
	for _, k := range []string{"id", "state", "file", "task_id", "task_name", "started_at", "rows", "imported", "invalid",
		"duplicate", "failed", "unconfirmed", "skipped", "exit_code", "report", "sha256", "rule", "dry_run", "batches",
		"retries", "elapsed_ms", "number_total_before", "number_total_after", "kept_by_server", "mapping"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("GET /api/imports/%s lacks %q: %v", id, k, raw)
		}
	}
	var list []importItem
	e.getJSON(t, "/api/imports", &list)
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("list %+v", list)
	}

	for _, tc := range []struct{ report, attention reports.Format }{
		{reports.CSV, reports.CSV}, {reports.XLSX, reports.XLSX}, {reports.JSONL, reports.CSV},
	} {
		wantReport, wantAttention := cliRun(t, tc.report, tc.attention)
		got := e.get(t, "/api/imports/"+id+"/report?format="+string(tc.report))
		if want := readFile(t, wantReport); !bytes.Equal(got, want) {
			t.Errorf("report as %s: %d bytes differ from the CLI's %d bytes", tc.report, len(got), len(want))
		}
		got = e.get(t, "/api/imports/"+id+"/attention?format="+string(tc.attention))
		if want := readFile(t, wantAttention); !bytes.Equal(got, want) {
			t.Errorf("attention file as %s: %d bytes differ from the CLI's %d bytes", tc.attention, len(got), len(want))
		}
	}
	if status, _ := e.do(t, "GET", "/api/imports/"+id+"/attention?format=jsonl", "", nil, ""); status != 400 {
		t.Errorf("attention as jsonl: %d, want 400", status)
	}
	if status, _ := e.do(t, "GET", "/api/imports/w0000000000000000", "", nil, ""); status != 404 {
		t.Errorf("unknown import: %d, want 404", status)
	}
}

func TestImportWhileAnotherHoldsTheTaskIs409(t *testing.T) {
	e := newEnv(t, nil)
	task := e.sim.CreateTask("t", "2000")
	lock, err := tasklock.Acquire(context.Background(), e.dir, "test-key", task, tasklock.Options{Command: "m7import import other.csv"})
	if err != nil {
		t.Fatal(err)
	}
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	status, body := e.startImport(t, f.ID, task, false)
	if status != http.StatusConflict || !strings.Contains(string(body), "other.csv") {
		t.Errorf("status %d, want 409 naming the holder: %s", status, body)
	}
	var list []importItem
	if e.getJSON(t, "/api/imports", &list); len(list) != 0 {
		t.Errorf("a refused import is listed: %+v", list)
	}
	lock.Release()
	id := e.startImportOK(t, f.ID, task)
	if it := e.waitState(t, id); it.State != "done" || it.Imported == 0 {
		t.Errorf("after the lock was released: %+v", it)
	}
}

func TestImportOfContentAlreadyImportedIs409NamingIt(t *testing.T) {
	e := newEnv(t, func(c *web.Config) {})
	task := e.sim.CreateTask("t", "2000")
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	b, _ := json.Marshal(map[string]any{"file_id": f.ID, "task_id": task, "rule": 2})
	status, body := e.do(t, "POST", "/api/imports", "application/json", bytes.NewReader(b), e.token)
	if status != 202 {
		t.Fatalf("first import: %d %s", status, body)
	}
	var first struct{ ID string }
	decode(t, body, &first)
	e.waitState(t, first.ID)
	held := len(e.sim.Numbers(task))

	f2 := e.uploadOK(t, "same-again.csv", readFile(t, sample))
	b, _ = json.Marshal(map[string]any{"file_id": f2.ID, "task_id": task, "rule": 2})
	status, body = e.do(t, "POST", "/api/imports", "application/json", bytes.NewReader(b), e.token)
	var c conflictReply
	decode(t, body, &c)
	if status != http.StatusConflict || c.ImportID != first.ID || !strings.Contains(c.Error, "already imported") && !strings.Contains(c.Error, "twice") {
		t.Errorf("same content again: %d %+v, want 409 naming %s", status, c, first.ID)
	}
	if n := len(e.sim.Numbers(task)); n != held {
		t.Errorf("the refused import changed the task: %d numbers, was %d", n, held)
	}
	b, _ = json.Marshal(map[string]any{"file_id": f2.ID, "task_id": task, "rule": 2, "force": true})
	status, body = e.do(t, "POST", "/api/imports", "application/json", bytes.NewReader(b), e.token)
	if status != 202 {
		t.Fatalf("forced: %d %s", status, body)
	}
	decode(t, body, &first)
	if it := e.waitState(t, first.ID); it.State != "done" || len(e.sim.Numbers(task)) != 2*held {
		t.Errorf("forced import %+v: task holds %d, want %d", it, len(e.sim.Numbers(task)), 2*held)
	}
}

func TestCancelStopsTheImportAndReportsTheRestSkipped(t *testing.T) {
	e := newEnv(t, serialImports)
	e.sim.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultLatency, Latency: 300 * time.Millisecond})
	task := e.sim.CreateTask("t", "2000")
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	id := e.startImportOK(t, f.ID, task)
	if status, body := e.do(t, "POST", "/api/imports/"+id+"/cancel", "", nil, e.token); status != 202 {
		t.Fatalf("cancel: %d %s", status, body)
	}
	_, done := e.follow(t, id)
	if done.State != "cancelled" || done.Skipped == 0 || done.ExitCode != 1 {
		t.Errorf("after cancel: %+v", done)
	}
	if held := len(e.sim.Numbers(task)); held != done.Imported {
		t.Errorf("the task holds %d numbers, the report says %d imported", held, done.Imported)
	}
	if status, _ := e.do(t, "POST", "/api/imports/"+id+"/cancel", "", nil, e.token); status != 409 {
		t.Errorf("cancel of an ended import: %d, want 409", status)
	}
	recs, err := reports.Open(filepath.Join(e.dir, "imports", id, "leads.results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	recs.Close()
}

func TestRollbackFromThePageUsesTheCLIGuard(t *testing.T) {
	e := newEnv(t, nil)
	task := e.sim.CreateTask("t", "2000")
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	id := e.startImportOK(t, f.ID, task)
	it := e.waitState(t, id)
	if it.Imported == 0 {
		t.Fatalf("import %+v", it)
	}
	var rb struct {
		Deleted int `json:"deleted"`
		Failed  int `json:"failed"`
	}
	if status := e.postJSON(t, "/api/imports/"+id+"/rollback", map[string]bool{"force": false}, &rb); status != 200 || rb.Deleted != it.Imported {
		t.Errorf("rollback: %d %+v, want %d deleted", status, rb, it.Imported)
	}
	if n := len(e.sim.Numbers(task)); n != 0 {
		t.Errorf("after rollback the task holds %d numbers", n)
	}
	var list []importItem
	if e.getJSON(t, "/api/imports", &list); len(list) != 1 || !list[0].RolledBack {
		t.Errorf("list after rollback %+v", list)
	}

	// Rule 1 into a task that already held one of the numbers: the
	// server keeps one copy, so the guard refuses without force.
	task2 := e.sim.CreateTask("t2", "2000")
	c, _ := api.New(api.Config{BaseURL: e.simURL, AppKey: "test-key", Secret: "test-secret"})
	if _, err := c.Import(context.Background(), api.ImportRequest{TaskID: task2, Rule: api.RuleThisTask,
		ImportData: []api.ImportRow{{Name: "old", Number: firstValidNumber(t)}}}); err != nil {
		t.Fatal(err)
	}
	f2 := e.uploadOK(t, "leads2.csv", readFile(t, sample))
	id2 := e.startImportOK(t, f2.ID, task2)
	e.waitState(t, id2)
	var refusal errorReply
	if status := e.postJSON(t, "/api/imports/"+id2+"/rollback", map[string]bool{"force": false}, &refusal); status != 409 || !strings.Contains(refusal.Error, "before the import") {
		t.Errorf("guarded rollback: %d %+v, want 409", status, refusal)
	}
	if status := e.postJSON(t, "/api/imports/"+id2+"/rollback", map[string]bool{"force": true}, &rb); status != 200 || rb.Deleted == 0 {
		t.Errorf("forced rollback: %d %+v", status, rb)
	}
}

// firstValidNumber is the sample's first valid number, normalized.
func firstValidNumber(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "leads.csv")
	os.WriteFile(in, readFile(t, sample), 0o600)
	o := web.DefaultImportOptions()
	o.DryRun, o.Report, o.ReportFormat = true, filepath.Join(dir, "r.csv"), reports.CSV
	if _, err := job.File(context.Background(), nil, nil, in, o); err != nil {
		t.Fatal(err)
	}
	r, err := reports.Open(o.Report)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status == "valid" {
			return rec.Normalized
		}
	}
}

func TestARestartResumesTheImportAndSendsNothingTwice(t *testing.T) {
	e := newEnv(t, serialImports)
	e.sim.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultLatency, Latency: 150 * time.Millisecond})
	task := e.sim.CreateTask("t", "2000")
	f := e.uploadOK(t, "leads.csv", readFile(t, sample))
	id := e.startImportOK(t, f.ID, task)
	deadline := time.Now().Add(testDeadline)
	for e.sim.Stats()[sim.EndpointImport].Calls < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	// The server stops mid-import (as on Ctrl-C of serve): the import
	// stays running in the record, to be resumed.
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sim.Numbers(task)); n == 0 {
		t.Log("the first server sent nothing before it stopped")
	}
	e.sim.SetFaults(sim.EndpointImport)
	srv2, err := web.New(web.Config{Addr: "127.0.0.1:0", DataDir: e.dir, AppKey: "test-key", Import: e.importOpts, Client: e.client})
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	ws := httptest.NewServer(srv2.Handler())
	defer ws.Close()
	e2 := &env{sim: e.sim, srv: srv2, url: ws.URL, token: srv2.Token(), dir: e.dir}
	var before importItem
	e2.getJSON(t, "/api/imports/"+id, &before)
	if before.State != "running" {
		t.Fatalf("after the stop the import is %q, want running", before.State)
	}
	if n, err := srv2.ResumeImports(context.Background()); err != nil || n != 1 {
		t.Fatalf("ResumeImports: %d, %v", n, err)
	}
	_, done := e2.follow(t, id)
	if done.State != "done" || done.Skipped != 0 {
		t.Errorf("resumed import %+v", done)
	}
	numbers := e.sim.Numbers(task)
	seen := map[string]int{}
	for _, n := range numbers {
		seen[n.Number]++
	}
	for n, c := range seen {
		if c != 1 {
			t.Errorf("%s is on the server %d times", n, c)
		}
	}
	if len(numbers) != done.Imported {
		t.Errorf("the task holds %d numbers, the report says %d imported", len(numbers), done.Imported)
	}
	h, err := history.Open(context.Background(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	entries, _ := h.List(context.Background(), history.ListOptions{})
	if len(entries) != 1 || entries[0].State != history.StateDone || entries[0].Source != history.SourceWeb {
		t.Errorf("history %+v, want one web import, done", entries)
	}
}

func TestImportsOfTheCommandLineAreListedAndDownloadable(t *testing.T) {
	e := newEnv(t, nil)
	task := e.sim.CreateTask("t", "2000")
	c, _ := e.client()
	h, err := history.Open(context.Background(), e.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	dir := t.TempDir()
	in := filepath.Join(dir, "cli.csv")
	os.WriteFile(in, readFile(t, sample), 0o600)
	o := web.DefaultImportOptions()
	o.Report, o.ReportFormat = filepath.Join(dir, "cli.results.csv"), reports.CSV
	o.History, o.Source, o.AppKey, o.LockDir = h, history.SourceCLI, "test-key", e.dir
	sum, err := job.File(context.Background(), c, func(ctx context.Context) (api.Task, error) { return tasks.ByID(ctx, c, task) }, in, o)
	if err != nil {
		t.Fatal(err)
	}
	var list []importItem
	e.getJSON(t, "/api/imports", &list)
	want := fmt.Sprint(sum.HistoryID)
	if len(list) != 1 || list[0].ID != want || list[0].File != "cli.csv" || list[0].Imported != sum.Imported {
		t.Fatalf("list %+v, want the CLI's import %s", list, want)
	}
	if got := e.get(t, "/api/imports/"+want+"/report?format=csv"); !bytes.Equal(got, readFile(t, o.Report)) {
		t.Error("the CLI's report downloads changed")
	}
	var rb struct{ Deleted int }
	if status := e.postJSON(t, "/api/imports/"+want+"/rollback", map[string]bool{}, &rb); status != 200 || rb.Deleted != sum.Imported {
		t.Errorf("rollback of the CLI's import: %d %+v", status, rb)
	}
	e.getJSON(t, "/api/imports", &list)
	if !list[0].RolledBack {
		t.Errorf("not marked rolled back: %+v", list[0])
	}
}
