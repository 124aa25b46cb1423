package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &testEnv{srv: srv, url: hs.URL, dir: t.TempDir(), env: map[string]string{
		"M7_APPKEY": cfg.AppKey, "M7_SECRET": cfg.Secret, "M7_BASE_URL": hs.URL,
	}}
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
		if err != nil {
			break
		}
		recs = append(recs, rec)
	}
	return recs
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
