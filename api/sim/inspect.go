package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/m7import/m7import/api"
)

// TaskState is a task as the server holds it, for tests.
type TaskState struct {
	ID          string   `json:"taskId"`
	Name        string   `json:"taskName"`
	Description string   `json:"description"`
	Status      string   `json:"status"`
	Creator     string   `json:"creator"`
	Agents      []string `json:"agents"`
	Queues      []string `json:"queues"`
	CreateTime  string   `json:"createTime"`
	// Numbers is how many number rows the task holds (its numberTotal).
	Numbers int `json:"numberTotal"`
}

// EndpointStats counts the requests one endpoint received. Calls against
// Processed tells how many requests arrived and how many changed (or read)
// the store; Pending how many of them a FaultProcessLate still holds.
type EndpointStats struct {
	// Calls counts every request to the endpoint's path, as it arrives.
	Calls int `json:"calls"`
	// Processed counts the requests the endpoint carried out, including
	// those answered with an injected 500, ERR_BUSY, or dropped afterwards,
	// and those a FaultProcessLate applied after the client left. It is
	// counted in the same step as the change to the store.
	Processed int `json:"processed"`
	// Pending counts the requests FaultProcessLate holds now: received,
	// not yet processed (the task's numberTotal does not show them yet).
	Pending int `json:"pending"`
	// Refused counts the requests refused, by envelope code (auth, replay,
	// validation, rate limit), not counting injected faults.
	Refused map[string]int `json:"refused"`
	// Faults counts the injected faults, by FaultMode name.
	Faults map[string]int `json:"faults"`
}

// Stats is the per-endpoint request counters, keyed by endpoint name
// (EndpointImport, ..., EndpointOther).
type Stats map[string]EndpointStats

// Tasks returns every task in creation order.
func (s *Server) Tasks() []TaskState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TaskState, 0, len(s.tasks))
	for _, t := range s.tasks {
		out = append(out, t.state())
	}
	return out
}

func (t *task) state() TaskState {
	return TaskState{
		ID: t.id, Name: t.name, Description: t.description, Status: t.status, Creator: t.creator,
		Agents: slices.Clone(t.agents), Queues: slices.Clone(t.queues), CreateTime: t.createTime, Numbers: t.live,
	}
}

// Numbers returns every number row the task holds, in insertion order (a
// number imported twice under rule 2 appears twice); nil for an unknown task.
func (s *Server) Numbers(taskID string) []Number {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.byID[taskID]
	if t == nil {
		return nil
	}
	return t.liveRows()
}

// Stats returns a copy of the request counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(Stats, len(s.stats))
	for name, st := range s.stats {
		out[name] = EndpointStats{Calls: st.Calls, Processed: st.Processed, Pending: st.Pending,
			Refused: maps.Clone(st.Refused), Faults: maps.Clone(st.Faults)}
	}
	return out
}

// CallTimes returns the server-clock arrival time of every request to
// endpoint (EndpointAll: every endpoint, sorted), so a test can prove a
// client's rate limit.
func (s *Server) CallTimes(endpoint string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if endpoint != EndpointAll {
		return slices.Clone(s.calls[endpoint])
	}
	var all []time.Time
	for _, ts := range s.calls {
		all = append(all, ts...)
	}
	slices.SortFunc(all, func(a, b time.Time) int { return a.Compare(b) })
	return all
}

// CreateTask adds a task directly, without a request, and returns its id: a
// shortcut for test setup. The agents are not checked.
func (s *Server) CreateTask(name string, agents ...string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addTask(name, "", "", agents, nil).id
}

// AddNumbers adds n fresh numbers to the task directly, as another writer
// (a second import, the vendor console) would while a test's import runs, so
// that settlement by numberTotal can be tested against a task that grew by
// more than the import sent. The numbers are distinct from each other and
// from those of earlier calls (19900000000, 19900000001, ...), assigned to the
// task's agents in turn, and not counted in Stats. It fails for an unknown
// task or a negative n.
func (s *Server) AddNumbers(taskID string, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.byID[taskID]
	if t == nil {
		return fmt.Errorf("sim: AddNumbers: no task %q", taskID)
	}
	if n < 0 {
		return fmt.Errorf("sim: AddNumbers: negative count %d", n)
	}
	for range n {
		num := strconv.FormatInt(19900000000+int64(s.added), 10)
		s.added++
		agent := ""
		if len(t.agents) > 0 {
			agent = t.agents[t.spread%len(t.agents)]
			t.spread++
		}
		t.add(Number{Number: num, AgentNumber: agent, CallResult: api.CallResultUndeal})
		s.global[num]++
	}
	return nil
}

// WaitIdle waits until no request is held by FaultProcessLate, so that a
// test can read the store once every late batch has landed. A request that
// has not yet reached fault injection is not waited for: check Stats (its
// Faults or Calls) first when that matters. It returns ctx's error if ctx
// ends first.
func (s *Server) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.pending == 0 {
			s.mu.Unlock()
			return nil
		}
		idle := s.idle
		s.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("sim: wait for late requests: %w", ctx.Err())
		}
	}
}

// SetCallResult sets the call result of every row of the task holding
// number, so that a delete by call result can be tested.
func (s *Server) SetCallResult(taskID, number, result string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.byID[taskID]; t != nil {
		for _, pos := range t.index[number] {
			t.rows[pos].CallResult = result
		}
	}
}

// SetTaskStatus sets a task's status (READY, DEALING, PAUSED, ARCHIVED),
// which no endpoint changes.
func (s *Server) SetTaskStatus(taskID, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.byID[taskID]; t != nil {
		t.status = status
	}
}

// State is the document GET StatePath returns.
type State struct {
	Tasks []TaskWithNumbers `json:"tasks"`
	Stats Stats             `json:"stats"`
}

// TaskWithNumbers is a task and its rows, as StatePath lists them.
type TaskWithNumbers struct {
	TaskState
	NumberRows []Number `json:"numbers"`
}

// Snapshot returns the whole state: every task with its rows, and the stats.
func (s *Server) Snapshot() State {
	s.mu.Lock()
	st := State{Tasks: make([]TaskWithNumbers, 0, len(s.tasks))}
	for _, t := range s.tasks {
		st.Tasks = append(st.Tasks, TaskWithNumbers{TaskState: t.state(), NumberRows: t.liveRows()})
	}
	s.mu.Unlock()
	st.Stats = s.Stats()
	return st
}

// serveState answers GET StatePath with Snapshot as JSON. It needs no
// signature and changes nothing.
func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only: use GET", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.Snapshot())
}
