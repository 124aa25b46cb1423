package main

// Issue 17's "Done when": nothing lost, nothing twice, also with slow
// servers, two runs at once, files that change, full disks and hostile
// waits. Every test runs the built binary against the simulator over HTTP
// and takes the simulator's state as the truth.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/journal"
)

// outcome is what one run of the binary did.
type outcome struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// runProc runs the binary to its end with a deadline: a run that does
// not end within limit is killed and fails the test.
func runProc(t *testing.T, cmd *exec.Cmd, limit time.Duration) outcome {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return outcome{code: exitStatus(err), stdout: out.String(), stderr: errb.String(), elapsed: time.Since(start)}
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not end within %s (it hangs); stderr:\n%s", strings.Join(cmd.Args, " "), limit, errb.String())
		return outcome{}
	}
}

// rowsFrom makes n rows with distinct valid mobile numbers 13x from start.
func rowsFrom(prefix string, start, n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("客户%d", start+i), fmt.Sprintf("%s%08d", prefix, start+i), "", ""}
	}
	return rows
}

// hook stands in front of the simulator and lets a test act on chosen
// import calls: run something before the simulator sees the call (hold
// it, add numbers as another writer), answer it itself, or have the
// simulator process it and then drop the connection.
type hook struct {
	srv     *sim.Server
	calls   atomic.Int64
	waiting atomic.Int64
	mu      sync.Mutex
	// before runs before import call n reaches the simulator; it returns
	// true when it answered the call itself.
	before func(n int64, w http.ResponseWriter) bool
	// dropAfter reports whether import call n is processed and then
	// answered by closing the connection.
	dropAfter func(n int64) bool
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/import") {
		h.srv.ServeHTTP(w, r)
		return
	}
	n := h.calls.Add(1)
	h.mu.Lock()
	before, dropAfter := h.before, h.dropAfter
	h.mu.Unlock()
	if before != nil && before(n, w) {
		return
	}
	if dropAfter != nil && dropAfter(n) {
		h.srv.ServeHTTP(httptest.NewRecorder(), r)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	h.srv.ServeHTTP(w, r)
}

// set replaces the hook's actions.
func (h *hook) set(before func(int64, http.ResponseWriter) bool, dropAfter func(int64) bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.before, h.dropAfter = before, dropAfter
}

// holdAt returns a before-action that holds import call n (and every
// later one) until release is called.
func (h *hook) holdAt(n int64) (before func(int64, http.ResponseWriter) bool, release func()) {
	ch := make(chan struct{})
	var once sync.Once
	return func(m int64, _ http.ResponseWriter) bool {
			if m >= n {
				h.waiting.Add(1)
				<-ch
			}
			return false
		}, func() {
			once.Do(func() { close(ch) })
		}
}

// withHook points the environment's binary at a hook in front of its
// simulator.
func withHook(t *testing.T, e *testEnv) *hook {
	t.Helper()
	h := &hook{srv: e.srv}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	e.env["M7_BASE_URL"] = hs.URL
	return h
}

func reportOf(in string) string { return strings.TrimSuffix(in, ".csv") + ".results.csv" }

// checkEveryRowImported asserts that every row of the report is imported.
func checkEveryRowImported(t *testing.T, recs []importer.Record, rows int) {
	t.Helper()
	if len(recs) != rows {
		t.Fatalf("report has %d rows, want %d", len(recs), rows)
	}
	if got := countStatus(recs); got[importer.Imported] != rows {
		for _, r := range recs {
			if r.Status != importer.Imported {
				t.Errorf("row %d: %s (%s)", r.Row, r.Status, r.Reason)
				break
			}
		}
		t.Fatalf("statuses %v, want all %d imported", got, rows)
	}
}

func waitIdle(t *testing.T, e *testEnv) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	if err := e.srv.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// 1. A slow server under rule 2: the reply times out, the server finishes
// the batch afterwards. Nothing is resent before the grace period proves
// it did not land; nothing is on the server twice.
func TestSafetySlowServerRule2(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultProcessLate, EveryN: 3, Latency: 700 * time.Millisecond})
	in := e.leads(t, "slow.csv", validRows(300))
	o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rule", "2", "--batch-size", "50",
		"--rate", "0", "--timeout", "300ms", "--grace", "1.5s", "--retry-initial", "1ms", "--retry-max", "5ms", "--quiet"), testDeadline)
	waitIdle(t, e)
	if o.code != 0 && o.code != 3 {
		t.Fatalf("exit %d\n%s", o.code, o.stderr)
	}
	recs := readReport(t, reportOf(in))
	checkSafe(t, e, task, recs)
	e.checkImportedIsOnServer(t, task, recs)
	if e.srv.Stats()[sim.EndpointImport].Faults["process-late"] == 0 {
		t.Fatal("no call was late: the test proves nothing")
	}
	// The grace period (1.5 s) is longer than the server's delay (0.7 s):
	// every late batch is settled by the count, none is left in doubt.
	checkEveryRowImported(t, recs, 300)
	if o.code != 0 {
		t.Fatalf("exit %d with every row imported\n%s", o.code, o.stderr)
	}
}

