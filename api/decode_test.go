package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func TestTaskDecodesCountsAsNumbersOrStrings(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		want    api.TaskList
		wantErr bool
	}{
		{"numbers, as in the example", `{"list":[{"taskId":"t","taskName":"n","numberTotal":12,"agentTotal":1}],"count":1}`,
			api.TaskList{List: []api.Task{{TaskID: "t", TaskName: "n", NumberTotal: 12, AgentTotal: 1}}, Count: 1}, false},
		{"strings, as in the table", `{"list":[{"taskId":"t","numberTotal":"12","agentTotal":"1","createTime":"2021-11-20 18:07:22"}],"count":"1"}`,
			api.TaskList{List: []api.Task{{TaskID: "t", NumberTotal: 12, AgentTotal: 1, CreateTime: "2021-11-20 18:07:22"}}, Count: 1}, false},
		{"empty and null", `{"list":[{"taskId":"t","numberTotal":"","agentTotal":null}],"count":1}`,
			api.TaskList{List: []api.Task{{TaskID: "t"}}, Count: 1}, false},
		{"float with no fraction", `{"list":[],"count":3.0}`, api.TaskList{List: []api.Task{}, Count: 3}, false},
		{"not a number", `{"list":[{"numberTotal":"many"}]}`, api.TaskList{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got api.TaskList
			err := json.Unmarshal([]byte(tt.json), &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want error %v", err, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tt.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("got %s, want %s", gotJSON, wantJSON)
			}
		})
	}
}

func TestRequestsSerializeAsTheDocumentShows(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"import sends rule 0 and empty agents", api.ImportRequest{TaskID: "t", ImportData: []api.ImportRow{{Number: "1"}}},
			`{"agentNumber":"","taskId":"t","importData":[{"name":"","number":"1","remark":"","agentNumber":""}],"rule":0}`},
		{"query sends name, not taskName", api.QueryTasksRequest{Name: "x"}, `{"name":"x","status":""}`},
		{"delete omits empty filters", api.DeleteNumbersRequest{TaskID: "t", Remark: "90"}, `{"taskId":"t","remark":"90"}`},
		{"update omits unchanged fields", api.UpdateTaskRequest{TaskID: "t", TaskName: "n"}, `{"taskId":"t","taskName":"n"}`},
		{"agent query omits defaults", api.QueryAgentsRequest{AgentNumber: "2000"}, `{"agentNumber":"2000"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.v)
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s %v, want %s", got, err, tt.want)
			}
		})
	}
}

func TestCreateSendsEmptyListsNotNull(t *testing.T) {
	var body []byte
	c, _ := api.New(api.Config{BaseURL: "http://example.invalid", AppKey: "k", Secret: "s",
		HTTPClient: &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			body, _ = readAll(r)
			return nil, errors.New("stop")
		})}})
	c.CreateTask(context.Background(), api.CreateTaskRequest{TaskName: "n"})
	if want := `{"taskName":"n","description":"","agentNumberList":[],"queueNumberList":[],"agentNumber":""}`; string(body) != want {
		t.Errorf("body %s, want %s", body, want)
	}
}

func TestUnknownPathIsPermanent(t *testing.T) {
	e := newEnv(t, sim.Config{}, nil)
	_, err := e.client.Post(context.Background(), "/openapi/v1/nothing", []byte(`{}`), nil)
	var ae *api.Error
	if !errors.As(err, &ae) || ae.HTTPStatus != 404 || api.Classify(err) != api.Permanent {
		t.Fatalf("unknown path: %v", err)
	}
	if e.sim.Stats()[sim.EndpointOther].Calls != 1 {
		t.Errorf("stats %+v", e.sim.Stats())
	}
}
