package tasks_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/tasks"
)

func setup(t *testing.T) (*sim.Server, *api.Client) {
	t.Helper()
	srv := sim.New(sim.Config{AppKey: "k", Secret: "s", Seed: 1})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestByNameIsExactAndListsCandidates(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	id := srv.CreateTask("十一月回访")
	srv.CreateTask("十一月回访-二组") // the query matches by substring
	got, err := tasks.ByName(ctx, c, "十一月回访")
	if err != nil || got.TaskID != id {
		t.Fatalf("ByName: %+v, %v", got, err)
	}
	_, err = tasks.ByName(ctx, c, "十一月")
	if !errors.Is(err, tasks.ErrNotFound) || !strings.Contains(err.Error(), "十一月回访-二组") {
		t.Fatalf("unknown name: %v", err)
	}
	srv.CreateTask("十一月回访")
	_, err = tasks.ByName(ctx, c, "十一月回访")
	if !errors.Is(err, tasks.ErrAmbiguous) || !strings.Contains(err.Error(), id) {
		t.Fatalf("ambiguous name: %v", err)
	}
}

func TestByID(t *testing.T) {
	srv, c := setup(t)
	id := srv.CreateTask("t")
	if got, err := tasks.ByID(context.Background(), c, id); err != nil || got.TaskName != "t" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := tasks.ByID(context.Background(), c, "nope"); !errors.Is(err, tasks.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestCreateFindsTheNewIDAndRefusesADuplicateName(t *testing.T) {
	srv, c := setup(t)
	ctx := context.Background()
	req := api.CreateTaskRequest{TaskName: "new", AgentNumberList: []string{"2000"}}
	created, err := tasks.Create(ctx, c, req, false)
	if err != nil || created.TaskID == "" || created.TaskName != "new" {
		t.Fatalf("%+v %v", created, err)
	}
	if _, err := tasks.Create(ctx, c, req, false); !errors.Is(err, tasks.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	again, err := tasks.Create(ctx, c, req, true)
	if err != nil || again.TaskID == created.TaskID {
		t.Fatalf("allowed duplicate: %+v %v", again, err)
	}
	if n := len(srv.Tasks()); n != 2 {
		t.Fatalf("%d tasks", n)
	}
}
