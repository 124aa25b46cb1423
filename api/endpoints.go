package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxImportRows is the most rows one import call may carry (vendor document).
const MaxImportRows = 2000

// CreateTaskRequest is the body of the create endpoint.
type CreateTaskRequest struct {
	TaskName        string   `json:"taskName"`
	Description     string   `json:"description"`
	AgentNumberList []string `json:"agentNumberList"`
	QueueNumberList []string `json:"queueNumberList"`
	// AgentNumber is the creator's agent number.
	AgentNumber string `json:"agentNumber"`
}

// UpdateTaskRequest is the body of the update endpoint. Empty TaskName or
// Description are omitted and so left unchanged.
type UpdateTaskRequest struct {
	TaskID      string `json:"taskId"`
	TaskName    string `json:"taskName,omitempty"`
	Description string `json:"description,omitempty"`
}

// QueryTasksRequest is the body of the get endpoint. The name field is sent
// as "name" (NOTES.md); an empty Status means every status.
type QueryTasksRequest struct {
	Name   string `json:"name"`
	Status string `json:"status"`
}

// The task statuses of the get endpoint.
const (
	StatusReady    = "READY"
	StatusDealing  = "DEALING"
	StatusPaused   = "PAUSED"
	StatusArchived = "ARCHIVED"
)

// Task is one task as the get endpoint lists it.
type Task struct {
	TaskID      string `json:"taskId"`
	TaskName    string `json:"taskName"`
	Description string `json:"description"`
	// Status is returned by the simulator; the vendor's table omits it.
	Status     string `json:"status,omitempty"`
	CreateTime string `json:"createTime"`
	// NumberTotal and AgentTotal arrive as numbers or as strings (NOTES.md).
	NumberTotal int `json:"numberTotal"`
	AgentTotal  int `json:"agentTotal"`
}

// UnmarshalJSON decodes a task whose counts may be numbers or strings.
func (t *Task) UnmarshalJSON(b []byte) error {
	type plain Task
	var v struct {
		plain
		NumberTotal flexInt `json:"numberTotal"`
		AgentTotal  flexInt `json:"agentTotal"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = Task(v.plain)
	t.NumberTotal, t.AgentTotal = int(v.NumberTotal), int(v.AgentTotal)
	return nil
}

// TaskList is the data of the get endpoint.
type TaskList struct {
	List  []Task `json:"list"`
	Count int    `json:"count"`
}

// UnmarshalJSON decodes a list whose count may be a number or a string.
func (l *TaskList) UnmarshalJSON(b []byte) error {
	var v struct {
		List  []Task  `json:"list"`
		Count flexInt `json:"count"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	l.List, l.Count = v.List, int(v.Count)
	return nil
}

// Named returns the tasks whose name is exactly name. The get endpoint may
// match names loosely (the simulator matches substrings).
func (l TaskList) Named(name string) []Task {
	var out []Task
	for _, t := range l.List {
		if t.TaskName == name {
			out = append(out, t)
		}
	}
	return out
}

// flexInt decodes a JSON number, a string holding one, "" or null.
type flexInt int

// UnmarshalJSON accepts 12, "12", "" and null.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		*n = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = 0
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return fmt.Errorf("not an integer: %s", b)
		}
		v = int64(f)
	}
	*n = flexInt(v)
	return nil
}

// ImportRequest is the body of the import endpoint.
type ImportRequest struct {
	// AgentNumber is the operator's agent number.
	AgentNumber string      `json:"agentNumber"`
	TaskID      string      `json:"taskId"`
	ImportData  []ImportRow `json:"importData"`
	// Rule is always sent, even 0.
	Rule Rule `json:"rule"`
}

// ImportRow is one number to import. An empty AgentNumber lets the server
// spread the row over the task's agents.
type ImportRow struct {
	Name        string `json:"name"`
	Number      string `json:"number"`
	Remark      string `json:"remark"`
	AgentNumber string `json:"agentNumber"`
}

// MarshalImport checks req (a task id, 1 to MaxImportRows rows) and encodes
// it, so that a caller can marshal a batch once and Post it per attempt.
func MarshalImport(req ImportRequest) ([]byte, error) {
	switch {
	case req.TaskID == "":
		return nil, fmt.Errorf("7moor import: %w", ErrMissingTaskID)
	case len(req.ImportData) == 0:
		return nil, fmt.Errorf("7moor import: %w", ErrNoRows)
	case len(req.ImportData) > MaxImportRows:
		return nil, fmt.Errorf("7moor import: %w: %d rows, at most %d", ErrTooManyRows, len(req.ImportData), MaxImportRows)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("7moor import: encode request: %w", err)
	}
	return body, nil
}

// The call results a delete can filter on.
const (
	CallResultNotDeal = "NOT_DEAL" // not answered
	CallResultDealing = "DEALING"  // in a call
	CallResultUndeal  = "UNDEAL"   // not dialled yet
)

// DeleteNumbersRequest is the body of the delete endpoint. The filters are
// ANDed and omitted when empty; with none, the whole task is emptied.
type DeleteNumbersRequest struct {
	TaskID         string `json:"taskId"`
	CustomerName   string `json:"customerName,omitempty"`
	AgentNumber    string `json:"agentNumber,omitempty"`
	CustomerNumber string `json:"customerNumber,omitempty"`
	Remark         string `json:"remark,omitempty"`
	CallResult     string `json:"callResult,omitempty"`
}

