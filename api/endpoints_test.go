package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func TestEveryEndpointThroughClient(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sim.Config{}, nil)
	c := e.client

	meta, err := c.CreateTask(ctx, api.CreateTaskRequest{TaskName: "春季回访", Description: "d", AgentNumberList: []string{"2000", "2001"}, AgentNumber: "2001"})
	if err != nil || meta.HTTPStatus != 200 || !requestIDPattern.MatchString(meta.RequestID) {
		t.Fatalf("CreateTask: %+v %v", meta, err)
	}
	if _, err := c.CreateTask(ctx, api.CreateTaskRequest{TaskName: "春季回访二期"}); err != nil {
		t.Fatalf("CreateTask 2: %v", err)
	}

	list, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{Name: "春季回访"})
	if err != nil {
		t.Fatalf("QueryTasks: %v", err)
	}
	if list.Count != 2 || len(list.List) != 2 {
		t.Fatalf("query by name found %+v, want both tasks (substring match)", list)
	}
	exact := list.Named("春季回访")
	if len(exact) != 1 || exact[0].AgentTotal != 2 || exact[0].Status != api.StatusReady || exact[0].CreateTime == "" {
		t.Fatalf("Named = %+v, want the one task with 2 agents, READY, a createTime", exact)
	}
	id := exact[0].TaskID

	if _, err := c.UpdateTask(ctx, api.UpdateTaskRequest{TaskID: id, TaskName: "夏季回访"}); err != nil {
		t.Fatalf("UpdateTask: %v", err)
	}
	if st := e.sim.Tasks()[0]; st.Name != "夏季回访" || st.Description != "d" {
		t.Errorf("after update: %+v, want renamed and description kept", st)
	}

	if _, err := c.Import(ctx, api.ImportRequest{AgentNumber: "2000", TaskID: id, Rule: api.RuleNone,
		ImportData: []api.ImportRow{{Name: "张三", Number: "13800138000", Remark: "vip", AgentNumber: "2001"}, {Name: "李四", Number: "13800138001"}}}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	got := e.sim.Numbers(id)
	want := []sim.Number{
		{Name: "张三", Number: "13800138000", Remark: "vip", AgentNumber: "2001", CallResult: api.CallResultUndeal},
		{Name: "李四", Number: "13800138001", AgentNumber: "2000", CallResult: api.CallResultUndeal},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("numbers %+v, want %+v (empty agent spread to the task's first agent)", got, want)
	}
	list, _, err = c.QueryTasks(ctx, api.QueryTasksRequest{Name: "夏季回访", Status: api.StatusReady})
	if err != nil || len(list.List) != 1 || list.List[0].NumberTotal != 2 {
		t.Fatalf("query after import: %+v %v, want numberTotal 2", list, err)
	}
	if list, _, _ := c.QueryTasks(ctx, api.QueryTasksRequest{Status: api.StatusPaused}); list.Count != 0 {
		t.Errorf("status PAUSED matched %+v", list)
	}
	e.sim.SetTaskStatus(id, api.StatusPaused)
	if list, _, _ := c.QueryTasks(ctx, api.QueryTasksRequest{Status: api.StatusPaused}); list.Count != 1 {
		t.Errorf("status PAUSED after SetTaskStatus matched %+v", list)
	}

	if _, err := c.DeleteNumbers(ctx, api.DeleteNumbersRequest{TaskID: id, CustomerNumber: "13800138000"}); err != nil {
		t.Fatalf("DeleteNumbers: %v", err)
	}
	if got := numbersOf(e.sim.Numbers(id)); !slices.Equal(got, []string{"13800138001"}) {
		t.Errorf("after delete: %v", got)
	}

	agents, _, err := c.QueryAgents(ctx, api.QueryAgentsRequest{AgentNumber: "2002"})
	if err != nil || len(agents) != 1 || agents[0].Status != api.AgentDisabled || agents[0].ID == "" {
		t.Fatalf("QueryAgents 2002: %+v %v", agents, err)
	}

	stats := e.sim.Stats()
	for _, ep := range []string{sim.EndpointCreate, sim.EndpointGet, sim.EndpointUpdate, sim.EndpointImport, sim.EndpointDelete, sim.EndpointAgent} {
		if stats[ep].Calls == 0 || stats[ep].Processed != stats[ep].Calls {
			t.Errorf("stats[%s] = %+v, want every call processed", ep, stats[ep])
		}
	}
}