// 1b. The same after a kill -9 while the slow server holds the batch, and
// an immediate --resume: the resume waits for the grace period, saying
// so, and then finds the batch landed.
func TestSafetySlowServerKillAndImmediateResume(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultProcessLate, Latency: 700 * time.Millisecond})
	in := e.leads(t, "slow.csv", validRows(100))
	args := []string{"import", in, "--task-id", task, "--rule", "2", "--batch-size", "50", "--concurrency", "1",
		"--rate", "0", "--timeout", "300ms", "--grace", "1.5s", "--retry-initial", "1ms", "--retry-max", "5ms"}
	cmd := e.proc(context.Background(), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "a batch held by the slow server", func() bool { return e.srv.Stats()[sim.EndpointImport].Pending >= 1 }) {
		cmd.Process.Kill()
	}
	cmd.Process.Kill()
	waitProcess(t, cmd)
	e.srv.SetFaults(sim.EndpointImport) // the server is fast again; the late batch still lands
	o := runProc(t, e.proc(context.Background(), append(args, "--resume")...), testDeadline)
	waitIdle(t, e)
	if o.code != 0 {
		t.Fatalf("resume: exit %d\n%s", o.code, o.stderr)
	}
	if !strings.Contains(o.stderr, "waiting") {
		t.Errorf("the resume did not say it waits for the grace period:\n%s", o.stderr)
	}
	recs := readReport(t, reportOf(in))
	checkSafe(t, e, task, recs)
	checkEveryRowImported(t, recs, 100)
	e.checkImportedIsOnServer(t, task, recs)
}

// 2. Two imports into one task at once: the second waits for the first
// (or refuses naming it); nothing reported imported that is not on the
// server, nothing twice.
func TestSafetyTwoImportsIntoOneTask(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	release := e.holdImports()
	defer release()
	a := e.leads(t, "a.csv", rowsFrom("139", 0, 50))
	b := e.leads(t, "b.csv", rowsFrom("138", 0, 50))
	flags := []string{"--task-id", task, "--rule", "2", "--batch-size", "10", "--rate", "0", "--concurrency", "1", "--quiet"}
	first := e.proc(context.Background(), append([]string{"import", a}, flags...)...)
	var firstErr bytes.Buffer
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "the first run's first import call", func() bool { return e.waiting.Load() >= 1 }) {
		first.Process.Kill()
	}
	second := e.proc(context.Background(), append([]string{"import", b}, flags...)...)
	var secondErr bytes.Buffer
	second.Stderr = &secondErr
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	secondDone := make(chan error, 1)
	go func() { secondDone <- second.Wait() }()
	var secondCode = -2
	select {
	case err := <-secondDone:
		// Refused at once: it must name the holder.
		secondCode = exitStatus(err)
		if secondCode != 1 || !strings.Contains(secondErr.String(), "in use by") {
			t.Fatalf("second run ended at once: exit %d: %s", secondCode, secondErr.String())
		}
	case <-time.After(1500 * time.Millisecond):
		// Waiting: it must not have sent anything meanwhile.
		if n := e.waiting.Load(); n != 1 {
			t.Fatalf("%d import calls at the gate while the first run holds the task, want 1", n)
		}
	}
	release()
	if err := waitProcess(t, first); err != nil {
		t.Fatalf("first run: %v\n%s", err, firstErr.String())
	}
	if secondCode == -2 {
		select {
		case err := <-secondDone:
			secondCode = exitStatus(err)
		case <-time.After(testDeadline):
			second.Process.Kill()
			t.Fatal("second run did not end")
		}
		if secondCode != 0 {
			t.Fatalf("second run, after waiting: exit %d: %s", secondCode, secondErr.String())
		}
	}
	recs := readReport(t, reportOf(a))
	if secondCode == 0 {
		recs = append(recs, readReport(t, reportOf(b))...)
	}
	e.checkImportedIsOnServer(t, task, recs)
}

// 2, refusing. The first import holds the task longer than the 10 s the
// CLI waits: the second refuses naming the holder (pid and command),
// having sent nothing; the first then finishes, nothing twice.
func TestSafetySecondImportRefusedNamingTheHolder(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out the 10 s lock wait")
	}
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	release := e.holdImports()
	defer release()
	a := e.leads(t, "a.csv", rowsFrom("139", 0, 30))
	b := e.leads(t, "b.csv", rowsFrom("138", 0, 30))
	flags := []string{"--task-id", task, "--rule", "2", "--batch-size", "10", "--rate", "0", "--concurrency", "1", "--quiet"}
	first := e.proc(context.Background(), append([]string{"import", a}, flags...)...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "the first run's first import call", func() bool { return e.waiting.Load() >= 1 }) {
		first.Process.Kill()
	}
	o := runProc(t, e.proc(context.Background(), append([]string{"import", b}, flags...)...), 20*time.Second)
	pid := fmt.Sprintf("pid %d", first.Process.Pid)
	if o.code != 1 || !strings.Contains(o.stderr, pid) || !strings.Contains(o.stderr, "a.csv") {
		t.Errorf("second run: exit %d, want 1 naming the holder (%s, import a.csv):\n%s", o.code, pid, o.stderr)
	}
	if n := e.waiting.Load(); n != 1 {
		t.Errorf("%d import calls at the gate, want only the first run's", n)
	}
	release()
	if err := waitProcess(t, first); err != nil {
		t.Fatalf("first run: %v", err)
	}
	e.checkImportedIsOnServer(t, task, readReport(t, reportOf(a)))
}

