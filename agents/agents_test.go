package agents_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/agents"
	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func client(t *testing.T, cfg sim.Config) (*sim.Server, *api.Client) {
	t.Helper()
	cfg.AppKey, cfg.Secret = "k", "s"
	srv := sim.New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "s", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestCheckFindsUnknownAndDisabledAgents(t *testing.T) {
	_, c := client(t, sim.Config{}) // 2000, 2001 enabled; 2002 disabled
	tests := []struct {
		name string
		in   []string
		want []string // Problem.String() of each problem, in order
	}{
		{"all enabled", []string{"2000", "2001", "2000"}, nil},
		{"unknown and disabled", []string{"2009", "2000", "2002", "2009"},
			[]string{"agent 2009 does not exist in this account", "agent 2002 (王五) is disabled"}},
		{"blank only", []string{"", " "}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agents.Check(context.Background(), c, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, "|") != strings.Join(tt.want, "|") {
				t.Errorf("problems %q, want %q", s, tt.want)
			}
		})
	}
}

func TestCheckPagesThroughManyAgents(t *testing.T) {
	var list []api.Agent
	for i := range 250 {
		st := api.AgentEnabled
		if i == 240 {
			st = api.AgentLocked
		}
		list = append(list, api.Agent{ID: fmt.Sprintf("id%03d", i), AgentNumber: fmt.Sprintf("3%03d", i), AgentName: "a", Status: st})
	}
	srv, c := client(t, sim.Config{Agents: list})
	got, err := agents.Check(context.Background(), c, []string{"3240", "3001", "3249"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].String() != "agent 3240 (a) is locked" {
		t.Errorf("problems %v, want agent 3240 locked", got)
	}
	if n := srv.Stats()[sim.EndpointAgent].Calls; n != 3 {
		t.Errorf("%d agent queries, want 3 pages of 100", n)
	}
}

func TestCheckFailsWhenAgentsCannotBeListed(t *testing.T) {
	srv, c := client(t, sim.Config{})
	srv.SetFaults(sim.EndpointAgent, sim.Fault{Mode: sim.Fault503})
	_, err := agents.Check(context.Background(), c, []string{"2000"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.HTTPStatus != 503 {
		t.Errorf("err = %v, want the API's 503", err)
	}
}
