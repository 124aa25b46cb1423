package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/reports"
)

// testEnv is a simulator over real HTTP and the environment that points
// m7import at it.
type testEnv struct {
	srv *sim.Server
	url string
	env map[string]string
	dir string
	// gate, when it holds a channel, holds every import call until the
	// channel is closed (holdImports).
	gate    atomic.Pointer[chan struct{}]
	waiting atomic.Int64 // import calls waiting at the gate
}

// testDeadline bounds every wait of a test on a child or a condition, so
// that a broken run fails the test instead of hanging it.
const testDeadline = 60 * time.Second

// holdImports makes the simulator hold every import call until release
// is called: a run can be caught mid-import for certain, not by timing.
func (e *testEnv) holdImports() (release func()) {
	ch := make(chan struct{})
	e.gate.Store(&ch)
	var once sync.Once
	return func() {
		once.Do(func() {
			e.gate.Store(nil)
			close(ch)
		})
	}
}

// waitUntil polls cond until it holds; after testDeadline it reports an
// error and returns false. Safe to call from any goroutine.
func waitUntil(t testing.TB, what string, cond func() bool) bool {
	deadline := time.Now().Add(testDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("gave up after %s waiting for %s", testDeadline, what)
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// waitProcess waits for a child with a deadline, killing it and failing
// the test when it does not end.
func waitProcess(t testing.TB, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(testDeadline):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s did not end within %s", strings.Join(cmd.Args, " "), testDeadline)
		return nil
	}
}

func newTestEnv(t *testing.T, cfg sim.Config) *testEnv {
	t.Helper()
	if cfg.AppKey == "" {
		cfg.AppKey, cfg.Secret = "test-key", "test-secret"
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	srv := sim.New(cfg)
	e := &testEnv{srv: srv, dir: t.TempDir()}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ch := e.gate.Load(); ch != nil && strings.HasSuffix(r.URL.Path, "/import") {
			e.waiting.Add(1)
			<-*ch
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	e.url = hs.URL
	e.env = map[string]string{"M7_APPKEY": cfg.AppKey, "M7_SECRET": cfg.Secret, "M7_BASE_URL": hs.URL,
		"M7_DATA_DIR": filepath.Join(e.dir, ".m7import-data")}
	return e
}

// result is what one command line did.
type result struct {
	code          exitCode
	stdout, stder string
}

func (e *testEnv) run(t *testing.T, ctx context.Context, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(ctx, args, stdio{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: func(k string) string { return e.env[k] }})
	return result{code: code, stdout: out.String(), stder: errb.String()}
}

// leads writes a CSV lead file with the standard Chinese header.
func (e *testEnv) leads(t *testing.T, name string, rows [][]string) string {
	t.Helper()
	path := filepath.Join(e.dir, name)
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"姓名", "手机号码", "备注", "座席工号"})
	w.WriteAll(rows)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// validRows makes n rows with distinct valid mobile numbers.
func validRows(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		rows[i] = []string{fmt.Sprintf("客户%d", i), fmt.Sprintf("139%08d", i), "", ""}
	}
	return rows
}

// readReport reads a report back with the reports package.
func readReport(t *testing.T, path string) []importer.Record {
	t.Helper()
	r, err := reports.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var recs []importer.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("read report %s: %v", path, err)
		}
		recs = append(recs, rec)
	}
}

func countStatus(recs []importer.Record) map[importer.Status]int {
	m := map[importer.Status]int{}
	for _, r := range recs {
		m[r.Status]++
	}
	return m
}

// serverNumbers counts how often each number is in the task.
func (e *testEnv) serverNumbers(task string) map[string]int {
	m := map[string]int{}
	for _, n := range e.srv.Numbers(task) {
		m[n.Number]++
	}
	return m
}

// checkImportedIsOnServer proves that the rows the report calls imported
// are exactly the numbers the server holds, each once.
func (e *testEnv) checkImportedIsOnServer(t *testing.T, task string, recs []importer.Record) {
	t.Helper()
	held := e.serverNumbers(task)
	imported := map[string]bool{}
	for _, r := range recs {
		if r.Status == importer.Imported {
			imported[r.Normalized] = true
			if held[r.Normalized] != 1 {
				t.Errorf("row %d (%s) reported imported, server holds it %d times", r.Row, r.Normalized, held[r.Normalized])
			}
		}
	}
	for n, c := range held {
		if !imported[n] {
			t.Errorf("server holds %s (%d times) but no row is reported imported", n, c)
		}
	}
}