// 2b (and issue 14). Another writer adds numbers to the task while a
// batch of 10 is in doubt (its connection dropped, after or before the
// server processed it). When the growth fits neither "landed" nor "not
// landed" (5 more), the batch is not settled (neither imported nor
// resent) and its reason says by how much the task grew; when the batch
// did land, the end-of-run reconciliation sees more growth than the run
// accounts for: a warning, mismatch in --json, exit 3.
//
// When the other writer adds a count within settle.Tolerance (3) of the
// batch's size (7 for 10), the count cannot tell them apart and the
// batch is settled as landed although it did not: the one assumption the
// README states (nobody else writes to the task meanwhile). The
// end-of-run reconciliation must then say so (3 fewer than imported).
func TestSafetyAnotherWriterWhileABatchIsInDoubt(t *testing.T) {
	for _, tt := range []struct {
		name         string
		processed    bool
		added        int
		grew         int // in the reason of the batch in doubt; 0: settled
		wantMismatch string
	}{
		{"the batch landed", true, 5, 15, "more than"},
		{"the batch did not land", false, 5, 5, ""},
		{"the batch did not land, the writer added nearly a batch", false, 7, 0, "fewer than"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := e.srv.CreateTask("t")
			h := withHook(t, e)
			h.set(func(n int64, w http.ResponseWriter) bool {
				if n != 1 {
					return false
				}
				if err := e.srv.AddNumbers(task, tt.added); err != nil {
					t.Error(err)
				}
				if !tt.processed {
					// Dropped before the server saw it.
					if hj, ok := w.(http.Hijacker); ok {
						if conn, _, err := hj.Hijack(); err == nil {
							conn.Close()
							return true
						}
					}
					panic(http.ErrAbortHandler)
				}
				return false
			}, func(n int64) bool { return n == 1 })
			in := e.leads(t, "a.csv", validRows(30))
			o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rule", "2", "--batch-size", "10",
				"--rate", "0", "--concurrency", "1", "--timeout", "2s", "--grace", "300ms", "--json"), testDeadline)
			t.Logf("exit %d, stderr:\n%s", o.code, o.stderr)
			if o.code != 3 {
				t.Fatalf("exit %d, want 3", o.code)
			}
			var sum job.Summary
			if err := json.Unmarshal([]byte(o.stdout), &sum); err != nil {
				t.Fatalf("--json: %v\n%s", err, o.stdout)
			}
			if tt.wantMismatch != "" {
				if !strings.Contains(sum.Mismatch, tt.wantMismatch) {
					t.Errorf("--json mismatch %q, want one saying %q", sum.Mismatch, tt.wantMismatch)
				}
				if !strings.Contains(o.stderr, "warning") || !strings.Contains(o.stderr, tt.wantMismatch) {
					t.Errorf("no reconciliation warning on stderr")
				}
			}
			if n := h.calls.Load(); n != 3 {
				t.Errorf("%d import calls for 3 batches: the batch in doubt was resent", n)
			}
			recs := readReport(t, reportOf(in))
			if tt.grew == 0 {
				// Settled wrongly by design (see above): only the
				// reconciliation can tell, and it did.
				return
			}
			checkSafe(t, e, task, recs)
			for _, r := range recs {
				if r.Batch != 1 {
					if r.Status != importer.Imported {
						t.Errorf("row %d (batch %d): %s (%s)", r.Row, r.Batch, r.Status, r.Reason)
					}
					continue
				}
				if r.Status != importer.Unconfirmed {
					t.Errorf("row %d of the batch in doubt: %s (%s), want unconfirmed", r.Row, r.Status, r.Reason)
				}
				if want := fmt.Sprintf("grew by %d", tt.grew); !strings.Contains(r.Reason, want) {
					t.Errorf("row %d: reason %q does not say the task %s", r.Row, r.Reason, want)
				}
			}
		})
	}
}

