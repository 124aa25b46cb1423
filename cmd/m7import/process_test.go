package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
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
)

// binary is the m7import built once for the tests that need a real
// process (signals, kill -9, exit codes).
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "m7import-test-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "m7import")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build m7import: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc runs the built binary against the test environment's simulator.
func (e *testEnv) proc(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + e.dir}
	for k, v := range e.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Dir = e.dir
	return cmd
}

func exitStatus(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestProcessExitCodes(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	good := e.leads(t, "good.csv", validRows(5))
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"version"}, 0},
		{[]string{"validate", good}, 0},
		{[]string{"import", good, "--task-id", task, "--json"}, 0},
		{[]string{"import", "--bogus-flag"}, 2},
		{[]string{"import", "no-such.csv", "--task-id", task}, 1},
		{[]string{"frobnicate"}, 2},
	}
	for _, tt := range tests {
		err := e.proc(context.Background(), tt.args...).Run()
		if got := exitStatus(err); got != tt.code {
			t.Errorf("m7import %s: exit %d, want %d", strings.Join(tt.args, " "), got, tt.code)
		}
	}
}

func TestProcessSIGINTMidRunWritesCompleteReport(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	e.srv.SetFaults("import", sim.Fault{Mode: sim.FaultLatency, Latency: 40 * time.Millisecond})
	in := e.leads(t, "a.csv", validRows(2000))
	cmd := e.proc(context.Background(), "import", in, "--task-id", task, "--batch-size", "20", "--rate", "0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "5 import calls", func() bool { return e.srv.Stats()["import"].Calls >= 5 }) {
		cmd.Process.Kill()
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := waitProcess(t, cmd)
	if code := exitStatus(err); code != 1 {
		t.Fatalf("exit %d after SIGINT, want 1; stderr:\n%s", code, stderr.String())
	}
	recs := readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv")
	if len(recs) != 2000 {
		t.Fatalf("report has %d rows, want 2000", len(recs))
	}
	got := countStatus(recs)
	if got[importer.Skipped] == 0 || got[importer.Imported] == 0 {
		t.Fatalf("statuses %v", got)
	}
	e.checkImportedIsOnServer(t, task, recs)
}

// killer kills the child process at a chosen import call: either right
// after the server processed it and before the reply leaves (the worst
// moment: sent, done, not recorded), or a little while into the call.
type killer struct {
	srv   *sim.Server
	calls atomic.Int64
	// inflight counts import calls the simulator is still handling: the
	// soak lets them finish before it resumes, which is what the grace
	// period stands for (a request not finished by then never will be).
	inflight atomic.Int64
	mu       sync.Mutex
	target   int64
	after    bool // kill after the server processed the call
	proc     *os.Process
	killed   chan struct{}
}

func (k *killer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/import") {
		k.srv.ServeHTTP(w, r)
		return
	}
	k.inflight.Add(1)
	defer k.inflight.Add(-1)
	n := k.calls.Add(1)
	k.mu.Lock()
	hit, after, p := n == k.target, k.after, k.proc
	k.mu.Unlock()
	if hit && !after && p != nil {
		k.done() // before the kill, so the test knows when it reaps the process
		p.Kill()
		return
	}
	k.srv.ServeHTTP(w, r)
	if hit && after && p != nil {
		k.done()
		p.Kill()
	}
}

func (k *killer) done() {
	select {
	case k.killed <- struct{}{}:
	default:
	}
}

// arm makes the killer strike at the n-th import call from now.
func (k *killer) arm(n int64, after bool, p *os.Process) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.target, k.after, k.proc = k.calls.Load()+n, after, p
}

