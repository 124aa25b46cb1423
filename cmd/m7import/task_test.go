package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
)

func TestTaskCreateThenListFindsIt(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	ctx := context.Background()
	r := e.run(t, ctx, "task", "create", "--name", "十一月回访", "--agents", "2000,2001", "--queues", "10000123",
		"--creator", "2000", "--description", "VIP")
	if r.code != exitOK {
		t.Fatalf("create: exit %d: %s", r.code, r.stder)
	}
	id := strings.TrimSpace(r.stdout)
	ts := e.srv.Tasks()
	if len(ts) != 1 || ts[0].ID != id {
		t.Fatalf("create printed %q; server holds %+v", id, ts)
	}
	if got := ts[0]; got.Name != "十一月回访" || got.Description != "VIP" || got.Creator != "2000" ||
		strings.Join(got.Agents, ",") != "2000,2001" || strings.Join(got.Queues, ",") != "10000123" {
		t.Errorf("server task %+v", got)
	}
	if !strings.Contains(r.stder, id) {
		t.Errorf("stderr %q does not name the new id", r.stder)
	}

	for _, args := range [][]string{{"task", "list"}, {"task", "list", "--name", "十一月"}, {"task", "list", "--status", "ready"}} {
		r = e.run(t, ctx, args...)
		if r.code != exitOK || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "十一月回访") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stder)
		}
	}
	r = e.run(t, ctx, "task", "list", "--json")
	var list []api.Task
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || len(list) != 1 || list[0].TaskID != id || list[0].AgentTotal != 2 {
		t.Errorf("--json: %q (%v)", r.stdout, err)
	}

	r = e.run(t, ctx, "task", "create", "--name", "十一月回访2", "--json")
	var created api.Task
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.TaskName != "十一月回访2" || created.TaskID == "" {
		t.Errorf("create --json: %q (%v)", r.stdout, err)
	}
}