// 3. The same bytes under another report name, and a renamed copy, into
// the same task: refused under rule 2 naming the earlier run, warned and
// imported under rule 1.
func TestSafetySameContentUnderAnotherName(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "a.csv", validRows(20))
	cp := filepath.Join(e.dir, "copy.csv")
	if err := os.WriteFile(cp, mustRead(t, in), 0o644); err != nil {
		t.Fatal(err)
	}
	imp := func(file, report, rule, task string) outcome {
		return runProc(t, e.proc(context.Background(), "import", file, "--task-id", task, "--rule", rule, "--rate", "0",
			"--report", filepath.Join(e.dir, report)), testDeadline)
	}
	if o := imp(in, "r1.csv", "2", task); o.code != 0 {
		t.Fatalf("first import: exit %d\n%s", o.code, o.stderr)
	}
	calls := e.srv.Stats()[sim.EndpointImport].Calls
	for _, tt := range []struct{ name, file, report string }{
		{"another report name", in, "r2.csv"},
		{"a renamed copy", cp, "r3.csv"},
	} {
		o := imp(tt.file, tt.report, "2", task)
		if o.code != 1 || !strings.Contains(o.stderr, "r1.csv") || !strings.Contains(o.stderr, "--force") {
			t.Errorf("%s under rule 2: exit %d, want 1 naming the earlier run (r1.csv) and --force:\n%s", tt.name, o.code, o.stderr)
		}
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n != calls {
		t.Errorf("%d import calls after the refusals, want %d", n, calls)
	}
	for n, c := range e.serverNumbers(task) {
		if c != 1 {
			t.Errorf("%s on the server %d times", n, c)
		}
	}
	// Rule 1: the server drops repeats, so a repeat is only warned.
	other := e.srv.CreateTask("u")
	if o := imp(in, "s1.csv", "1", other); o.code != 0 {
		t.Fatalf("rule 1 first import: exit %d\n%s", o.code, o.stderr)
	}
	calls = e.srv.Stats()[sim.EndpointImport].Calls
	o := imp(cp, "s2.csv", "1", other)
	if o.code != 0 || !strings.Contains(o.stderr, "same content") {
		t.Errorf("a renamed copy under rule 1: exit %d, want 0 with a warning about the same content:\n%s", o.code, o.stderr)
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n == calls {
		t.Error("under rule 1 the repeat was not imported")
	}
}

// 4. A file truncated, and one rewritten, while the run reads it: exit 1
// naming the file; a --resume of the changed file sends nothing; after
// restoring it, --resume imports the rest and nothing twice.
func TestSafetyInputChangesDuringTheRun(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, path string, orig []byte)
	}{
		{"truncated", func(t *testing.T, path string, orig []byte) {
			if err := os.Truncate(path, int64(len(orig)/3)); err != nil {
				t.Fatal(err)
			}
		}},
		{"rewritten", func(t *testing.T, path string, orig []byte) {
			// Same size, other bytes: 客户 and 顾客 are both 6 bytes.
			if err := os.WriteFile(path, bytes.ReplaceAll(orig, []byte("客户"), []byte("顾客")), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := e.srv.CreateTask("t")
			h := withHook(t, e)
			hold, release := h.holdAt(2)
			defer release()
			h.set(hold, nil)
			const rows = 5000
			in := e.leads(t, "a.csv", validRows(rows))
			orig := mustRead(t, in)
			args := []string{"import", in, "--task-id", task, "--rule", "2", "--batch-size", "100", "--rate", "0",
				"--concurrency", "1", "--grace", "200ms", "--quiet"}
			cmd := e.proc(context.Background(), args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if !waitUntil(t, "the second import call", func() bool { return h.waiting.Load() >= 1 }) {
				cmd.Process.Kill()
			}
			time.Sleep(20 * time.Millisecond) // an mtime the change surely moves
			tt.change(t, in, orig)
			release()
			if code := exitStatus(waitProcess(t, cmd)); code != 1 || !strings.Contains(stderr.String(), in+" changed") {
				t.Fatalf("exit %d, want 1 saying %s changed:\n%s", code, in, stderr.String())
			}
			h.set(nil, nil)
			calls := e.srv.Stats()[sim.EndpointImport].Calls
			// --resume of the changed file: refused, nothing sent.
			o := runProc(t, e.proc(context.Background(), append(args, "--resume")...), testDeadline)
			if o.code != 1 {
				t.Errorf("--resume of the changed file: exit %d, want 1:\n%s", o.code, o.stderr)
			}
			if n := e.srv.Stats()[sim.EndpointImport].Calls; n != calls {
				t.Errorf("--resume of the changed file made %d import calls", n-calls)
			}
			// The file restored: the resume finishes, nothing twice.
			if err := os.WriteFile(in, orig, 0o644); err != nil {
				t.Fatal(err)
			}
			o = runProc(t, e.proc(context.Background(), append(args, "--resume")...), testDeadline)
			if o.code != 0 {
				t.Fatalf("--resume of the restored file: exit %d:\n%s", o.code, o.stderr)
			}
			recs := readReport(t, reportOf(in))
			checkEveryRowImported(t, recs, rows)
			e.checkImportedIsOnServer(t, task, recs)
		})
	}
}

// 5. A named pipe as input is refused at once, without a hang.
func TestSafetyNamedPipeInput(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	fifo := filepath.Join(e.dir, "leads.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	o := runProc(t, e.proc(context.Background(), "import", fifo, "--task-id", task, "--rate", "0"), 10*time.Second)
	if o.code != 1 || !strings.Contains(o.stderr, "pipe") {
		t.Fatalf("exit %d, want 1 with a message saying it is a pipe:\n%s", o.code, o.stderr)
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n != 0 {
		t.Fatalf("%d import calls", n)
	}
}

// 6. --report through a symlinked folder that is the input's folder, with
// the input's name: refused, the input intact, nothing sent.
func TestSafetyReportThroughASymlinkedFolder(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	if err := os.Mkdir(filepath.Join(e.dir, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	in := e.leads(t, "in/a.csv", validRows(10))
	orig := mustRead(t, in)
	if err := os.Symlink(filepath.Join(e.dir, "in"), filepath.Join(e.dir, "link")); err != nil {
		t.Fatal(err)
	}
	o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rate", "0",
		"--report", filepath.Join(e.dir, "link", "a.csv")), testDeadline)
	if o.code == 0 {
		t.Errorf("exit 0, want a refusal:\n%s", o.stderr)
	}
	if got := mustRead(t, in); !bytes.Equal(got, orig) {
		t.Errorf("the input was overwritten (%d bytes, was %d)", len(got), len(orig))
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n != 0 {
		t.Errorf("%d import calls", n)
	}
}

// 7. rollback while a --resume of the same report runs: it refuses (or
// waits), and deletes nothing while the import holds the task.
//
// FAILS on main dcab2e0: rollback takes neither the task's lock nor the
// journal's (cmd/m7import/rollback.go never calls tasklock.Acquire), so it
// deletes the 20 imported numbers while the resume is held mid-import.
func TestSafetyRollbackDuringResume(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	h := withHook(t, e)
	// The first run: batches 3 and 4 answered 503 and not retried.
	h.set(func(n int64, w http.ResponseWriter) bool {
		if n == 3 || n == 4 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	}, nil)
	in := e.leads(t, "a.csv", validRows(40))
	report := filepath.Join(e.dir, "r.csv")
	args := []string{"import", in, "--task-id", task, "--rule", "2", "--batch-size", "10", "--rate", "0",
		"--concurrency", "1", "--max-retries", "0", "--report", report}
	if o := runProc(t, e.proc(context.Background(), args...), testDeadline); o.code != 3 {
		t.Fatalf("first run: exit %d, want 3\n%s", o.code, o.stderr)
	}
	held := len(e.srv.Numbers(task))
	if held != 20 {
		t.Fatalf("the task holds %d numbers after the first run, want 20", held)
	}
	hold, release := h.holdAt(0)
	defer release()
	h.set(hold, nil)
	resume := e.proc(context.Background(), append(args, "--resume")...)
	var resumeErr bytes.Buffer
	resume.Stderr = &resumeErr
	if err := resume.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "the resume's import call", func() bool { return h.waiting.Load() >= 1 }) {
		resume.Process.Kill()
	}
	// --force: the resume's meta has no count after the import yet, which
	// rollback refuses on its own; only the task's lock may stop it here.
	o := runProc(t, e.proc(context.Background(), "rollback", report, "--yes", "--force"), 20*time.Second)
	t.Logf("rollback during the resume: exit %d after %s:\n%s", o.code, o.elapsed, o.stderr)
	if o.code == 0 {
		t.Errorf("rollback during the resume: exit 0, want a refusal:\n%s", o.stderr)
	}
	if n := e.srv.Stats()[sim.EndpointDelete].Calls; n != 0 {
		t.Errorf("rollback made %d delete calls while the import held the task", n)
	}
	if got := len(e.srv.Numbers(task)); got != held {
		t.Errorf("the task holds %d numbers, had %d", got, held)
	}
	release()
	if t.Failed() {
		waitProcess(t, resume)
		t.FailNow()
	}
	if err := waitProcess(t, resume); err != nil {
		t.Fatalf("resume: %v\n%s", err, resumeErr.String())
	}
	recs := readReport(t, report)
	checkEveryRowImported(t, recs, 40)
	e.checkImportedIsOnServer(t, task, recs)
	// With the task free, the same rollback works: the refusal above was
	// the lock, not something else.
	if o := runProc(t, e.proc(context.Background(), "rollback", report, "--yes"), testDeadline); o.code != 0 {
		t.Fatalf("rollback after the resume: exit %d\n%s", o.code, o.stderr)
	}
	if got := len(e.srv.Numbers(task)); got != 0 {
		t.Errorf("the task holds %d numbers after the rollback", got)
	}
}

// 8. Retry-After: 86400 on every call: the batch fails at once with a
// reason naming the wait; no sleep.
func TestSafetyRetryAfterADay(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.Fault429, RetryAfter: 86400 * time.Second})
	in := e.leads(t, "a.csv", validRows(20))
	o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0",
		"--retry-max", "2s"), 20*time.Second)
	if o.code == 0 {
		t.Fatalf("exit 0\n%s", o.stderr)
	}
	if o.elapsed > 10*time.Second {
		t.Errorf("took %s: it waited on the Retry-After", o.elapsed)
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n > 2 {
		t.Errorf("%d import calls for 2 batches: a batch was retried after a Retry-After longer than --retry-max", n)
	}
	recs := readReport(t, reportOf(in))
	if len(recs) != 20 {
		t.Fatalf("report has %d rows", len(recs))
	}
	named := false
	for _, r := range recs {
		if r.Status == importer.Imported {
			t.Errorf("row %d imported", r.Row)
		}
		named = named || strings.Contains(r.Reason, "Retry-After")
	}
	if !named {
		t.Errorf("no row's reason names the Retry-After wait; statuses %v, first reason %q", countStatus(recs), recs[0].Reason)
	}
	if n := len(e.srv.Numbers(task)); n != 0 {
		t.Errorf("the task holds %d numbers", n)
	}
}