// soak imports validRows(rows) with the given flags, killing the process
// -9 at kills seeded points and resuming each time, then runs to the end.
// It returns the final report and the task id.
func soak(t *testing.T, seed uint64, rows, kills int, faults []sim.Fault, flags ...string) (*testEnv, []importer.Record, string) {
	t.Helper()
	e := newTestEnv(t, sim.Config{Seed: int64(seed)})
	task := e.srv.CreateTask("soak")
	if len(faults) > 0 {
		e.srv.SetFaults("import", faults...)
	}
	k := &killer{srv: e.srv, killed: make(chan struct{}, 1)}
	hs := httptest.NewServer(k)
	defer hs.Close()
	e.env["M7_BASE_URL"] = hs.URL
	in := e.leads(t, "soak.csv", validRows(rows))
	// The simulator answers at once, so a short grace period is safe here.
	args := append([]string{"import", in, "--task-id", task, "--rate", "0", "--retry-initial", "1ms", "--retry-max", "5ms", "--max-retries", "8",
		"--timeout", "5s", "--grace", "200ms", "--quiet"}, flags...)
	rng := rand.New(rand.NewPCG(seed, 99))
	killedAt := 0
	for i := 0; i <= kills; i++ {
		a := args
		if i > 0 {
			a = append(append([]string{}, args...), "--resume")
		}
		cmd := e.proc(context.Background(), a...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i < kills {
			k.arm(int64(1+rng.IntN(3)), rng.IntN(2) == 0, cmd.Process)
		} else {
			k.arm(0, false, nil)
		}
		err := waitProcess(t, cmd)
		code := exitStatus(err)
		if i < kills {
			select {
			case <-k.killed:
				killedAt++
				waitUntil(t, "the killed run's calls to finish on the server", func() bool { return k.inflight.Load() == 0 })
				continue
			default:
			}
		}
		// Not killed (the run ended first): it must have finished properly.
		if code != 0 && code != 3 {
			t.Fatalf("run %d: exit %d\n%s", i, code, stderr.String())
		}
		if i < kills {
			break
		}
	}
	if killedAt < kills/2 {
		t.Fatalf("only %d kills landed", killedAt)
	}
	t.Logf("%d kills landed", killedAt)
	return e, readReport(t, strings.TrimSuffix(in, ".csv")+".results.csv"), task
}

func TestKillAndResumeRule2ImportsEveryRowExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 soak")
	}
	// One batch in flight at a time: a batch of unknown fate can always be
	// settled from the task's numberTotal.
	e, recs, task := soak(t, 2026, 20000, 20, nil, "--rule", "2", "--batch-size", "500", "--concurrency", "1")
	if len(recs) != 20000 {
		t.Fatalf("report has %d rows", len(recs))
	}
	for _, r := range recs {
		if r.Status != importer.Imported {
			t.Fatalf("row %d: %s (%s)", r.Row, r.Status, r.Reason)
		}
	}
	e.checkImportedIsOnServer(t, task, recs)
}

// checkSafe asserts the rule-2 safety promise: no number twice, imported
// rows on the server once, failed and skipped rows not on it.
func checkSafe(t *testing.T, e *testEnv, task string, recs []importer.Record) {
	t.Helper()
	held := e.serverNumbers(task)
	for n, c := range held {
		if c > 1 {
			t.Errorf("%s on the server %d times", n, c)
		}
	}
	for _, r := range recs {
		switch r.Status {
		case importer.Imported:
			if held[r.Normalized] != 1 {
				t.Errorf("row %d reported imported, on the server %d times", r.Row, held[r.Normalized])
			}
		case importer.Failed, importer.Skipped:
			if held[r.Normalized] != 0 {
				t.Errorf("row %d reported %s, but on the server", r.Row, r.Status)
			}
		}
	}
}

func TestKillAndResumeWithFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 soak")
	}
	faults := []sim.Fault{
		{Mode: sim.FaultProcessThen500, Rate: 0.05},
		{Mode: sim.FaultProcessThenDrop, Rate: 0.05},
		{Mode: sim.Fault503, Rate: 0.05},
		{Mode: sim.Fault429, Rate: 0.05},
	}
	t.Run("rule 1: no row lost", func(t *testing.T) {
		e, recs, task := soak(t, 7, 20000, 20, faults, "--rule", "1", "--batch-size", "500")
		if len(recs) != 20000 {
			t.Fatalf("report has %d rows", len(recs))
		}
		held := e.serverNumbers(task)
		for _, r := range recs {
			if held[r.Normalized] != 1 {
				t.Fatalf("row %d (%s, %s) on the server %d times", r.Row, r.Status, r.Reason, held[r.Normalized])
			}
		}
	})
	t.Run("rule 2: every row once, none unconfirmed", func(t *testing.T) {
		e, recs, task := soak(t, 8, 20000, 20, faults, "--rule", "2", "--batch-size", "500")
		if len(recs) != 20000 {
			t.Fatalf("report has %d rows", len(recs))
		}
		checkSafe(t, e, task, recs)
		if got := countStatus(recs); got[importer.Imported] != 20000 {
			t.Fatalf("statuses %v, want every row imported", got)
		}
	})
}