func TestQueryAcceptsTaskNameFallback(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, nil)
	e.sim.CreateTask("alpha")
	e.sim.CreateTask("beta")
	// The curl example of the document sends taskName instead of name.
	r := rawPost(t, "POST", e.server.URL+api.PathQueryTasks, signedHeaders(clk.Now(), "101010"), []byte(`{"taskName":"beta","status":""}`))
	var data api.TaskList
	if err := json.Unmarshal(r.Data, &data); err != nil || data.Count != 1 || data.List[0].TaskName != "beta" {
		t.Fatalf("taskName fallback: %s %v", r.Data, err)
	}
}

func TestImportRulesAcrossTwoTasks(t *testing.T) {
	tests := []struct {
		name  string
		rule  api.Rule
		wantA []string // task A after importing into it
	}{
		// Task B already holds 111; task A already holds 222. The batch
		// repeats 333 within itself.
		{"rule 0 skips numbers in any task and repeats in the batch", api.RuleAllTasks, []string{"222", "333", "444"}},
		{"rule 1 skips numbers in this task and repeats in the batch", api.RuleThisTask, []string{"222", "111", "333", "444"}},
		{"rule 2 keeps every row", api.RuleNone, []string{"222", "111", "222", "333", "333", "444"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, sim.Config{}, nil)
			a, b := e.sim.CreateTask("A"), e.sim.CreateTask("B")
			mustImport(t, e.client, b, api.RuleNone, "111")
			mustImport(t, e.client, a, api.RuleNone, "222")
			if _, err := e.client.Import(ctx, api.ImportRequest{TaskID: a, Rule: tt.rule, ImportData: rows("111", "222", "333", "333", "444")}); err != nil {
				t.Fatalf("Import: %v", err)
			}
			if got := numbersOf(e.sim.Numbers(a)); !slices.Equal(got, tt.wantA) {
				t.Errorf("task A holds %v, want %v", got, tt.wantA)
			}
			if got := numbersOf(e.sim.Numbers(b)); !slices.Equal(got, []string{"111"}) {
				t.Errorf("task B holds %v, want [111]", got)
			}
			list, _, _ := e.client.QueryTasks(ctx, api.QueryTasksRequest{Name: "A"})
			if len(list.List) != 1 || list.List[0].NumberTotal != len(tt.wantA) {
				t.Errorf("numberTotal %+v, want %d", list, len(tt.wantA))
			}
		})
	}
}

func mustImport(t *testing.T, c *api.Client, taskID string, rule api.Rule, numbers ...string) {
	t.Helper()
	if _, err := c.Import(context.Background(), api.ImportRequest{TaskID: taskID, Rule: rule, ImportData: rows(numbers...)}); err != nil {
		t.Fatalf("import %v: %v", numbers, err)
	}
}

func TestRule0SeesDeletedNumbersAsGone(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sim.Config{}, nil)
	a, b := e.sim.CreateTask("A"), e.sim.CreateTask("B")
	mustImport(t, e.client, b, api.RuleNone, "111")
	if _, err := e.client.DeleteNumbers(ctx, api.DeleteNumbersRequest{TaskID: b}); err != nil {
		t.Fatal(err)
	}
	mustImport(t, e.client, a, api.RuleAllTasks, "111")
	if got := numbersOf(e.sim.Numbers(a)); !slices.Equal(got, []string{"111"}) {
		t.Errorf("task A holds %v, want [111]", got)
	}
}

func TestImportCapOf2000Rows(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, nil)
	id := e.sim.CreateTask("cap")
	make2 := func(n int) []api.ImportRow {
		out := make([]api.ImportRow, n)
		for i := range out {
			out[i] = api.ImportRow{Number: strconv.Itoa(13800000000 + i)}
		}
		return out
	}

	_, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, ImportData: make2(2001)})
	if !errors.Is(err, api.ErrTooManyRows) || api.Classify(err) != api.Permanent {
		t.Fatalf("client with 2001 rows: %v, want ErrTooManyRows, permanent", err)
	}
	if calls := e.sim.Stats()[sim.EndpointImport].Calls; calls != 0 {
		t.Fatalf("the refused import reached the server (%d calls)", calls)
	}

	body, _ := json.Marshal(api.ImportRequest{TaskID: id, ImportData: make2(2001)})
	r := rawPost(t, "POST", e.server.URL+api.PathImport, signedHeaders(clk.Now(), "202020"), body)
	if r.status != 400 || r.Code != api.CodeInvalid || len(e.sim.Numbers(id)) != 0 {
		t.Fatalf("sim with 2001 rows: %d %s %s, %d numbers held", r.status, r.Code, r.Message, len(e.sim.Numbers(id)))
	}

	if _, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: id, ImportData: make2(2000)}); err != nil {
		t.Fatalf("2000 rows: %v", err)
	}
	if n := len(e.sim.Numbers(id)); n != 2000 {
		t.Fatalf("task holds %d numbers, want 2000", n)
	}
}