// 8b. SIGTERM while the run only waits on a retry exits within a couple
// of seconds, the report complete.
func TestSafetySIGTERMWhileWaitingOnARetry(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.Fault429, RetryAfter: 20 * time.Second})
	in := e.leads(t, "a.csv", validRows(20))
	cmd := e.proc(context.Background(), "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0",
		"--concurrency", "1", "--retry-max", "30s")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "an import call", func() bool { return e.srv.Stats()[sim.EndpointImport].Calls >= 1 }) {
		cmd.Process.Kill()
	}
	time.Sleep(200 * time.Millisecond) // the reply read, the wait begun
	start := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	code := exitStatus(waitProcess(t, cmd))
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("exited %s after SIGTERM, want within a couple of seconds", d)
	}
	if code != 1 {
		t.Errorf("exit %d after SIGTERM, want 1:\n%s", code, stderr.String())
	}
	recs := readReport(t, reportOf(in))
	if len(recs) != 20 {
		t.Fatalf("report has %d rows, want 20", len(recs))
	}
	e.checkImportedIsOnServer(t, task, recs)
}

// 9. M7_SECRET_FILE naming a FIFO or /dev/zero: a clear error, exit 1,
// within a deadline.
func TestSafetySecretFileNotARegularFile(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	fifo := filepath.Join(e.dir, "secret")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	in := e.leads(t, "a.csv", validRows(5))
	delete(e.env, "M7_SECRET")
	for _, path := range []string{fifo, "/dev/zero"} {
		e.env["M7_SECRET_FILE"] = path
		o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rate", "0"), 10*time.Second)
		if o.code != 1 || !strings.Contains(o.stderr, "not a regular file") || !strings.Contains(o.stderr, path) {
			t.Errorf("M7_SECRET_FILE=%s: exit %d, want 1 saying it is not a regular file:\n%s", path, o.code, o.stderr)
		}
		if o.elapsed > 5*time.Second {
			t.Errorf("M7_SECRET_FILE=%s: took %s", path, o.elapsed)
		}
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n != 0 {
		t.Errorf("%d import calls", n)
	}
}

// 10. A gateway answering every import with 502: the run stops within a
// bounded number of calls, exit 1, the rest skipped, resumable.
func TestSafetyDeadGatewayStopsTheRun(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultGateway502})
	in := e.leads(t, "a.csv", validRows(1000))
	args := []string{"import", in, "--task-id", task, "--batch-size", "10", "--rate", "0",
		"--retry-initial", "1ms", "--retry-max", "5ms", "--max-retries", "5"}
	o := runProc(t, e.proc(context.Background(), args...), testDeadline)
	if o.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", o.code, o.stderr)
	}
	if !strings.Contains(o.stderr, "502") {
		t.Errorf("the message does not say what the server answered:\n%s", o.stderr)
	}
	// 10 attempts in a row, plus what other batches in flight had begun
	// (up to 8 at once, each with its own retries).
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n > 10+8+6 {
		t.Errorf("%d import calls against a dead gateway", n)
	}
	recs := readReport(t, reportOf(in))
	if len(recs) != 1000 {
		t.Fatalf("report has %d rows", len(recs))
	}
	got := countStatus(recs)
	if got[importer.Imported] != 0 || got[importer.Skipped] < 900 {
		t.Errorf("statuses %v, want none imported and the rest skipped", got)
	}
	e.srv.SetFaults(sim.EndpointImport)
	if o := runProc(t, e.proc(context.Background(), append(args, "--resume")...), testDeadline); o.code != 0 {
		t.Fatalf("resume: exit %d\n%s", o.code, o.stderr)
	}
	recs = readReport(t, reportOf(in))
	checkEveryRowImported(t, recs, 1000)
	e.checkImportedIsOnServer(t, task, recs)
}