func TestTaskCreateRefusesDuplicateName(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	ctx := context.Background()
	existing := e.srv.CreateTask("回访")
	e.srv.CreateTask("回访 B") // a name the search also matches, but not equal
	r := e.run(t, ctx, "task", "create", "--name", "回访")
	if r.code != exitFailed || !strings.Contains(r.stder, "already exists") || !strings.Contains(r.stder, existing) ||
		!strings.Contains(r.stder, "--allow-duplicate-name") {
		t.Errorf("duplicate: exit %d, stderr %q", r.code, r.stder)
	}
	if n := len(e.srv.Tasks()); n != 2 {
		t.Fatalf("%d tasks after a refused create", n)
	}
	if got := e.srv.Stats()[sim.EndpointCreate].Calls; got != 0 {
		t.Errorf("%d create calls after a refusal, want none", got)
	}
	r = e.run(t, ctx, "task", "create", "--name", "回访", "--allow-duplicate-name")
	if r.code != exitOK || strings.TrimSpace(r.stdout) == existing || len(e.srv.Tasks()) != 3 {
		t.Errorf("--allow-duplicate-name: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stder)
	}
	r = e.run(t, ctx, "task", "create")
	if r.code != exitUsage {
		t.Errorf("create without --name: exit %d", r.code)
	}
}

func TestTaskUpdate(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	ctx := context.Background()
	id := e.srv.CreateTask("old")
	other := e.srv.CreateTask("taken")
	tests := []struct {
		name        string
		args        []string
		code        exitCode
		stderr      string
		wantName    string
		wantDescr   string
		updateCalls int // update calls so far, cumulative
	}{
		{"rename", []string{"--id", id, "--name", "新名字"}, exitOK, `"old" → "新名字"`, "新名字", "", 1},
		{"description", []string{"--id", id, "--description", "VIP only"}, exitOK, "description", "新名字", "VIP only", 2},
		{"both", []string{"--id", id, "--name", "n2", "--description", "d2"}, exitOK, "n2", "n2", "d2", 3},
		{"name taken", []string{"--id", id, "--name", "taken"}, exitFailed, other, "n2", "d2", 3},
		{"nothing to change", []string{"--id", id}, exitUsage, "nothing to change", "n2", "d2", 3},
		{"no id", []string{"--name", "x"}, exitUsage, "--id", "n2", "d2", 3},
		{"unknown id", []string{"--id", "no-such-task", "--name", "x"}, exitFailed, "no such task", "n2", "d2", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, ctx, append([]string{"task", "update"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stder, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want exit %d mentioning %q", r.code, r.stder, tt.code, tt.stderr)
			}
			got := e.srv.Tasks()[0]
			if got.Name != tt.wantName || got.Description != tt.wantDescr {
				t.Errorf("task is %q/%q, want %q/%q", got.Name, got.Description, tt.wantName, tt.wantDescr)
			}
			if n := e.srv.Stats()[sim.EndpointUpdate].Calls; n != tt.updateCalls {
				t.Errorf("%d update calls, want %d", n, tt.updateCalls)
			}
		})
	}
	r := e.run(t, ctx, "task", "update", "--id", id, "--name", "taken", "--allow-duplicate-name", "--json")
	var task api.Task
	if r.code != exitOK || json.Unmarshal([]byte(r.stdout), &task) != nil || task.TaskName != "taken" {
		t.Errorf("--allow-duplicate-name: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stder)
	}
}

func TestTaskListAlignsChineseNames(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	for _, name := range []string{"a", "十一月回访", "Mixed 名字 x", "tab\there"} {
		e.srv.CreateTask(name, "2000")
	}
	e.srv.SetTaskStatus(e.srv.Tasks()[1].ID, api.StatusPaused)
	r := e.run(t, context.Background(), "task", "list")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("want a header and 4 rows, got:\n%s", r.stdout)
	}
	// Every line's STATUS column (READY/PAUSED) starts at the same display
	// column, whatever the width of the names before it.
	col := -1
	for _, l := range lines {
		i := strings.Index(l, "STATUS")
		for _, s := range []string{api.StatusReady, api.StatusPaused} {
			if j := strings.Index(l, s); j >= 0 {
				i = j
			}
		}
		if i < 0 {
			t.Fatalf("no status in %q", l)
		}
		w := displayWidth(l[:i])
		if col >= 0 && w != col {
			t.Errorf("status at column %d, want %d:\n%s", w, col, r.stdout)
		}
		col = w
		if strings.HasSuffix(l, " ") || strings.Contains(l, "\t") {
			t.Errorf("line %q has a trailing space or a tab", l)
		}
	}
	if !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "NUMBERS") || !strings.Contains(lines[0], "CREATED") {
		t.Errorf("header %q", lines[0])
	}

	r = e.run(t, context.Background(), "task", "list", "--status", "Paused")
	if strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, "十一月回访") {
		t.Errorf("--status PAUSED:\n%s", r.stdout)
	}
	r = e.run(t, context.Background(), "task", "list", "--status", "DONE")
	if r.code != exitUsage {
		t.Errorf("--status DONE: exit %d", r.code)
	}
	r = e.run(t, context.Background(), "task", "list", "--name", "nothing like it")
	if r.code != exitOK || r.stdout != "" || !strings.Contains(r.stder, "no tasks") {
		t.Errorf("no match: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stder)
	}
}

func TestWriteTableOmitsStatusWhenNoneReturned(t *testing.T) {
	var b strings.Builder
	if err := writeTaskTable(&b, []api.Task{{TaskID: "1", TaskName: "回访", NumberTotal: 12, AgentTotal: 2, CreateTime: "2021-11-20 18:07:22"},
		{TaskID: "22", TaskName: "ab", NumberTotal: 3}}); err != nil {
		t.Fatal(err)
	}
	want := "ID  NAME  NUMBERS  AGENTS  CREATED\n" +
		"1   回访       12       2  2021-11-20 18:07:22\n" +
		"22  ab          3       0\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestEveryCommandHelpShowsAnExample(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	for _, args := range [][]string{
		{"task", "--help"}, {"task", "create", "--help"}, {"task", "update", "-h"}, {"task", "list", "--help"},
		{"numbers", "--help"}, {"numbers", "delete", "--help"}, {"rollback", "--help"},
	} {
		r := e.run(t, context.Background(), args...)
		if r.code != exitOK || !strings.Contains(r.stder, "Examples:\n  m7import "+args[0]) {
			t.Errorf("%v: exit %d, help:\n%s", args, r.code, r.stder)
		}
		if len(args) == 3 && !strings.Contains(r.stder, "Flags:") {
			t.Errorf("%v: help lists no flags:\n%s", args, r.stder)
		}
	}
	for _, args := range [][]string{{"task"}, {"task", "remove"}, {"numbers"}, {"numbers", "add"}, {"rollback"}} {
		if r := e.run(t, context.Background(), args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, r.code, exitUsage)
		}
	}
}
