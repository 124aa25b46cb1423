package api_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after 10s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// numberTotal reads the task's count through the API, as a client settling
// a batch would.
func numberTotal(t *testing.T, c *api.Client, name string) int {
	t.Helper()
	list, _, err := c.QueryTasks(context.Background(), api.QueryTasksRequest{Name: name})
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	if len(list.List) != 1 {
		t.Fatalf("query %s: %d tasks", name, len(list.List))
	}
	return int(list.List[0].NumberTotal)
}

// TestProcessLateLandsAfterTheClientGaveUp is the slow server of issue 17:
// the reply times out, the count read at once shows nothing, and the batch
// lands afterwards.
func TestProcessLateLandsAfterTheClientGaveUp(t *testing.T) {
	e := newEnv(t, sim.Config{}, func(c *api.Config) { c.Timeout = 100 * time.Millisecond })
	id := e.sim.CreateTask("late")
	e.sim.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultProcessLate, Latency: time.Second})

	_, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows("1", "2")})
	var ae *api.Error
	if !errors.As(err, &ae) || !ae.Sent || ae.HTTPStatus != 0 || api.Classify(err) != api.Ambiguous {
		t.Fatalf("timed-out import: %v; want sent, no reply, ambiguous", err)
	}
	waitFor(t, "the late import to be held", func() bool { return e.sim.Stats()[sim.EndpointImport].Pending == 1 })

	// During the delay the count is the old one.
	if n := numberTotal(t, e.client, "late"); n != 0 {
		t.Errorf("numberTotal during the delay = %d, want 0", n)
	}
	if st := e.sim.Stats()[sim.EndpointImport]; st.Processed != 0 || st.Pending != 1 {
		t.Fatalf("the batch landed before the count was checked (stats %+v): the test machine is too slow for a 1s delay", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	if n := numberTotal(t, e.client, "late"); n != 2 {
		t.Errorf("numberTotal after the delay = %d, want 2", n)
	}
	st := e.sim.Stats()[sim.EndpointImport]
	if st.Calls != 1 || st.Processed != 1 || st.Pending != 0 || st.Faults["process-late"] != 1 {
		t.Errorf("stats %+v, want 1 call, processed late, none pending", st)
	}
}

func TestProcessLateWithinTheTimeoutAnswers(t *testing.T) {
	e := newEnv(t, sim.Config{}, nil)
	id := e.sim.CreateTask("late")
	e.sim.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultProcessLate, Latency: 20 * time.Millisecond})
	if _, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows("1")}); err != nil {
		t.Fatalf("import within the timeout: %v", err)
	}
	if n := len(e.sim.Numbers(id)); n != 1 {
		t.Errorf("task holds %d numbers, want 1", n)
	}
}

// TestLatencyModeDoesNotProcessForAClientThatLeft keeps the older mode's
// meaning: a client gone during the delay leaves nothing behind.
func TestLatencyModeDoesNotProcessForAClientThatLeft(t *testing.T) {
	e := newEnv(t, sim.Config{}, func(c *api.Config) { c.Timeout = 50 * time.Millisecond })
	id := e.sim.CreateTask("slow")
	e.sim.SetFaults(sim.EndpointImport, sim.Fault{Mode: sim.FaultLatency, Latency: 300 * time.Millisecond})
	if _, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows("1")}); api.Classify(err) != api.Ambiguous {
		t.Fatalf("timed-out import: %v, want ambiguous", err)
	}
	// Close waits for every handler to return: the delayed one included.
	e.server.Close()
	if st := e.sim.Stats()[sim.EndpointImport]; st.Processed != 0 || len(e.sim.Numbers(id)) != 0 {
		t.Errorf("stats %+v, %d numbers: want nothing processed", st, len(e.sim.Numbers(id)))
	}
}

// TestProcessLateUnderConcurrency: many clients, some of them late, one
// other writer: the store and the counters agree at the end (run with -race).
func TestProcessLateUnderConcurrency(t *testing.T) {
	e := newEnv(t, sim.Config{Seed: 3}, func(c *api.Config) { c.Timeout = 30 * time.Millisecond })
	id := e.sim.CreateTask("busy")
	e.sim.SetFaults(sim.EndpointImport,
		sim.Fault{Mode: sim.FaultProcessLate, Latency: 60 * time.Millisecond, EveryN: 3},
		sim.Fault{Mode: sim.FaultProcessBusy, EveryN: 5},
		sim.Fault{Mode: sim.FaultDropBefore, EveryN: 7})
	const clients, batches = 4, 10
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				n := string(rune('a'+c)) + string(rune('a'+b))
				e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows(n+"1", n+"2")})
				if b == 5 && c == 0 {
					if err := e.sim.AddNumbers(id, 3); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, "every import call to reach the server", func() bool {
		st := e.sim.Stats()[sim.EndpointImport]
		return st.Calls == clients*batches
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A call counted may not have reached fault injection yet: wait until
	// every call is accounted for as processed or dropped.
	waitFor(t, "every call processed or dropped", func() bool {
		st := e.sim.Stats()[sim.EndpointImport]
		return st.Processed+st.Faults["drop-before"] == clients*batches
	})
	if err := e.sim.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	st := e.sim.Stats()[sim.EndpointImport]
	if got, want := len(e.sim.Numbers(id)), 2*st.Processed+3; got != want {
		t.Errorf("task holds %d numbers, want 2 per processed call (%d) + 3 added", got, st.Processed)
	}
	if n := numberTotal(t, e.client, "busy"); n != 2*st.Processed+3 {
		t.Errorf("numberTotal %d, want %d", n, 2*st.Processed+3)
	}
	if st.Pending != 0 || st.Faults["drop-before"] == 0 || st.Faults["process-late"] == 0 || st.Faults["process-busy"] == 0 {
		t.Errorf("stats %+v: want each fault to have fired and nothing pending", st)
	}
}

// TestNewFaultModesFireDeterministically: every=N picks the same calls each
// run, and a seeded rate the same calls for the same seed, for each new mode.
func TestNewFaultModesFireDeterministically(t *testing.T) {
	modes := []sim.FaultMode{sim.FaultDropBefore, sim.FaultGateway502, sim.FaultProcessBusy}
	run := func(t *testing.T, seed int64, f sim.Fault) []api.Class {
		e := newEnv(t, sim.Config{Seed: seed}, nil)
		id := e.sim.CreateTask("d")
		e.sim.SetFaults(sim.EndpointImport, f)
		var classes []api.Class
		for i := range 12 {
			_, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: rows(strconv.Itoa(i))})
			c := api.Class(-1) // success
			if err != nil {
				c = api.Classify(err)
			}
			classes = append(classes, c)
		}
		return classes
	}
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			every := run(t, 1, sim.Fault{Mode: m, EveryN: 3})
			for i, c := range every {
				want := api.Class(-1)
				if (i+1)%3 == 0 {
					want = api.Ambiguous
				}
				if c != want {
					t.Errorf("every=3, call %d: class %v, want %v", i+1, c, want)
				}
			}
			a, b := run(t, 9, sim.Fault{Mode: m, Rate: 0.5}), run(t, 9, sim.Fault{Mode: m, Rate: 0.5})
			fired := 0
			for i := range a {
				if a[i] != b[i] {
					t.Errorf("rate=0.5, same seed, call %d: %v then %v", i+1, a[i], b[i])
				}
				if a[i] == api.Ambiguous {
					fired++
				}
			}
			if fired == 0 || fired == len(a) {
				t.Errorf("rate=0.5 fired on %d of %d calls", fired, len(a))
			}
		})
	}
}
