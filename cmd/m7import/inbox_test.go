package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/inbox"
	"github.com/m7import/m7import/tasklock"
)

// dropFile writes a lead file into dir with the given header and rows,
// its mtime age ago (old enough for the default --settle unless age is 0).
func dropFile(t *testing.T, dir, name string, header []string, rows [][]string, age time.Duration) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	w.WriteAll(rows)
	return dropBytes(t, dir, name, b.Bytes(), age)
}

func dropBytes(t *testing.T, dir, name string, data []byte, age time.Duration) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if age > 0 {
		at := time.Now().Add(-age)
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

var leadHeader = []string{"姓名", "手机号码", "备注", "座席工号"}

// summaryLines reads DIR/summary.jsonl.
func summaryLines(t *testing.T, dir string) []inbox.Line {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, inbox.SummaryFile))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []inbox.Line
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l inbox.Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("summary.jsonl line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// ledgerEntries reads the folder's ledger (no inbox may be running).
func ledgerEntries(t *testing.T, dir string) []inbox.Entry {
	t.Helper()
	l, err := inbox.OpenLedger(context.Background(), filepath.Join(dir, inbox.StateDir))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	es, err := l.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// byName indexes ledger entries by file name (the newest wins).
func byName(es []inbox.Entry) map[string]inbox.Entry {
	m := map[string]inbox.Entry{}
	for _, e := range es {
		m[e.Name] = e
	}
	return m
}

func mustExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("want %s: %v", p, err)
		}
	}
}

func mustNotExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s should not exist", p)
		}
	}
}

// checkOnceEach asserts the task holds exactly want distinct numbers, each once.
func checkOnceEach(t *testing.T, e *testEnv, task string, want int) {
	t.Helper()
	held := e.serverNumbers(task)
	for n, c := range held {
		if c != 1 {
			t.Errorf("%s on the server %d times", n, c)
		}
	}
	if len(held) != want {
		t.Errorf("server holds %d numbers, want %d", len(held), want)
	}
}

func (e *testEnv) inboxProc(t *testing.T, dir string, args ...string) (code int, stderr string) {
	t.Helper()
	cmd := e.proc(context.Background(), append([]string{"inbox", dir}, args...)...)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return exitStatus(waitProcess(t, cmd)), errb.String()
}

