package sim

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"
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

// EndpointStats counts the requests one endpoint received.
type EndpointStats struct {
	// Calls counts every request to the endpoint's path.
	Calls int `json:"calls"`
	// Processed counts the requests the endpoint carried out, including
	// those answered with an injected 500 or dropped afterwards.
	Processed int `json:"processed"`
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
		out[name] = EndpointStats{Calls: st.Calls, Processed: st.Processed,
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