// CreateTask creates a task. The response carries no task id: look it up
// with QueryTasks by name (NOTES.md).
func (c *Client) CreateTask(ctx context.Context, req CreateTaskRequest) (Meta, error) {
	if req.AgentNumberList == nil {
		req.AgentNumberList = []string{}
	}
	if req.QueueNumberList == nil {
		req.QueueNumberList = []string{}
	}
	return c.postJSON(ctx, PathCreateTask, req, nil)
}

// UpdateTask renames a task or changes its description.
func (c *Client) UpdateTask(ctx context.Context, req UpdateTaskRequest) (Meta, error) {
	if req.TaskID == "" {
		return Meta{}, fmt.Errorf("7moor update: %w", ErrMissingTaskID)
	}
	return c.postJSON(ctx, PathUpdateTask, req, nil)
}

// QueryTasks lists the tasks matching the name and status.
func (c *Client) QueryTasks(ctx context.Context, req QueryTasksRequest) (TaskList, Meta, error) {
	var list TaskList
	meta, err := c.postJSON(ctx, PathQueryTasks, req, &list)
	if err != nil {
		return TaskList{}, meta, err
	}
	return list, meta, nil
}

// Import adds up to MaxImportRows numbers to a task. It refuses more rows,
// no rows or no task id locally, without sending anything. The response says
// only whether the call was accepted, not which rows the server kept.
func (c *Client) Import(ctx context.Context, req ImportRequest) (Meta, error) {
	body, err := MarshalImport(req)
	if err != nil {
		return Meta{}, err
	}
	return c.Post(ctx, PathImport, body, nil)
}

// DeleteNumbers deletes the numbers of a task that match every filter given.
func (c *Client) DeleteNumbers(ctx context.Context, req DeleteNumbersRequest) (Meta, error) {
	if req.TaskID == "" {
		return Meta{}, fmt.Errorf("7moor delete: %w", ErrMissingTaskID)
	}
	return c.postJSON(ctx, PathDeleteNumbers, req, nil)
}

// The agent statuses of the agent query.
const (
	AgentEnabled  = "enable"
	AgentDisabled = "disable"
	AgentLocked   = "lock"
)

// MaxAgentLimit is the largest page of the agent query.
const MaxAgentLimit = 100

// QueryAgentsRequest is the body of the agent query (AGENT-QUERY.md). Empty
// filters are omitted; Page and Limit 0 take the server's defaults (1, 100).
type QueryAgentsRequest struct {
	AgentNumber string `json:"agentNumber,omitempty"`
	SipNumber   string `json:"sipNumber,omitempty"`
	Mobile      string `json:"mobile,omitempty"`
	CrmID       string `json:"crmId,omitempty"`
	Page        int    `json:"page,omitempty"`
	Limit       int    `json:"limit,omitempty"`
}

// Agent is one agent (座席) of the account.
type Agent struct {
	ID          string       `json:"_id"`
	AgentNumber string       `json:"agentNumber"`
	AgentName   string       `json:"agentName"`
	Status      string       `json:"status"`
	Roles       []string     `json:"roles,omitempty"`
	Email       string       `json:"email,omitempty"`
	CrmID       string       `json:"crmId,omitempty"`
	SipNumber   string       `json:"sipNumber,omitempty"`
	Mobile      string       `json:"mobile,omitempty"`
	Queue       []AgentQueue `json:"queue,omitempty"`
	RestTime    string       `json:"restTime,omitempty"`
	Numbers     []string     `json:"numbers,omitempty"`
}

// AgentQueue is a skill group an agent belongs to.
type AgentQueue struct {
	ID   string `json:"_id"`
	Name string `json:"name"`
}

// QueryAgents returns one page of the agents matching the filters.
func (c *Client) QueryAgents(ctx context.Context, req QueryAgentsRequest) ([]Agent, Meta, error) {
	var agents []Agent
	meta, err := c.postJSON(ctx, PathQueryAgents, req, &agents)
	if err != nil {
		return nil, meta, err
	}
	return agents, meta, nil
}

// maxAgentPages stops AllAgents from paging forever through a server that
// ignores the page number.
const maxAgentPages = 1000

// AllAgents returns every agent of the account, paging with the largest
// limit until a page comes back short (the query returns no total).
func (c *Client) AllAgents(ctx context.Context) ([]Agent, error) {
	var all []Agent
	var prevFirst string
	for page := 1; page <= maxAgentPages; page++ {
		agents, _, err := c.QueryAgents(ctx, QueryAgentsRequest{Page: page, Limit: MaxAgentLimit})
		if err != nil {
			return nil, fmt.Errorf("list agents, page %d: %w", page, err)
		}
		if len(agents) > 0 && page > 1 && agents[0].ID != "" && agents[0].ID == prevFirst {
			return nil, fmt.Errorf("list agents, page %d: %w", page, errPageIgnored)
		}
		all = append(all, agents...)
		if len(agents) < MaxAgentLimit {
			return all, nil
		}
		prevFirst = agents[0].ID
	}
	return nil, fmt.Errorf("list agents: more than %d pages", maxAgentPages)
}

var errPageIgnored = errors.New("the server returned the previous page again")