// TestProcessInboxImportsEachFileOnce walks a folder through a night: a
// file and a malformed one, then a byte-for-byte copy under a new name,
// then a file whose import is killed -9 and resumed; the folders, ledger,
// summary and server are checked after each step.
func TestProcessInboxImportsEachFileOnce(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("nightly")
	dir := filepath.Join(e.dir, "in")
	os.Mkdir(dir, 0o755)
	flags := []string{"--task-id", task, "--rule", "2", "--rate", "0", "--timeout", "5s", "--grace", "200ms", "--quiet",
		"--retry-initial", "1ms", "--retry-max", "5ms"}

	// Step 1: a good file and a malformed one (no number column).
	a := dropFile(t, dir, "a.csv", leadHeader, rowsFrom("139", 0, 30), 3*time.Hour)
	dropBytes(t, dir, "bad.csv", []byte("foo,bar\n1,2\n"), 2*time.Hour)
	dropBytes(t, dir, "~$a.xlsx", []byte("lock"), 2*time.Hour) // an Office lock file: ignored
	code, stderr := e.inboxProc(t, dir, flags...)
	if code != 1 {
		t.Fatalf("step 1: exit %d, want 1 (a file could not be imported)\n%s", code, stderr)
	}
	mustExist(t, filepath.Join(dir, "done", "a.csv"), filepath.Join(dir, "done", "a.results.csv"),
		filepath.Join(dir, "done", "a.results.csv.meta.json"), filepath.Join(dir, "done", "a.attention.csv"),
		filepath.Join(dir, "failed", "bad.csv"), filepath.Join(dir, "~$a.xlsx"))
	mustNotExist(t, a, filepath.Join(dir, "bad.csv"))
	checkOnceEach(t, e, task, 30)
	led := byName(ledgerEntries(t, dir))
	if got := led["a.csv"]; got.State != inbox.StateImported || got.MovedTo != "done/a.csv" || got.TaskID != task || got.SHA256 == "" {
		t.Errorf("ledger a.csv: %+v", got)
	}
	if got := led["bad.csv"]; got.State != inbox.StateFailed || got.MovedTo != "failed/bad.csv" || !strings.Contains(got.Error, "number column") {
		t.Errorf("ledger bad.csv: %+v", got)
	}
	lines := summaryLines(t, dir)
	if len(lines) != 2 {
		t.Fatalf("summary has %d lines after step 1, want 2: %+v", len(lines), lines)
	}
	if l := lines[0]; l.State != inbox.StateImported || l.Imported != 30 || l.ExitCode != 0 || l.MovedTo != "done/a.csv" ||
		l.Report != filepath.Join(dir, "done", "a.results.csv") || l.SHA256 != led["a.csv"].SHA256 {
		t.Errorf("summary line of a.csv: %+v", l)
	}
	if l := lines[1]; l.State != inbox.StateFailed || l.ExitCode != 1 || !strings.Contains(l.Error, "number column") || l.MovedTo != "failed/bad.csv" {
		t.Errorf("summary line of bad.csv: %+v", l)
	}

	// Step 2: the same bytes under another name are a copy, not imported.
	content, err := os.ReadFile(filepath.Join(dir, "done", "a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	dropBytes(t, dir, "a-again.csv", content, time.Hour)
	calls := e.srv.Stats()["import"].Calls
	if code, stderr := e.inboxProc(t, dir, flags...); code != 0 {
		t.Fatalf("step 2: exit %d, want 0\n%s", code, stderr)
	}
	if n := e.srv.Stats()["import"].Calls; n != calls {
		t.Errorf("a copy made %d import calls", n-calls)
	}
	mustExist(t, filepath.Join(dir, "done", "a-again.csv"))
	checkOnceEach(t, e, task, 30)
	if got := byName(ledgerEntries(t, dir))["a-again.csv"]; got.State != inbox.StateCopy || got.CopyOf != "a.csv (done/a.csv)" {
		t.Errorf("ledger a-again.csv: %+v", got)
	}
	lines = summaryLines(t, dir)
	if len(lines) != 3 || lines[2].State != inbox.StateCopy || !strings.HasPrefix(lines[2].CopyOf, "a.csv") || lines[2].MovedTo != "done/a-again.csv" {
		t.Fatalf("summary after step 2: %+v", lines)
	}

	// Step 3: a file killed -9 mid-import stays and resumes next time,
	// even renamed: every row on the server once.
	b := dropFile(t, dir, "b.csv", leadHeader, rowsFrom("139", 1000, 200), time.Hour)
	release := e.holdImports()
	cmd := e.proc(context.Background(), append([]string{"inbox", dir, "--batch-size", "20", "--concurrency", "1"}, flags...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "an import call held", func() bool { return e.waiting.Load() >= 1 })
	cmd.Process.Signal(syscall.SIGKILL)
	waitProcess(t, cmd)
	release()
	mustExist(t, b)
	waitUntil(t, "the held batch processed", func() bool { return e.srv.Stats()["import"].Calls > calls })
	if n := len(e.serverNumbers(task)); n >= 230 {
		t.Fatalf("b.csv was imported whole before the kill (%d numbers): the test proves nothing", n)
	}
	if got := byName(ledgerEntries(t, dir))["b.csv"]; got.State != inbox.StatePending {
		t.Errorf("ledger b.csv after kill: %+v", got)
	}
	works, _ := filepath.Glob(filepath.Join(dir, inbox.StateDir, inbox.WorkDir, "*", "*", "results.csv.journal"))
	if len(works) != 1 {
		t.Fatalf("journals in the work folder after kill: %v", works)
	}
	renamed := filepath.Join(dir, "b-renamed.csv")
	if err := os.Rename(b, renamed); err != nil {
		t.Fatal(err)
	}
	if code, stderr := e.inboxProc(t, dir, append([]string{"--batch-size", "20", "--concurrency", "1"}, flags...)...); code != 0 {
		t.Fatalf("step 3 rerun: exit %d, want 0\n%s", code, stderr)
	}
	checkOnceEach(t, e, task, 230)
	recs := readReport(t, filepath.Join(dir, "done", "b-renamed.results.csv"))
	if len(recs) != 200 || countStatus(recs)["imported"] != 200 {
		t.Errorf("b's report: %d rows, %v", len(recs), countStatus(recs))
	}
	mustNotExist(t, renamed, filepath.Join(dir, inbox.StateDir, inbox.WorkDir, led["a.csv"].SHA256))
	if got := byName(ledgerEntries(t, dir))["b-renamed.csv"]; got.State != inbox.StateImported || got.MovedTo != "done/b-renamed.csv" {
		t.Errorf("ledger b-renamed.csv: %+v", got)
	}
	lines = summaryLines(t, dir)
	if last := lines[len(lines)-1]; last.State != inbox.StateImported || last.Imported != 200 || last.SentThisRun >= 200 || last.MovedTo != "done/b-renamed.csv" {
		t.Errorf("last summary line: %+v", last)
	}
	// The user history saw the inbox's imports, with their reports moved.
	h, err := history.Open(context.Background(), e.env["M7_DATA_DIR"])
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	hist, err := h.List(context.Background(), history.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	reportsSeen := map[string]bool{}
	for _, en := range hist {
		if en.Source != history.SourceInbox {
			t.Errorf("history entry %d: source %q, want inbox", en.ID, en.Source)
		}
		reportsSeen[en.Report] = true
	}
	for _, r := range []string{"a.results.csv", "b-renamed.results.csv"} {
		if p, _ := filepath.EvalSymlinks(filepath.Join(dir, "done")); !reportsSeen[filepath.Join(p, r)] && !reportsSeen[filepath.Join(dir, "done", r)] {
			t.Errorf("history does not point at done/%s: %v", r, reportsSeen)
		}
	}
}

// TestProcessInboxSettleLockWatchAndSIGTERM: a fresh file waits for the
// settle time; a second inbox on the folder is refused; --watch takes a
// file dropped while it runs; SIGTERM mid-import leaves it resumable.
func TestProcessInboxSettleLockWatchAndSIGTERM(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("watch")
	dir := filepath.Join(e.dir, "in")
	os.Mkdir(dir, 0o755)
	flags := []string{"--task-id", task, "--rate", "0", "--quiet"}

	// A file modified just now is left alone.
	fresh := dropFile(t, dir, "fresh.csv", leadHeader, rowsFrom("139", 0, 5), 0)
	if code, stderr := e.inboxProc(t, dir, append([]string{"--settle", "1h"}, flags...)...); code != 0 {
		t.Fatalf("settle: exit %d\n%s", code, stderr)
	}
	mustExist(t, fresh)
	if n := len(e.serverNumbers(task)); n != 0 || len(ledgerEntries(t, dir)) != 0 {
		t.Fatalf("a file within --settle was taken: %d numbers on the server", n)
	}

	// A watching inbox holds the folder; a second one is refused.
	watch := e.proc(context.Background(), append([]string{"inbox", dir, "--watch", "--poll", "50ms", "--settle", "1h", "--batch-size", "20", "--concurrency", "1"}, flags...)...)
	var watchErr bytes.Buffer
	watch.Stderr = &watchErr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	lockFile := filepath.Join(dir, inbox.StateDir, inbox.LockFile)
	waitUntil(t, "the inbox lock taken", func() bool {
		b, _ := os.ReadFile(lockFile)
		return strings.Contains(string(b), fmt.Sprintf("pid %d", watch.Process.Pid))
	})
	code, stderr := e.inboxProc(t, dir, flags...)
	if code != 1 || !strings.Contains(stderr, "another m7import inbox is running") {
		t.Errorf("second inbox: exit %d, stderr %q; want 1 and a clear message", code, stderr)
	}

	// A file dropped while it watches (old enough) is taken.
	dropFile(t, dir, "late.csv", leadHeader, rowsFrom("139", 100, 10), 2*time.Hour)
	waitUntil(t, "late.csv imported by --watch", func() bool {
		_, err := os.Stat(filepath.Join(dir, "done", "late.results.csv"))
		return err == nil
	})
	mustExist(t, filepath.Join(dir, "done", "late.csv"), fresh)

	// SIGTERM while a batch is held: the run stops cleanly, the file stays.
	release := e.holdImports()
	big := dropFile(t, dir, "big.csv", leadHeader, rowsFrom("139", 1000, 200), 2*time.Hour)
	waitUntil(t, "an import call of big.csv held", func() bool { return e.waiting.Load() >= 1 })
	watch.Process.Signal(syscall.SIGTERM)
	release()
	if code := exitStatus(waitProcess(t, watch)); code != 1 {
		t.Errorf("watch after SIGTERM mid-import: exit %d, want 1\n%s", code, watchErr.String())
	}
	mustExist(t, big)
	if got := byName(ledgerEntries(t, dir))["big.csv"]; got.State != inbox.StatePending {
		t.Errorf("ledger big.csv after SIGTERM: %+v", got)
	}
	if n := len(e.serverNumbers(task)); n >= 210 {
		t.Errorf("the whole file was imported despite SIGTERM (%d numbers): the test proves nothing", n)
	}
	if code, stderr := e.inboxProc(t, dir, append([]string{"--batch-size", "20"}, flags...)...); code != 0 {
		t.Fatalf("rerun after SIGTERM: exit %d\n%s", code, stderr)
	}
	mustExist(t, filepath.Join(dir, "done", "big.csv"))
	checkOnceEach(t, e, task, 210) // fresh.csv is still within the default --settle
	mustExist(t, fresh)
}

// TestInboxRoutesByNameWithSavedMapping: config.json sends vip-* files to
// one task and the rest to a task it creates, each read with the column
// names saved for it; no task flag and no --map are given.
func TestInboxRoutesByNameWithSavedMapping(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	vip := e.srv.CreateTask("vip")
	dir := filepath.Join(e.dir, "in")
	os.MkdirAll(filepath.Join(dir, inbox.StateDir), 0o755)
	cfg := fmt.Sprintf(`{"routes":[
		{"match":"vip-*.csv","task_id":%q,"map":{"number":"VIP Tel","name":"Client"}},
		{"match":"*","task_name":"everyone","create_task":true}],
	 "map":{"number":"Mobile X","name":"Client"}}`, vip)
	if err := os.WriteFile(filepath.Join(dir, inbox.StateDir, inbox.ConfigFile), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	dropFile(t, dir, "vip-1.csv", []string{"Client", "VIP Tel"}, [][]string{{"甲", "13900000001"}, {"乙", "13900000002"}}, time.Hour)
	dropFile(t, dir, "crm.csv", []string{"Client", "Mobile X"}, [][]string{{"丙", "13900000003"}}, time.Hour)
	res := e.run(t, context.Background(), "inbox", dir, "--rate", "0", "--json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stder)
	}
	var everyone string
	for _, ts := range e.srv.Tasks() {
		if ts.Name == "everyone" {
			everyone = ts.ID
		}
	}
	if everyone == "" {
		t.Fatal("the route's task was not created")
	}
	tests := []struct {
		task string
		want map[string]int
	}{
		{vip, map[string]int{"13900000001": 1, "13900000002": 1}},
		{everyone, map[string]int{"13900000003": 1}},
	}
	for _, tt := range tests {
		got := e.serverNumbers(tt.task)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("task %s holds %v, want %v", tt.task, got, tt.want)
		}
	}
	// --json prints each file's summary line on stdout.
	var n int
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var l inbox.Line
		if err := json.Unmarshal([]byte(line), &l); err != nil || l.State != inbox.StateImported || l.Mapping["number"] == "" {
			t.Errorf("stdout line %q: %v", line, err)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d lines on stdout, want 2", n)
	}
}

// TestInboxNotifyOnlyWhenAPersonIsNeeded: --notify runs its command with
// the run's summary on stdin when a file is not 0, and not otherwise.
func TestInboxNotifyOnlyWhenAPersonIsNeeded(t *testing.T) {
	tests := []struct {
		name     string
		file     []byte
		wantCode exitCode
		notified bool
	}{
		{"all imported", []byte("姓名,手机号码\n甲,13900000001\n"), exitOK, false},
		{"rows refused by --max-invalid", []byte("姓名,手机号码\n甲,123\n乙,456\n"), exitRefused, true},
		{"no number column", []byte("foo,bar\n1,2\n"), exitFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := e.srv.CreateTask("t")
			dir := filepath.Join(e.dir, "in")
			os.Mkdir(dir, 0o755)
			dropBytes(t, dir, "leads.csv", tt.file, time.Hour)
			out := filepath.Join(e.dir, "notified.json")
			res := e.run(t, context.Background(), "inbox", dir, "--task-id", task, "--rate", "0", "--max-invalid", "0",
				"--notify", "cat > '"+out+"'")
			if res.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", res.code, tt.wantCode, res.stder)
			}
			raw, err := os.ReadFile(out)
			if !tt.notified {
				if err == nil {
					t.Fatalf("notified although nothing needs a person: %s", raw)
				}
				return
			}
			if err != nil {
				t.Fatalf("not notified: %v\n%s", err, res.stder)
			}
			var s inbox.RunSummary
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("notify stdin %q: %v", raw, err)
			}
			if s.ExitCode != int(tt.wantCode) || len(s.Files) != 1 || s.Files[0].MovedTo != "failed/leads.csv" || s.Files[0].Error == "" {
				t.Errorf("notified summary: %s", raw)
			}
		})
	}
}

// TestInboxLeavesAFileStoppedForARunReason: a dead gateway or a held task
// lock is no fault of the file: it stays in DIR (exit 1) and the next pass
// imports it.
func TestInboxLeavesAFileStoppedForARunReason(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	dir := filepath.Join(e.dir, "in")
	os.Mkdir(dir, 0o755)
	f := dropFile(t, dir, "leads.csv", leadHeader, rowsFrom("139", 0, 10), time.Hour)
	args := []string{"inbox", dir, "--task-id", task, "--rate", "0", "--max-retries", "0", "--timeout", "2s"}

	good := e.env["M7_BASE_URL"]
	e.env["M7_BASE_URL"] = "http://127.0.0.1:1" // nothing listens there
	if res := e.run(t, context.Background(), args...); res.code != exitFailed {
		t.Fatalf("dead gateway: exit %d, want 1\n%s", res.code, res.stder)
	}
	e.env["M7_BASE_URL"] = good
	mustExist(t, f)

	lock, err := tasklock.Acquire(context.Background(), e.env["M7_DATA_DIR"], e.env["M7_APPKEY"], task, tasklock.Options{Command: "test"})
	if err != nil {
		t.Fatal(err)
	}
	res := e.run(t, context.Background(), args...)
	lock.Release()
	if res.code != exitFailed {
		t.Fatalf("held task lock: exit %d, want 1\n%s", res.code, res.stder)
	}
	mustExist(t, f)
	if got := byName(ledgerEntries(t, dir))["leads.csv"]; got.State != inbox.StatePending {
		t.Errorf("ledger after a held lock: %+v", got)
	}
	lines := summaryLines(t, dir)
	if len(lines) != 2 || lines[0].MovedTo != "" || lines[1].MovedTo != "" || lines[1].State != inbox.StatePending {
		t.Errorf("summary lines: %+v", lines)
	}

	if res := e.run(t, context.Background(), args...); res.code != exitOK {
		t.Fatalf("next pass: exit %d\n%s", res.code, res.stder)
	}
	mustExist(t, filepath.Join(dir, "done", "leads.csv"))
	checkOnceEach(t, e, task, 10)
}
