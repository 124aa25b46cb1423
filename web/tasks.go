package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/tasks"
)

// taskItem is one task in GET /api/tasks.
type taskItem struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	NumberTotal int    `json:"number_total"`
	Status      string `json:"status,omitempty"`
	Description string `json:"description,omitempty"`
}

// createTaskRequest is the body of POST /api/tasks.
type createTaskRequest struct {
	Name        string   `json:"name"`
	Agents      []string `json:"agents"`
	Description string   `json:"description"`
}

// handleTasks lists the account's tasks whose name contains ?name=
// (case-insensitively), with their current number counts.
func (s *Server) handleTasks(w http.ResponseWriter, r *http.Request) {
	c, err := s.apiClient()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The vendor's query may match names exactly; ask for every task and
	// filter here, so that the search box finds parts of names.
	list, _, err := c.QueryTasks(r.Context(), api.QueryTasksRequest{})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	want := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("name")))
	out := []taskItem{}
	for _, t := range list.List {
		if want != "" && !strings.Contains(strings.ToLower(t.TaskName), want) {
			continue
		}
		out = append(out, taskItem{ID: t.TaskID, Name: t.TaskName, NumberTotal: t.NumberTotal, Status: t.Status, Description: t.Description})
	}
	writeJSON(w, http.StatusOK, out)
}

// handleCreateTask creates a task (refusing a name already in use) and
// answers its id.
func (s *Server) handleCreateTask(w http.ResponseWriter, r *http.Request) {
	var req createTaskRequest
	if err := readJSON(w, r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		s.writeError(w, r, badRequest("name", "the task needs a name"))
		return
	}
	agents := []string{}
	for _, a := range req.Agents {
		if a = strings.TrimSpace(a); a != "" {
			agents = append(agents, a)
		}
	}
	c, err := s.apiClient()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := tasks.Create(r.Context(), c, api.CreateTaskRequest{TaskName: req.Name, Description: req.Description,
		AgentNumberList: agents, QueueNumberList: []string{}}, false)
	if err != nil {
		if errors.Is(err, tasks.ErrExists) {
			err = fieldErr("name", err)
		}
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, taskItem{ID: t.TaskID, Name: t.TaskName, NumberTotal: t.NumberTotal})
}