// 11. Ctrl-C on a 50,000-row file mid-import: every row in the report,
// the unsent skipped, exit 1.
//
// FAILS on main dcab2e0: job/run.go opens the reader with the run's ctx
// (importer.Open(ctx, ...)), which the first Ctrl-C cancels; the reader
// then fails with "context canceled" and the report ends at the rows read
// so far (about 6,000 of 50,000).
func TestSafetySIGINTOnALargeFileReportsEveryRow(t *testing.T) {
	if testing.Short() {
		t.Skip("50,000 rows")
	}
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultLatency, Latency: 20 * time.Millisecond})
	const rows = 50000
	in := e.leads(t, "big.csv", validRows(rows))
	cmd := e.proc(context.Background(), "import", in, "--task-id", task, "--batch-size", "500", "--rate", "0", "--quiet")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "5 import calls", func() bool { return e.srv.Stats()[sim.EndpointImport].Calls >= 5 }) {
		cmd.Process.Kill()
	}
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitStatus(waitProcess(t, cmd)); code != 1 {
		t.Fatalf("exit %d after SIGINT, want 1:\n%s", code, stderr.String())
	}
	recs := readReport(t, reportOf(in))
	if len(recs) != rows {
		t.Fatalf("report has %d rows, want %d; stderr:\n%s", len(recs), rows, stderr.String())
	}
	got := countStatus(recs)
	if got[importer.Skipped] == 0 || got[importer.Imported] == 0 {
		t.Fatalf("statuses %v", got)
	}
	e.checkImportedIsOnServer(t, task, recs)
}