func TestImportValidation(t *testing.T) {
	clk := newClock()
	e := newEnv(t, sim.Config{Now: clk.Now}, nil)
	id := e.sim.CreateTask("v")
	tests := []struct {
		name, body, message string
	}{
		{"missing number", `{"taskId":"` + id + `","importData":[{"name":"a","number":"1"},{"name":"b"}],"rule":2}`, "importData[1]: number is required"},
		{"missing rule", `{"taskId":"` + id + `","importData":[{"number":"1"}]}`, "rule is required"},
		{"rule 3", `{"taskId":"` + id + `","importData":[{"number":"1"}],"rule":3}`, "rule must be"},
		{"missing taskId", `{"importData":[{"number":"1"}],"rule":2}`, "taskId is required"},
		{"importData not rows", `{"taskId":"` + id + `","importData":5,"rule":2}`, "importData must be"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rawPost(t, "POST", e.server.URL+api.PathImport, signedHeaders(clk.Now(), strconv.Itoa(300000+i)), []byte(tt.body))
			if r.status != 400 || r.Code != api.CodeInvalid || r.Message == "" || !strings.Contains(r.Message, tt.message) {
				t.Errorf("got %d %s %q, want 400 mentioning %q", r.status, r.Code, r.Message, tt.message)
			}
		})
	}
	if n := len(e.sim.Numbers(id)); n != 0 {
		t.Errorf("refused imports left %d numbers", n)
	}
	// importData as a JSON string holding the array (the table types it string).
	r := rawPost(t, "POST", e.server.URL+api.PathImport, signedHeaders(clk.Now(), "399999"),
		[]byte(`{"taskId":"`+id+`","importData":"[{\"number\":\"13800138000\"}]","rule":2}`))
	if !r.Success || len(e.sim.Numbers(id)) != 1 {
		t.Errorf("importData as a string: %d %s", r.status, r.Message)
	}
}

func TestDeleteFiltersAreANDed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sim.Config{}, nil)
	id := e.sim.CreateTask("d", "2000", "2001")
	if _, err := e.client.Import(ctx, api.ImportRequest{TaskID: id, Rule: api.RuleNone, ImportData: []api.ImportRow{
		{Name: "张三", Number: "1", Remark: "90", AgentNumber: "2000"},
		{Name: "张三", Number: "2", Remark: "90", AgentNumber: "2001"},
		{Name: "李四", Number: "1", Remark: "80", AgentNumber: "2001"},
		{Name: "王五", Number: "3", Remark: "90", AgentNumber: "2000"},
	}}); err != nil {
		t.Fatal(err)
	}
	e.sim.SetCallResult(id, "3", api.CallResultNotDeal)
	tests := []struct {
		name   string
		filter api.DeleteNumbersRequest
		want   []string // names left, in order
	}{
		{"number", api.DeleteNumbersRequest{CustomerNumber: "1"}, []string{"张三", "王五"}},
		{"name", api.DeleteNumbersRequest{CustomerName: "张三"}, []string{"李四", "王五"}},
		{"agent", api.DeleteNumbersRequest{AgentNumber: "2001"}, []string{"张三", "王五"}},
		{"remark", api.DeleteNumbersRequest{Remark: "80"}, []string{"张三", "张三", "王五"}},
		{"call result", api.DeleteNumbersRequest{CallResult: api.CallResultNotDeal}, []string{"张三", "张三", "李四"}},
		{"number AND name", api.DeleteNumbersRequest{CustomerNumber: "1", CustomerName: "李四"}, []string{"张三", "张三", "王五"}},
		{"name AND agent AND remark", api.DeleteNumbersRequest{CustomerName: "张三", AgentNumber: "2001", Remark: "90"}, []string{"张三", "李四", "王五"}},
		{"no match", api.DeleteNumbersRequest{CustomerNumber: "1", Remark: "90", AgentNumber: "2001"}, []string{"张三", "张三", "李四", "王五"}},
		{"no filter empties the task", api.DeleteNumbersRequest{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sim.Config{}, nil)
			id := e.sim.CreateTask("d", "2000", "2001")
			mustImportRows(t, e.client, id, []api.ImportRow{
				{Name: "张三", Number: "1", Remark: "90", AgentNumber: "2000"},
				{Name: "张三", Number: "2", Remark: "90", AgentNumber: "2001"},
				{Name: "李四", Number: "1", Remark: "80", AgentNumber: "2001"},
				{Name: "王五", Number: "3", Remark: "90", AgentNumber: "2000"},
			})
			e.sim.SetCallResult(id, "3", api.CallResultNotDeal)
			f := tt.filter
			f.TaskID = id
			if _, err := e.client.DeleteNumbers(ctx, f); err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, n := range e.sim.Numbers(id) {
				names = append(names, n.Name)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("left %v, want %v", names, tt.want)
			}
		})
	}
	if _, err := e.client.DeleteNumbers(ctx, api.DeleteNumbersRequest{}); !errors.Is(err, api.ErrMissingTaskID) {
		t.Errorf("delete without task id: %v", err)
	}
	if _, err := e.client.DeleteNumbers(ctx, api.DeleteNumbersRequest{TaskID: id, CallResult: "BOGUS"}); api.Classify(err) != api.Permanent || err == nil {
		t.Errorf("delete with a bad callResult: %v", err)
	}
}

