package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/m7import/m7import/api"
)

// Number is one number row a task holds.
type Number struct {
	Name   string `json:"name"`
	Number string `json:"number"`
	Remark string `json:"remark"`
	// AgentNumber is the agent the row is assigned to: the row's own when it
	// names an enabled agent, otherwise the next of the task's agents in turn
	// (vendor document: "spread evenly").
	AgentNumber string `json:"agentNumber"`
	// CallResult is api.CallResultUndeal until SetCallResult changes it.
	CallResult string `json:"callResult"`
}

// task is one task and its numbers. Deleted rows are tombstoned and the
// slice compacted when they dominate, so deletes by number stay cheap.
type task struct {
	id, name, description, status, creator, createTime string
	agents, queues                                     []string
	rows                                               []Number
	dead                                               []bool
	live                                               int
	index                                              map[string][]int // number -> positions of live rows
	spread                                             int              // round-robin position for unassigned rows
}

func (t *task) add(n Number) {
	t.index[n.Number] = append(t.index[n.Number], len(t.rows))
	t.rows = append(t.rows, n)
	t.dead = append(t.dead, false)
	t.live++
}

func (t *task) remove(pos int) {
	num := t.rows[pos].Number
	t.dead[pos] = true
	t.live--
	positions := t.index[num]
	for i, p := range positions {
		if p == pos {
			positions = append(positions[:i], positions[i+1:]...)
			break
		}
	}
	if len(positions) == 0 {
		delete(t.index, num)
	} else {
		t.index[num] = positions
	}
}

// compact drops tombstones once they are most of the rows.
func (t *task) compact() {
	deadCount := len(t.rows) - t.live
	if deadCount < 1024 || deadCount < t.live {
		return
	}
	rows := make([]Number, 0, t.live)
	for i, n := range t.rows {
		if !t.dead[i] {
			rows = append(rows, n)
		}
	}
	t.rows = rows
	t.dead = make([]bool, len(rows))
	t.index = make(map[string][]int, len(rows))
	for i, n := range rows {
		t.index[n.Number] = append(t.index[n.Number], i)
	}
}

func (t *task) liveRows() []Number {
	out := make([]Number, 0, t.live)
	for i, n := range t.rows {
		if !t.dead[i] {
			out = append(out, n)
		}
	}
	return out
}

// flexString decodes a JSON string or number (the document types some
// string fields as numbers) into a string.
type flexString string

// UnmarshalJSON accepts "90", 90 and null.
func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' && !strings.ContainsAny(string(b[1:len(b)-1]), `\"`) {
		*f = flexString(b[1 : len(b)-1])
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("want a string or a number, got %s", b)
	}
	*f = flexString(n.String())
	return nil
}

