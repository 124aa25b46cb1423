package upload_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/upload"
)

// setup starts a simulator with one task and returns a client for it.
func setup(t *testing.T, faults ...sim.Fault) (*sim.Server, *api.Client, string) {
	t.Helper()
	srv := sim.New(sim.Config{AppKey: "k", Secret: "s", Seed: 1})
	if len(faults) > 0 {
		srv.SetFaults("import", faults...)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "s", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, srv.CreateTask("t", "2000")
}

func batch(n int) *chunker.Batch {
	b := &chunker.Batch{Seq: 1}
	for i := 0; i < n; i++ {
		num := fmt.Sprint(13800138000 + i)
		b.Records = append(b.Records, importer.Record{Row: i + 2, Name: "n", Number: num, Normalized: num, Status: importer.Valid})
	}
	return b
}

func newUploader(t *testing.T, c *api.Client, task string, rule api.Rule, retries int) *upload.Uploader {
	t.Helper()
	u, err := upload.New(c, upload.Config{TaskID: task, Rule: rule, MaxRetries: retries, InitialInterval: time.Millisecond, MaxInterval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSendOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		fault      sim.Fault
		rule       api.Rule
		retries    int
		status     importer.Status
		calls      int // import calls the server saw
		held       int // copies of the batch's numbers the task holds
		stopRun    bool
		reasonPart string
	}{
		{name: "no fault", rule: 2, retries: 3, status: importer.Imported, calls: 1, held: 5},
		{name: "503 is retried", fault: sim.Fault{Mode: sim.Fault503, EveryN: 1}, rule: 2, retries: 2, status: importer.Failed, calls: 3, reasonPart: "after 3 attempts"},
		{name: "429 is retried", fault: sim.Fault{Mode: sim.Fault429, EveryN: 1}, rule: 2, retries: 1, status: importer.Failed, calls: 2},
		{name: "process-then-500 under rule 1 is resent, server dedupes", fault: sim.Fault{Mode: sim.FaultProcessThen500, EveryN: 1}, rule: 1, retries: 2, status: importer.Unconfirmed, calls: 3, held: 5},
		{name: "process-then-500 under rule 2 is not resent", fault: sim.Fault{Mode: sim.FaultProcessThen500, EveryN: 1}, rule: 2, retries: 5, status: importer.Unconfirmed, calls: 1, held: 5, reasonPart: "not resent under rule 2"},
		{name: "dropped connection under rule 2 is not resent", fault: sim.Fault{Mode: sim.FaultProcessThenDrop, EveryN: 1}, rule: 2, retries: 5, status: importer.Unconfirmed, calls: 1, held: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var faults []sim.Fault
			if tt.fault.Mode != sim.FaultNone {
				faults = append(faults, tt.fault)
			}
			srv, c, task := setup(t, faults...)
			res := newUploader(t, c, task, tt.rule, tt.retries).Send(context.Background(), batch(5))
			if res.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", res.Status, res.Reason, tt.status)
			}
			if got := srv.Stats()["import"].Calls; tt.calls != 0 && got != tt.calls {
				t.Errorf("server saw %d import calls, want %d", got, tt.calls)
			}
			if got := len(srv.Numbers(task)); got != tt.held {
				t.Errorf("task holds %d numbers, want %d", got, tt.held)
			}
			if res.StopRun != tt.stopRun {
				t.Errorf("StopRun %v", res.StopRun)
			}
			if tt.reasonPart != "" && !contains(res.Reason, tt.reasonPart) {
				t.Errorf("reason %q lacks %q", res.Reason, tt.reasonPart)
			}
			if res.Status == importer.Imported && res.RequestID == "" {
				t.Error("imported batch has no request id")
			}
		})
	}
}

func TestSendAuthFailureStopsTheRun(t *testing.T) {
	srv := sim.New(sim.Config{AppKey: "k", Secret: "right", Seed: 1})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	task := srv.CreateTask("t")
	c, _ := api.New(api.Config{BaseURL: hs.URL, AppKey: "k", Secret: "wrong"})
	res := newUploader(t, c, task, 1, 5).Send(context.Background(), batch(3))
	if res.Status != importer.Failed || !res.StopRun || res.Attempts != 1 {
		t.Fatalf("got %+v", res)
	}
}

