package job_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/reports"
)

// env is a simulator over real HTTP and a client signed for it.
type env struct {
	srv    *sim.Server
	client *api.Client
	dir    string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := sim.New(sim.Config{AppKey: "k", Secret: "s", Seed: 1})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "s", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, client: c, dir: t.TempDir()}
}

func (e *env) file(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) options(t *testing.T, input string) job.Options {
	t.Helper()
	report, format, err := reports.SidePath(input, "", "", ".results")
	if err != nil {
		t.Fatal(err)
	}
	return job.Options{Rule: api.RuleThisTask, BatchSize: 2000, Concurrency: 2, MaxRetries: 2,
		RetryInitial: time.Millisecond, RetryMax: 5 * time.Millisecond, DrainTimeout: time.Second,
		Timeout: 5 * time.Second, Report: report, ReportFormat: format, CheckAgents: true}
}

func TestFileWarnsAboutUnknownAndDisabledAgents(t *testing.T) {
	e := newEnv(t) // 2000, 2001 enabled; 2002 (王五) disabled
	withAgents := e.file(t, "agents.csv", "姓名,手机号码,备注,座席工号\n"+
		"a,13800138001,,2000\nb,13800138002,,2002\nc,13800138003,,2009\nd,13800138004,,\ne,13800138005,,2002\nf,,,2008\n")
	plain := e.file(t, "plain.csv", "姓名,手机号码\na,13800138001\n")
	tests := []struct {
		name     string
		file     string
		warnings []string
		queries  int // agent queries sent, cumulative
	}{
		{"unknown and disabled", withAgents, []string{
			withAgents + ": agent 2002 (王五) is disabled: its 2 rows (first: row 3) will be spread over the task's agents instead",
			withAgents + ": agent 2009 does not exist in this account: its row (row 4) will be spread over the task's agents instead",
		}, 1},
		{"no agent column: no call", plain, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := e.srv.CreateTask("t-"+tt.name, "2000")
			task := func(context.Context) (api.Task, error) { return api.Task{TaskID: id, TaskName: "t"}, nil }
			var got []string
			o := e.options(t, tt.file)
			o.Warn = func(s string) { got = append(got, s) }
			if _, err := job.File(context.Background(), e.client, task, tt.file, o); err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.warnings, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.warnings, "\n"))
			}
			if n := e.srv.Stats()[sim.EndpointAgent].Calls; n != tt.queries {
				t.Errorf("%d agent queries so far, want %d", n, tt.queries)
			}
		})
	}
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"", "50", "5%", "0.5%", "100%", "-1", "101%", "NaN%", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := job.ParseLimit(s)
		if err != nil {
			return
		}
		// A limit never refuses a file without invalid rows, and one that
		// is off refuses nothing.
		if l.Exceeded(0, 100) {
			t.Fatalf("%q refuses a file with no invalid row", s)
		}
		if !l.Set() && l.Exceeded(100, 100) {
			t.Fatalf("an unset limit %q refused a file", s)
		}
	})
}