// handle decodes body and runs the endpoint under the lock.
func (s *Server) handle(endpoint string, body []byte) *reply {
	var rep *reply
	switch endpoint {
	case EndpointCreate:
		var req struct {
			TaskName        string   `json:"taskName"`
			Description     string   `json:"description"`
			AgentNumberList []string `json:"agentNumberList"`
			QueueNumberList []string `json:"queueNumberList"`
			AgentNumber     string   `json:"agentNumber"`
		}
		if rep = decode(body, &req); rep != nil {
			break
		}
		rep = s.apply(endpoint, func() *reply {
			return s.create(req.TaskName, req.Description, req.AgentNumber, req.AgentNumberList, req.QueueNumberList)
		})
	case EndpointUpdate:
		var req struct {
			TaskID      string  `json:"taskId"`
			TaskName    *string `json:"taskName"`
			Description *string `json:"description"`
		}
		if rep = decode(body, &req); rep != nil {
			break
		}
		rep = s.apply(endpoint, func() *reply { return s.update(req.TaskID, req.TaskName, req.Description) })
	case EndpointGet:
		var req struct {
			Name     *string `json:"name"`
			TaskName *string `json:"taskName"` // the curl example's name (NOTES.md)
			Status   string  `json:"status"`
		}
		if rep = decode(body, &req); rep != nil {
			break
		}
		name := req.Name
		if name == nil {
			name = req.TaskName
		}
		rep = s.apply(endpoint, func() *reply { return s.query(deref(name), req.Status) })
	case EndpointImport:
		var rows []importRow
		var rule *int
		var taskID string
		if rows, taskID, rule, rep = decodeImport(body); rep != nil {
			break
		}
		rep = s.apply(endpoint, func() *reply { return s.importRows(taskID, rows, rule) })
	case EndpointDelete:
		var req deleteFilter
		if rep = decode(body, &req); rep != nil {
			break
		}
		rep = s.apply(endpoint, func() *reply { return s.delete(req) })
	case EndpointAgent:
		var req struct {
			AgentNumber flexString `json:"agentNumber"`
			SipNumber   flexString `json:"sipNumber"`
			Mobile      flexString `json:"mobile"`
			CrmID       flexString `json:"crmId"`
			Page        *int       `json:"page"`
			Limit       *int       `json:"limit"`
		}
		if rep = decode(body, &req); rep != nil {
			break
		}
		rep = s.apply(endpoint, func() *reply {
			return s.queryAgents(string(req.AgentNumber), string(req.SipNumber), string(req.Mobile), string(req.CrmID), req.Page, req.Limit)
		})
	default:
		rep = refuse(http.StatusNotFound, api.CodeNotFound, "no such endpoint")
	}
	return rep
}

// apply runs op under the lock and, when it succeeded, counts the endpoint's
// request processed in the same critical section, so that Stats and the
// store never disagree.
func (s *Server) apply(endpoint string, op func() *reply) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := op()
	if rep.code == api.CodeOK {
		s.stat(endpoint).Processed++
	}
	return rep
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func decode(body []byte, v any) *reply {
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(http.StatusBadRequest, api.CodeInvalid, "malformed JSON body: %v", err)
	}
	return nil
}

type importRow struct {
	Name        string     `json:"name"`
	Number      flexString `json:"number"`
	Remark      string     `json:"remark"`
	AgentNumber string     `json:"agentNumber"`
}

// decodeImport reads an import body. importData is an array of rows or
// (the parameter table types it "string") a string holding that array; the
// common case is decoded in one pass.
func decodeImport(body []byte) (rows []importRow, taskID string, rule *int, rep *reply) {
	var req struct {
		AgentNumber string      `json:"agentNumber"`
		TaskID      string      `json:"taskId"`
		ImportData  []importRow `json:"importData"`
		Rule        *int        `json:"rule"`
	}
	err := json.Unmarshal(body, &req)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field == "importData" && typeErr.Value == "string" {
		var alt struct {
			TaskID     string `json:"taskId"`
			ImportData string `json:"importData"`
			Rule       *int   `json:"rule"`
		}
		if err = json.Unmarshal(body, &alt); err == nil {
			req.TaskID, req.Rule, req.ImportData = alt.TaskID, alt.Rule, nil
			err = json.Unmarshal([]byte(alt.ImportData), &req.ImportData)
		}
	}
	if errors.As(err, &typeErr) && strings.HasPrefix(typeErr.Field, "importData") {
		return nil, "", nil, refuse(http.StatusBadRequest, api.CodeInvalid,
			"importData must be an array of {name, number, remark, agentNumber}: %v", err)
	}
	if err != nil {
		return nil, "", nil, refuse(http.StatusBadRequest, api.CodeInvalid, "malformed JSON body: %v", err)
	}
	if req.ImportData == nil {
		return nil, "", nil, refuse(http.StatusBadRequest, api.CodeInvalid, "importData is required")
	}
	return req.ImportData, req.TaskID, req.Rule, nil
}