// TestKillAndResumeSettlesEveryCrashExactly is issue 14's promise: at any
// concurrency, with a fifth of the import calls processed and then
// answered 500 or dropped, and 20 kill -9s, every row ends imported, on
// the server once, none unconfirmed.
func TestKillAndResumeSettlesEveryCrashExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 soak")
	}
	faults := []sim.Fault{
		{Mode: sim.FaultProcessThen500, Rate: 0.1},
		{Mode: sim.FaultProcessThenDrop, Rate: 0.1},
	}
	for _, tt := range []struct {
		name  string
		flags []string
	}{
		{"default concurrency (auto)", nil},
		{"--concurrency 4", []string{"--concurrency", "4"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			flags := append([]string{"--rule", "2", "--batch-size", "500"}, tt.flags...)
			e, recs, task := soak(t, 14, 20000, 20, faults, flags...)
			if len(recs) != 20000 {
				t.Fatalf("report has %d rows", len(recs))
			}
			checkSafe(t, e, task, recs)
			if got := countStatus(recs); got[importer.Imported] != 20000 {
				t.Fatalf("statuses %v, want all 20000 imported and none unconfirmed", got)
			}
			if n := len(e.srv.Numbers(task)); n != 20000 {
				t.Fatalf("the task holds %d numbers, want 20000", n)
			}
		})
	}
}

