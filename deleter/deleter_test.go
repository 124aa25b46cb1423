package deleter_test

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/deleter"
	"github.com/m7import/m7import/importer"
)

// setup starts a simulator holding one task with numbers and returns a
// client for it.
func setup(t *testing.T, numbers ...string) (*sim.Server, *api.Client, string) {
	t.Helper()
	srv := sim.New(sim.Config{AppKey: "k", Secret: "s", Seed: 1})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "s", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	task := srv.CreateTask("t", "2000")
	if len(numbers) > 0 {
		rows := make([]api.ImportRow, len(numbers))
		for i, n := range numbers {
			rows[i] = api.ImportRow{Name: "n", Number: n}
		}
		if _, err := c.Import(context.Background(), api.ImportRequest{TaskID: task, ImportData: rows, Rule: api.RuleNone}); err != nil {
			t.Fatal(err)
		}
	}
	return srv, c, task
}

func newDeleter(t *testing.T, c deleter.Client, retries int) *deleter.Deleter {
	t.Helper()
	d, err := deleter.New(c, deleter.Config{MaxRetries: retries, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDeleteOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		fault   sim.Fault
		retries int
		status  importer.Status
		calls   int  // delete calls the server saw
		held    bool // the number is still in the task
	}{
		{"plain", sim.Fault{}, 3, deleter.Deleted, 1, false},
		{"503 retried", sim.Fault{Mode: sim.Fault503, EveryN: 1}, 2, importer.Failed, 3, true},
		{"429 retried", sim.Fault{Mode: sim.Fault429, EveryN: 1}, 1, importer.Failed, 2, true},
		// A delete is idempotent: an ambiguous 500 is retried, unlike an
		// import under rule 2.
		{"ambiguous 500 retried", sim.Fault{Mode: sim.FaultProcessThen500, EveryN: 1}, 2, importer.Failed, 3, false},
		{"dropped reply retried", sim.Fault{Mode: sim.FaultProcessThenDrop, EveryN: 1}, 1, importer.Failed, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, task := setup(t, "13800138000", "13900139000")
			if tt.fault.Mode != sim.FaultNone {
				srv.SetFaults(sim.EndpointDelete, tt.fault)
			}
			res := newDeleter(t, c, tt.retries).Delete(context.Background(), api.DeleteNumbersRequest{TaskID: task, CustomerNumber: "13800138000"})
			if res.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", res.Status, res.Reason, tt.status)
			}
			if got := srv.Stats()[sim.EndpointDelete].Calls; got != tt.calls {
				t.Errorf("server saw %d delete calls, want %d", got, tt.calls)
			}
			held := false
			for _, n := range srv.Numbers(task) {
				if n.Number == "13800138000" {
					held = true
				}
				if n.Number == "" {
					t.Errorf("empty number row")
				}
			}
			if held != tt.held {
				t.Errorf("number still held: %v, want %v", held, tt.held)
			}
			if len(srv.Numbers(task)) < 1 {
				t.Errorf("the other number was deleted too")
			}
		})
	}
}

func TestDeleteAuthRefusalStopsTheRun(t *testing.T) {
	srv := sim.New(sim.Config{AppKey: "k", Secret: "s", Seed: 1})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	task := srv.CreateTask("t")
	src := &records{recs: []importer.Record{
		{Row: 2, Normalized: "13800138000", Status: importer.Valid},
		{Row: 3, Normalized: "13800138001", Status: importer.Valid},
	}}
	var out sink
	sum, err := deleter.Run(context.Background(), newDeleter(t, c, 3), src, &out, deleter.Options{Filter: api.DeleteNumbersRequest{TaskID: task}})
	if err != nil {
		t.Fatal(err)
	}
	if !api.IsAuth(sum.Stopped) {
		t.Fatalf("Stopped = %v, want an auth refusal", sum.Stopped)
	}
	if sum.Failed != 1 || sum.Skipped != 1 || sum.Calls != 1 {
		t.Errorf("counts %+v: want 1 failed (one call, no retry), 1 skipped", sum.Counts)
	}
}

func TestRunReportsEveryRowAndSendsEachNumberOnce(t *testing.T) {
	srv, c, task := setup(t, "13800138000", "13800138000", "13900139000", "13700137000")
	src := &records{recs: []importer.Record{
		{Row: 2, Number: "138 0013 8000", Normalized: "13800138000", Status: importer.Valid},
		{Row: 3, Number: "12345", Status: importer.Invalid, Reason: "too short"},
		{Row: 4, Number: "13800138000", Normalized: "13800138000", Status: importer.Valid},
		{Row: 5, Number: "13900139000", Normalized: "13900139000", Status: importer.Valid},
		{Row: 6, Number: "15000150000", Normalized: "15000150000", Status: importer.Valid}, // not in the task
	}}
	var out sink
	d, err := deleter.New(c, deleter.Config{MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := deleter.Run(context.Background(), d, src, &out, deleter.Options{Filter: api.DeleteNumbersRequest{TaskID: task}})
	if err != nil {
		t.Fatal(err)
	}
	want := []importer.Status{deleter.Deleted, importer.Invalid, deleter.Deleted, deleter.Deleted, deleter.Deleted}
	if len(out) != len(want) {
		t.Fatalf("%d report rows, want %d", len(out), len(want))
	}
	for i, rec := range out {
		if rec.Status != want[i] || rec.Row != src.recs[i].Row {
			t.Errorf("row %d: %s (%s), want %s", rec.Row, rec.Status, rec.Reason, want[i])
		}
	}
	if out[1].Reason != "too short" || out[2].Reason != "same number as row 2" {
		t.Errorf("reasons %q, %q", out[1].Reason, out[2].Reason)
	}
	if sum.Calls != 3 || srv.Stats()[sim.EndpointDelete].Calls != 3 {
		t.Errorf("%d calls (server: %d), want 3: one per distinct number", sum.Calls, srv.Stats()[sim.EndpointDelete].Calls)
	}
	if left := srv.Numbers(task); len(left) != 1 || left[0].Number != "13700137000" {
		t.Errorf("task holds %v, want only 13700137000", left)
	}
	if sum.Rows != 5 || sum.Deleted != 4 || sum.Invalid != 1 {
		t.Errorf("counts %+v", sum.Counts)
	}
}

func TestRunStoppedByContextSkipsTheRest(t *testing.T) {
	_, c, task := setup(t, "13800138000")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src := &records{recs: []importer.Record{{Row: 2, Normalized: "13800138000", Status: importer.Valid}, {Row: 3, Normalized: "13800138001", Status: importer.Valid}}}
	var out sink
	sum, err := deleter.Run(ctx, newDeleter(t, c, 3), src, &out, deleter.Options{Filter: api.DeleteNumbersRequest{TaskID: task}})
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(sum.Stopped, context.Canceled) || sum.Skipped != 2 {
		t.Errorf("stopped %v, counts %+v: want canceled, 2 skipped", sum.Stopped, sum.Counts)
	}
}

type records struct {
	recs []importer.Record
	i    int
}

func (r *records) Next() (importer.Record, error) {
	if r.i == len(r.recs) {
		return importer.Record{}, io.EOF
	}
	r.i++
	return r.recs[r.i-1], nil
}

type sink []importer.Record

func (s *sink) Write(r importer.Record) error { *s = append(*s, r); return nil }