func mustImportRows(t *testing.T, c *api.Client, taskID string, r []api.ImportRow) {
	t.Helper()
	if _, err := c.Import(context.Background(), api.ImportRequest{TaskID: taskID, Rule: api.RuleNone, ImportData: r}); err != nil {
		t.Fatalf("import: %v", err)
	}
}

func TestAgentQuery(t *testing.T) {
	ctx := context.Background()
	many := make([]api.Agent, 250)
	for i := range many {
		many[i] = api.Agent{ID: fmt.Sprintf("id%03d", i), AgentNumber: strconv.Itoa(3000 + i), Status: api.AgentEnabled, Mobile: strconv.Itoa(i % 2)}
	}
	e := newEnv(t, sim.Config{Agents: many}, nil)

	all, err := e.client.AllAgents(ctx)
	if err != nil || len(all) != 250 || all[249].AgentNumber != "3249" {
		t.Fatalf("AllAgents: %d agents, %v", len(all), err)
	}
	if calls := e.sim.Stats()[sim.EndpointAgent].Calls; calls != 3 {
		t.Errorf("AllAgents made %d calls, want 3 pages", calls)
	}
	tests := []struct {
		name string
		req  api.QueryAgentsRequest
		want int
	}{
		{"default page", api.QueryAgentsRequest{}, 100},
		{"by number", api.QueryAgentsRequest{AgentNumber: "3007"}, 1},
		{"unknown number", api.QueryAgentsRequest{AgentNumber: "9"}, 0},
		{"by mobile", api.QueryAgentsRequest{Mobile: "1", Limit: 100, Page: 2}, 25},
		{"page beyond the end", api.QueryAgentsRequest{Page: 99, Limit: 10}, 0},
		{"limit 7", api.QueryAgentsRequest{Limit: 7}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := e.client.QueryAgents(ctx, tt.req)
			if err != nil || len(got) != tt.want {
				t.Errorf("got %d agents, %v; want %d", len(got), err, tt.want)
			}
		})
	}
	if _, _, err := e.client.QueryAgents(ctx, api.QueryAgentsRequest{Limit: 101}); api.Classify(err) != api.Permanent || err == nil {
		t.Errorf("limit 101: %v, want a permanent refusal", err)
	}
}

func TestSimSurvivesConcurrentImports(t *testing.T) {
	e := newEnv(t, sim.Config{}, nil)
	a, b := e.sim.CreateTask("A"), e.sim.CreateTask("B")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				task := a
				if i%2 == 1 {
					task = b
				}
				batch := make([]api.ImportRow, 50)
				for j := range batch {
					batch[j] = api.ImportRow{Number: strconv.Itoa(g*100000 + i*100 + j)}
				}
				if _, err := e.client.Import(context.Background(), api.ImportRequest{TaskID: task, Rule: api.RuleAllTasks, ImportData: batch}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := len(e.sim.Numbers(a)) + len(e.sim.Numbers(b)); n != 8*20*50 {
		t.Errorf("tasks hold %d numbers, want %d", n, 8*20*50)
	}
	if st := e.sim.Stats()[sim.EndpointImport]; st.Calls != 160 || st.Processed != 160 {
		t.Errorf("stats %+v", st)
	}
}

func TestStateEndpoint(t *testing.T) {
	e := newEnv(t, sim.Config{}, nil)
	id := e.sim.CreateTask("s")
	mustImport(t, e.client, id, api.RuleNone, "1", "1")
	resp, err := http.Get(e.server.URL + sim.StatePath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st sim.State
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if len(st.Tasks) != 1 || st.Tasks[0].ID != id || len(st.Tasks[0].NumberRows) != 2 || st.Stats[sim.EndpointImport].Processed != 1 {
		t.Errorf("state %+v", st)
	}
	if resp, err := http.Post(e.server.URL+sim.StatePath, "application/json", nil); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST state: %v %v, want 405", resp.StatusCode, err)
	}
}