func TestResumeRefusals(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	other := e.srv.CreateTask("u")
	in := e.leads(t, "a.csv", validRows(40))
	report := filepath.Join(e.dir, "r.csv")
	base := []string{"import", in, "--report", report, "--batch-size", "10", "--rate", "0"}
	// An interrupted run: the journal says batch 1 was being sent.
	e.srv.SetFaults("import", sim.Fault{Mode: sim.Fault503, EveryN: 1})
	r := e.run(t, context.Background(), append(base, "--task-id", task, "--max-retries", "0")...)
	if r.code != exitIncomplete {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	e.srv.SetFaults("import")
	// A rerun after a complete run is refused without --force or --resume.
	r = e.run(t, context.Background(), append(base, "--task-id", task)...)
	if r.code != exitFailed || !strings.Contains(r.stder, "--force") {
		t.Fatalf("rerun: exit %d: %s", r.code, r.stder)
	}
	// Another task on the same journal after a finished run: a new run,
	// with or without --resume (a nightly job always passes it).
	r = e.run(t, context.Background(), append(base, "--task-id", other, "--resume")...)
	if r.code != exitOK {
		t.Fatalf("other task: exit %d: %s", r.code, r.stder)
	}
	// Changed input with --resume after an interrupted run is refused.
	j := report + ".journal"
	data, _ := os.ReadFile(j)
	os.WriteFile(j, bytes.Replace(data, []byte(`{"type":"complete"`), []byte(`{"type":"resume"`), 1), 0o644)
	os.WriteFile(in, append(mustRead(t, in), []byte("新,13700000000,,\n")...), 0o644)
	r = e.run(t, context.Background(), append(base, "--task-id", other, "--resume")...)
	if r.code != exitFailed || !strings.Contains(r.stder, "content changed") {
		t.Fatalf("changed input: exit %d: %s", r.code, r.stder)
	}
	// Without --resume, an interrupted journal stops the run.
	r = e.run(t, context.Background(), append(base, "--task-id", other)...)
	if r.code != exitFailed || !strings.Contains(r.stder, "--resume") {
		t.Fatalf("no --resume: exit %d: %s", r.code, r.stder)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResumeRefusesAChangedTask(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	other := e.srv.CreateTask("u")
	in := e.leads(t, "a.csv", validRows(20))
	// An interrupted run into task t.
	e.srv.SetFaults("import", sim.Fault{Mode: sim.Fault503, EveryN: 1})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitUntil(t, "an import call", func() bool { return e.srv.Stats()["import"].Calls >= 1 })
		cancel()
	}()
	e.run(t, ctx, "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0", "--retry-initial", "50ms", "--concurrency", "1")
	e.srv.SetFaults("import")
	r := e.run(t, context.Background(), "import", in, "--task-id", other, "--batch-size", "10", "--resume")
	if r.code != exitFailed || !strings.Contains(r.stder, "task "+other) {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
}

func TestConcurrentRunsOnTheSameJournal(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	release := e.holdImports() // the first run is held at its first import call
	defer release()
	in := e.leads(t, "a.csv", validRows(100))
	first := e.proc(context.Background(), "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0", "--concurrency", "1", "--quiet")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(t, "the first run's first import call", func() bool { return e.waiting.Load() >= 1 }) {
		first.Process.Kill()
	}
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	second := e.proc(ctx, "import", in, "--task-id", task, "--batch-size", "10", "--rate", "0", "--resume")
	out, err := second.CombinedOutput()
	release()
	// The second run is refused by the task's lock (after waiting for it)
	// before it could reach the journal's.
	if code := exitStatus(err); code != 1 || !strings.Contains(string(out), "is in use by pid") {
		t.Fatalf("second run: exit %d: %s", code, out)
	}
	if err := waitProcess(t, first); err != nil {
		t.Fatalf("first run: %v", err)
	}
	for n, c := range e.serverNumbers(task) {
		if c != 1 {
			t.Fatalf("%s on the server %d times", n, c)
		}
	}
}

func TestSimCommandAcceptsARequestSignedPerAUTH(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "sim", "--addr", "127.0.0.1:0", "--appkey", "K", "--secret", "S")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Signal(syscall.SIGINT)
	line := make([]byte, 512)
	n, _ := stderr.Read(line)
	var addr string
	for _, f := range strings.Fields(string(line[:n])) {
		if strings.HasPrefix(f, "http://127.0.0.1:") {
			addr = f
			break
		}
	}
	if addr == "" {
		t.Fatalf("no address in %q", line[:n])
	}
	// Signed by hand from AUTH.md, not by the api package.
	ts := fmt.Sprint(time.Now().Unix())
	nonce := "123221"
	mac := hmac.New(sha256.New, []byte("S"))
	mac.Write([]byte("K" + ts + nonce))
	req, _ := http.NewRequest("POST", addr+"/openapi/v1/call/dialout/task/create", strings.NewReader(`{"taskName":"curl","agentNumberList":[],"queueNumberList":[]}`))
	req.Header.Set("content-type", "application/json")
	req.Header.Set("m7-appkey", "K")
	req.Header.Set("m7-timestamp", ts)
	req.Header.Set("m7-nonce", nonce)
	req.Header.Set("m7-sign", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"success":true`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestNightlyResumeStartsFreshOnANewFileAndNeverRepeatsAFinishedOne(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	in := e.leads(t, "tonight.csv", validRows(5))
	args := []string{"import", in, "--task-id", task, "--rate", "0", "--resume"}
	if r := e.run(t, context.Background(), args...); r.code != exitOK {
		t.Fatalf("first night: exit %d: %s", r.code, r.stder)
	}
	// The same file again: nothing left to send, nothing sent twice.
	if r := e.run(t, context.Background(), args...); r.code != exitOK {
		t.Fatalf("rerun: exit %d: %s", r.code, r.stder)
	}
	if n := e.srv.Stats()["import"].Calls; n != 1 {
		t.Fatalf("%d import calls after a rerun of a finished import", n)
	}
	// The next night's file under the same name: a new run.
	e.leads(t, "tonight.csv", validRows(8)[5:])
	if r := e.run(t, context.Background(), args...); r.code != exitOK {
		t.Fatalf("next night: exit %d: %s", r.code, r.stder)
	}
	if got := len(e.srv.Numbers(task)); got != 8 {
		t.Fatalf("task holds %d numbers, want 8", got)
	}
}