func TestSendHonoursRetryAfter(t *testing.T) {
	srv, c, task := setup(t, sim.Fault{Mode: sim.Fault503, EveryN: 2, RetryAfter: time.Second})
	// The first call passes, the second is refused with Retry-After: 1.
	u, err := upload.New(c, upload.Config{TaskID: task, Rule: api.RuleNone, MaxRetries: 3, InitialInterval: time.Millisecond, MaxInterval: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res := u.Send(context.Background(), batch(2)); res.Status != importer.Imported {
		t.Fatal(res.Reason)
	}
	if res := u.Send(context.Background(), batch(2)); res.Status != importer.Imported {
		t.Fatal(res.Reason)
	}
	times := srv.CallTimes("import")
	if len(times) != 3 {
		t.Fatalf("%d calls", len(times))
	}
	if gap := times[2].Sub(times[1]); gap < 900*time.Millisecond {
		t.Fatalf("resent %v after a Retry-After of 1s", gap)
	}
}

func TestSendCancelledBeforeSendingIsSkipped(t *testing.T) {
	_, c, task := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := newUploader(t, c, task, 2, 3).Send(ctx, batch(2))
	if res.Status != importer.Skipped {
		t.Fatalf("status %s: %s", res.Status, res.Reason)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestSendFailsAtOnceWhenRetryAfterIsLongerThanRetryMax(t *testing.T) {
	srv, c, task := setup(t, sim.Fault{Mode: sim.Fault429, EveryN: 1, RetryAfter: 24 * time.Hour})
	u := newUploader(t, c, task, api.RuleNone, 5) // --retry-max 5ms
	res := u.Send(context.Background(), batch(2))
	if res.Status != importer.Failed || res.Attempts != 1 || !strings.Contains(res.Reason, "wait 24h0m0s (Retry-After), longer than --retry-max 5ms") {
		t.Fatalf("got %+v", res)
	}
	if n := len(srv.CallTimes("import")); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

func TestADeadGatewayStopsTheRunAfterABoundedNumberOfCalls(t *testing.T) {
	srv, c, task := setup(t, sim.Fault{Mode: sim.FaultGateway502, EveryN: 1})
	u, err := upload.New(c, upload.Config{TaskID: task, Rule: api.RuleThisTask, MaxRetries: 5,
		InitialInterval: time.Millisecond, MaxInterval: 2 * time.Millisecond, GiveUpAfter: 4})
	if err != nil {
		t.Fatal(err)
	}
	var last pipeline.Outcome
	for i := 0; i < 10 && !last.StopRun; i++ {
		last = u.Send(context.Background(), batch(2))
	}
	var dead *upload.DeadServerError
	if !last.StopRun || !errors.As(last.Err, &dead) || !strings.Contains(last.Reason, "HTTP 502") {
		t.Fatalf("got %+v", last)
	}
	if n := len(srv.CallTimes("import")); n != 4 {
		t.Fatalf("%d calls before stopping, want 4", n)
	}
}

func TestAStoppedRunDoesNotWaitToRetry(t *testing.T) {
	_, c, task := setup(t, sim.Fault{Mode: sim.Fault503, EveryN: 1, RetryAfter: 20 * time.Second})
	u, err := upload.New(c, upload.Config{TaskID: task, Rule: api.RuleNone, MaxRetries: 3,
		InitialInterval: time.Millisecond, MaxInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// Run the batch through a pipeline whose context is cancelled while
	// the uploader waits out the 20 s Retry-After.
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	rd := &sliceReader{recs: batch(3).Records}
	res, err := pipeline.Run(ctx, rd, discard{}, pipeline.Options{BatchSize: 3, Sender: u, DrainTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 3 {
		t.Fatalf("counts %+v, want the batch skipped", res.Counts)
	}
	if waited := time.Since(start); waited > 15*time.Second {
		t.Fatalf("the stop waited %s: it should end the Retry-After wait at once", waited)
	}
}

type sliceReader struct{ recs []importer.Record }

func (s *sliceReader) Next() (importer.Record, error) {
	if len(s.recs) == 0 {
		return importer.Record{}, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	r.Status = importer.Valid
	return r, nil
}

type discard struct{}

func (discard) Write(importer.Record) error { return nil }
