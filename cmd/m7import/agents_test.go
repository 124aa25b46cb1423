package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/importer"
)

func TestCheckAgentsWarnsAboutUnknownAndDisabledAgents(t *testing.T) {
	e := newTestEnv(t, sim.Config{}) // 2000, 2001 enabled; 2002 (王五) disabled
	c, err := api.New(api.Config{BaseURL: e.url, AppKey: e.env["M7_APPKEY"], Secret: e.env["M7_SECRET"], Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	withAgents := e.leads(t, "agents.csv", [][]string{
		{"a", "13800138001", "", "2000"},
		{"b", "13800138002", "", "2002"},
		{"c", "13800138003", "", "2009"},
		{"d", "13800138004", "", ""},
		{"e", "13800138005", "", "2002"},
		{"f", "", "", "2008"}, // no number: never sent, not checked
	})
	noAgents := filepath.Join(e.dir, "plain.csv")
	if err := os.WriteFile(noAgents, []byte("姓名,手机号码\na,13800138001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		file     string
		warnings []string
		queries  int // agent queries sent, cumulative
	}{
		{"unknown and disabled", withAgents, []string{
			"warning: " + withAgents + ": agent 2002 (王五) is disabled: its 2 rows (first: row 3) will be spread over the task's agents instead",
			"warning: " + withAgents + ": agent 2009 does not exist in this account: its row (row 4) will be spread over the task's agents instead",
		}, 1},
		{"no agent column: no call", noAgents, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w strings.Builder
			problems, err := checkAgents(context.Background(), c, tt.file, importer.Options{Rule: 1}, &w)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(strings.TrimRight(w.String(), "\n"), "\n")
			if w.Len() == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(tt.warnings, "\n") {
				t.Errorf("warnings:\n%s\nwant:\n%s", w.String(), strings.Join(tt.warnings, "\n"))
			}
			if len(problems) != len(tt.warnings) {
				t.Errorf("%d problems, want %d", len(problems), len(tt.warnings))
			}
			if n := e.srv.Stats()[sim.EndpointAgent].Calls; n != tt.queries {
				t.Errorf("%d agent queries so far, want %d", n, tt.queries)
			}
		})
	}
	if _, err := checkAgents(context.Background(), c, filepath.Join(e.dir, "missing.csv"), importer.Options{}, &strings.Builder{}); err == nil {
		t.Errorf("a missing file gave no error")
	}
}