// 12. --report naming an existing folder: refused before any call.
func TestSafetyReportIsAFolder(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	dir := filepath.Join(e.dir, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in := e.leads(t, "a.csv", validRows(10))
	o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rate", "0", "--report", dir), testDeadline)
	if o.code == 0 || !strings.Contains(o.stderr, dir) {
		t.Errorf("exit %d, want a refusal naming %s:\n%s", o.code, dir, o.stderr)
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n != 0 {
		t.Errorf("%d import calls before the refusal", n)
	}
}

// 12b. A full disk under the report: the journal is kept, the message
// says to --resume after freeing space, no report path is printed that
// does not exist; the --resume after freeing space writes the report.
func TestSafetyFullDiskAtTheReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	const rows = 3000 // about 250 KB of report: far more than the 64 KB
	in := e.leads(t, "a.csv", validRows(rows))
	report := filepath.Join(dir, "a.results.csv")
	args := []string{"import", in, "--task-id", task, "--rule", "2", "--batch-size", "500", "--rate", "0", "--report", report, "--json"}
	o := runProc(t, e.proc(context.Background(), args...), testDeadline)
	if o.code == 0 {
		t.Fatalf("exit 0 on a full disk\n%s", o.stderr)
	}
	t.Logf("exit %d\nstdout: %s\nstderr: %s", o.code, o.stdout, o.stderr)
	if _, err := os.Stat(journal.Path(report)); err != nil {
		t.Errorf("the journal is not kept: %v", err)
	}
	if !strings.Contains(o.stderr, "--resume") {
		t.Errorf("the message does not say to --resume:\n%s", o.stderr)
	}
	if _, err := os.Stat(report); err != nil {
		// No report: nothing may point at it as if it were there.
		var sum job.Summary
		if json.Unmarshal([]byte(o.stdout), &sum) == nil && sum.Report != "" {
			if _, err := os.Stat(sum.Report); err != nil {
				t.Errorf("--json names the report %s, which does not exist", sum.Report)
			}
		}
		for _, line := range strings.Split(o.stderr, "\n") {
			if strings.Contains(line, report) && !strings.Contains(line, "journal") {
				t.Errorf("stderr names the report that does not exist as if it did: %q", line)
			}
		}
	}
	// Free space, resume: the report is written, every row in it.
	if out, err := exec.Command("mount", "-o", "remount,size=16m", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v %s", err, out)
	}
	if o := runProc(t, e.proc(context.Background(), append(args, "--resume")...), testDeadline); o.code != 0 {
		t.Fatalf("resume after freeing space: exit %d\n%s", o.code, o.stderr)
	}
	recs := readReport(t, report)
	checkEveryRowImported(t, recs, rows)
	e.checkImportedIsOnServer(t, task, recs)
	// No temp file survives a finished run.
	if left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(left) > 0 {
		t.Errorf("temp files left after the resume: %v", left)
	}
}

// 13. A processed batch answered success:false with an unknown code under
// rule 2: not failed, settled by the count, on the server once.
func TestSafetyUnknownBusinessErrorAfterProcessing(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultProcessBusy, EveryN: 2})
	in := e.leads(t, "a.csv", validRows(40))
	o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rule", "2", "--batch-size", "10",
		"--rate", "0", "--concurrency", "1", "--grace", "300ms", "--json"), testDeadline)
	if e.srv.Stats()[sim.EndpointImport].Faults["process-busy"] == 0 {
		t.Fatal("no ERR_BUSY answered: the test proves nothing")
	}
	recs := readReport(t, reportOf(in))
	checkSafe(t, e, task, recs)
	for _, r := range recs {
		if r.Status == importer.Failed {
			t.Fatalf("row %d failed after the server processed it: %s", r.Row, r.Reason)
		}
	}
	checkEveryRowImported(t, recs, 40)
	e.checkImportedIsOnServer(t, task, recs)
	if o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stderr)
	}
}