// create adds a task. The reply has no data: the document returns no id.
func (s *Server) create(name, description, creator string, agents, queues []string) *reply {
	if strings.TrimSpace(name) == "" {
		return refuse(http.StatusBadRequest, api.CodeInvalid, "taskName is required")
	}
	for _, a := range agents {
		if _, ok := s.agentStatus[a]; !ok {
			return refuse(http.StatusBadRequest, api.CodeInvalid, "agentNumberList: no agent %q in this account", a)
		}
	}
	s.addTask(name, description, creator, agents, queues)
	return ok(nil)
}

// addTask creates a task. Call with s.mu held.
func (s *Server) addTask(name, description, creator string, agents, queues []string) *task {
	t := &task{
		id:          s.uuid(),
		name:        name,
		description: description,
		status:      api.StatusReady,
		creator:     creator,
		createTime:  s.now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04:05"),
		agents:      append([]string{}, agents...),
		queues:      append([]string{}, queues...),
		index:       make(map[string][]int),
	}
	s.tasks = append(s.tasks, t)
	s.byID[t.id] = t
	return t
}

func (s *Server) uuid() string {
	h := s.requestID()
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func (s *Server) update(id string, name, description *string) *reply {
	if id == "" {
		return refuse(http.StatusBadRequest, api.CodeInvalid, "taskId is required")
	}
	t := s.byID[id]
	if t == nil {
		return refuse(http.StatusNotFound, api.CodeNotFound, "task %q not found", id)
	}
	if name != nil && strings.TrimSpace(*name) != "" {
		t.name = *name
	}
	if description != nil {
		t.description = *description
	}
	return ok(nil)
}

// taskJSON is a task as the get endpoint lists it.
type taskJSON struct {
	TaskID      string `json:"taskId"`
	TaskName    string `json:"taskName"`
	Description string `json:"description"`
	Status      string `json:"status"`
	NumberTotal int    `json:"numberTotal"`
	AgentTotal  int    `json:"agentTotal"`
	CreateTime  string `json:"createTime"`
}

// query lists the tasks whose name contains name (a CRM-style search; ""
// matches all) with the given status ("" = all).
func (s *Server) query(name, status string) *reply {
	list := []taskJSON{}
	for _, t := range s.tasks {
		if !strings.Contains(t.name, name) || (status != "" && t.status != status) {
			continue
		}
		list = append(list, taskJSON{t.id, t.name, t.description, t.status, t.live, len(t.agents), t.createTime})
	}
	return ok(struct {
		List  []taskJSON `json:"list"`
		Count int        `json:"count"`
	}{list, len(list)})
}

// importRows applies the dedupe rule row by row: 0 skips a number any task
// holds, 1 one this task holds, 2 none. Rows added earlier in the same
// request count as held. The whole call is refused, with nothing added,
// when any row lacks a number.
func (s *Server) importRows(taskID string, rows []importRow, rule *int) *reply {
	switch {
	case taskID == "":
		return refuse(http.StatusBadRequest, api.CodeInvalid, "taskId is required")
	case rule == nil:
		return refuse(http.StatusBadRequest, api.CodeInvalid, "rule is required (0 all tasks, 1 this task, 2 no dedupe)")
	case *rule < 0 || *rule > 2:
		return refuse(http.StatusBadRequest, api.CodeInvalid, "rule must be 0, 1 or 2, got %d", *rule)
	case len(rows) == 0:
		return refuse(http.StatusBadRequest, api.CodeInvalid, "importData is empty")
	case len(rows) > api.MaxImportRows:
		return refuse(http.StatusBadRequest, api.CodeInvalid, "importData has %d rows, at most %d per call", len(rows), api.MaxImportRows)
	}
	t := s.byID[taskID]
	if t == nil {
		return refuse(http.StatusNotFound, api.CodeNotFound, "task %q not found", taskID)
	}
	for i, r := range rows {
		if strings.TrimSpace(string(r.Number)) == "" {
			return refuse(http.StatusBadRequest, api.CodeInvalid, "importData[%d]: number is required", i)
		}
	}
	for _, r := range rows {
		num := strings.TrimSpace(string(r.Number))
		switch api.Rule(*rule) {
		case api.RuleAllTasks:
			if s.global[num] > 0 {
				continue
			}
		case api.RuleThisTask:
			if len(t.index[num]) > 0 {
				continue
			}
		}
		agent := r.AgentNumber
		if s.agentStatus[agent] != api.AgentEnabled && len(t.agents) > 0 {
			agent = t.agents[t.spread%len(t.agents)]
			t.spread++
		}
		t.add(Number{Name: r.Name, Number: num, Remark: r.Remark, AgentNumber: agent, CallResult: api.CallResultUndeal})
		s.global[num]++
	}
	return ok(nil)
}

type deleteFilter struct {
	TaskID         string     `json:"taskId"`
	CustomerName   flexString `json:"customerName"`
	AgentNumber    flexString `json:"agentNumber"`
	CustomerNumber flexString `json:"customerNumber"`
	Remark         flexString `json:"remark"`
	CallResult     flexString `json:"callResult"`
}

func (f deleteFilter) match(n Number) bool {
	return (f.CustomerName == "" || n.Name == string(f.CustomerName)) &&
		(f.AgentNumber == "" || n.AgentNumber == string(f.AgentNumber)) &&
		(f.CustomerNumber == "" || n.Number == string(f.CustomerNumber)) &&
		(f.Remark == "" || n.Remark == string(f.Remark)) &&
		(f.CallResult == "" || n.CallResult == string(f.CallResult))
}

// delete removes the task's rows matching every filter given; with none,
// every row.
func (s *Server) delete(f deleteFilter) *reply {
	if f.TaskID == "" {
		return refuse(http.StatusBadRequest, api.CodeInvalid, "taskId is required")
	}
	switch f.CallResult {
	case "", api.CallResultNotDeal, api.CallResultDealing, api.CallResultUndeal:
	default:
		return refuse(http.StatusBadRequest, api.CodeInvalid, "callResult must be NOT_DEAL, DEALING or UNDEAL, got %q", f.CallResult)
	}
	t := s.byID[f.TaskID]
	if t == nil {
		return refuse(http.StatusNotFound, api.CodeNotFound, "task %q not found", f.TaskID)
	}
	var candidates []int
	if f.CustomerNumber != "" {
		candidates = append(candidates, t.index[string(f.CustomerNumber)]...)
	} else {
		for i := range t.rows {
			if !t.dead[i] {
				candidates = append(candidates, i)
			}
		}
	}
	for _, pos := range candidates {
		n := t.rows[pos]
		if !f.match(n) {
			continue
		}
		t.remove(pos)
		if s.global[n.Number]--; s.global[n.Number] <= 0 {
			delete(s.global, n.Number)
		}
	}
	t.compact()
	return ok(nil)
}

// queryAgents pages through the agents matching every filter given.
func (s *Server) queryAgents(number, sip, mobile, crmID string, page, limit *int) *reply {
	p, l := 1, api.MaxAgentLimit
	if page != nil {
		p = *page
	}
	if limit != nil {
		l = *limit
	}
	if p < 1 {
		return refuse(http.StatusBadRequest, api.CodeInvalid, "page must be at least 1, got %d", p)
	}
	if l < 1 || l > api.MaxAgentLimit {
		return refuse(http.StatusBadRequest, api.CodeInvalid, "limit must be 1 to %d, got %d", api.MaxAgentLimit, l)
	}
	var match []api.Agent
	for _, a := range s.agents {
		if (number == "" || a.AgentNumber == number) && (sip == "" || a.SipNumber == sip) &&
			(mobile == "" || a.Mobile == mobile) && (crmID == "" || a.CrmID == crmID) {
			match = append(match, a)
		}
	}
	out := []api.Agent{}
	if p-1 < (len(match)+l-1)/l {
		start := (p - 1) * l
		out = append(out, match[start:min(start+l, len(match))]...)
	}
	return ok(out)
}