// 14. A report written under umask 077 is mode 0600, like its journal.
func TestSafetyReportFollowsTheUmask(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "a.csv", validRows(5))
	cmd := e.proc(context.Background(), "import", in, "--task-id", task, "--rate", "0")
	cmd.Path = "/bin/sh"
	cmd.Args = append([]string{"/bin/sh", "-c", `umask 077; exec "$0" "$@"`, binary}, cmd.Args[1:]...)
	if o := runProc(t, cmd, testDeadline); o.code != 0 {
		t.Fatalf("exit %d\n%s", o.code, o.stderr)
	}
	for _, p := range []string{reportOf(in), journal.Path(reportOf(in)), journal.MetaPath(reportOf(in))} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %o under umask 077, want 600", filepath.Base(p), m)
		}
	}
}

// Issue 17, 9: after a resume the summary's "the server kept N of M" line
// counts only what this run sent, and is not printed under rule 2 (where
// the server drops nothing) when the growth matches.
//
// FAILS on main dcab2e0: cmd/m7import/import.go:380-382 compares the
// growth with s.Imported (every imported row of the report, the earlier
// run's too) instead of s.ImportedThisRun, and prints "it drops numbers it
// already holds under rule 2" under rule 2 as well.
func TestSafetyResumeSummaryCountsOnlyThisRun(t *testing.T) {
	for _, tt := range []struct {
		rule    string
		want    string // in the resume's summary; "" for no "kept" line
		preload bool
	}{
		{"2", "", false},
		{"1", "the server kept 15 of the 20 rows this run sent", true},
	} {
		t.Run("rule "+tt.rule, func(t *testing.T) {
			e := newTestEnv(t, sim.Config{})
			task := e.srv.CreateTask("t")
			h := withHook(t, e)
			if tt.preload {
				// 5 of the rows the resume will send are in the task already.
				pre := e.leads(t, "pre.csv", validRows(40)[30:35])
				if o := runProc(t, e.proc(context.Background(), "import", pre, "--task-id", task, "--rate", "0"), testDeadline); o.code != 0 {
					t.Fatalf("preload: exit %d\n%s", o.code, o.stderr)
				}
			}
			base := h.calls.Load()
			h.set(func(n int64, w http.ResponseWriter) bool {
				if n == base+3 || n == base+4 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return true
				}
				return false
			}, nil)
			in := e.leads(t, "a.csv", validRows(40))
			args := []string{"import", in, "--task-id", task, "--rule", tt.rule, "--batch-size", "10", "--rate", "0",
				"--concurrency", "1", "--max-retries", "0"}
			if o := runProc(t, e.proc(context.Background(), args...), testDeadline); o.code != 3 {
				t.Fatalf("first run: exit %d, want 3\n%s", o.code, o.stderr)
			}
			h.set(nil, nil)
			o := runProc(t, e.proc(context.Background(), append(args, "--resume")...), testDeadline)
			if o.code != 0 {
				t.Fatalf("resume: exit %d\n%s", o.code, o.stderr)
			}
			if tt.want == "" && strings.Contains(o.stderr, "the server kept") {
				t.Errorf("rule %s resume, growth as imported, says the server kept fewer:\n%s", tt.rule, o.stderr)
			}
			if tt.want != "" && !strings.Contains(o.stderr, tt.want) {
				t.Errorf("rule %s resume: summary does not say %q:\n%s", tt.rule, tt.want, o.stderr)
			}
		})
	}
}

// 12c. A disk already full where the report goes: found before anything
// is sent (the journal, meta and the report's temp file are written
// before the first call), exit 1, no import call.
func TestSafetyFullDiskBeforeTheFirstCall(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "full")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs to fill (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	// Fill it to the last byte.
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := f.Write(make([]byte, 4096)); err != nil {
			break
		}
	}
	f.Close()
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "a.csv", validRows(50))
	report := filepath.Join(dir, "a.results.csv")
	o := runProc(t, e.proc(context.Background(), "import", in, "--task-id", task, "--rule", "2", "--rate", "0", "--report", report), testDeadline)
	t.Logf("exit %d\n%s", o.code, o.stderr)
	if o.code != 1 {
		t.Errorf("exit %d on a full disk, want 1", o.code)
	}
	if n := e.srv.Stats()[sim.EndpointImport].Calls; n != 0 {
		t.Errorf("%d import calls before the full disk was found", n)
	}
	if !strings.Contains(o.stderr, "no space left") {
		t.Errorf("the message does not say the disk is full:\n%s", o.stderr)
	}
}
