// Package tasks finds dial-out tasks by id or name. The vendor's create
// call returns no id and its query searches by name, so every command that
// names a task goes through here.
package tasks

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/m7import/m7import/api"
)

// Lister is the part of the API client this package needs.
type Lister interface {
	QueryTasks(ctx context.Context, req api.QueryTasksRequest) (api.TaskList, api.Meta, error)
}

// Creator can also create tasks.
type Creator interface {
	Lister
	CreateTask(ctx context.Context, req api.CreateTaskRequest) (api.Meta, error)
}

// Sentinel errors callers branch on.
var (
	ErrNotFound  = errors.New("no such task")
	ErrAmbiguous = errors.New("task name matches several tasks")
	ErrExists    = errors.New("a task with that name already exists")
)

// ByID returns the task with the given id.
func ByID(ctx context.Context, c Lister, id string) (api.Task, error) {
	list, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{})
	if err != nil {
		return api.Task{}, fmt.Errorf("look up task %s: %w", id, err)
	}
	for _, t := range list.List {
		if t.TaskID == id {
			return t, nil
		}
	}
	return api.Task{}, fmt.Errorf("task id %s: %w (m7import task list shows the tasks)", id, ErrNotFound)
}

// ByName returns the one task named exactly name. The query endpoint may
// match more loosely; candidates are listed in the error when the name is
// unknown or names several tasks.
func ByName(ctx context.Context, c Lister, name string) (api.Task, error) {
	list, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{Name: name})
	if err != nil {
		return api.Task{}, fmt.Errorf("look up task %q: %w", name, err)
	}
	var exact []api.Task
	for _, t := range list.List {
		if t.TaskName == name {
			exact = append(exact, t)
		}
	}
	switch len(exact) {
	case 1:
		return exact[0], nil
	case 0:
		if len(list.List) > 0 {
			return api.Task{}, fmt.Errorf("task %q: %w; similar: %s", name, ErrNotFound, describe(list.List))
		}
		return api.Task{}, fmt.Errorf("task %q: %w", name, ErrNotFound)
	default:
		return api.Task{}, fmt.Errorf("task %q: %w: %s; use --task-id", name, ErrAmbiguous, describe(exact))
	}
}

// Create creates a task and returns it as the query endpoint shows it
// (the create call itself returns no id). Unless allowDuplicate, a name
// already in use is refused before anything is created.
func Create(ctx context.Context, c Creator, req api.CreateTaskRequest, allowDuplicate bool) (api.Task, error) {
	before, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{Name: req.TaskName})
	if err != nil {
		return api.Task{}, fmt.Errorf("look up task %q: %w", req.TaskName, err)
	}
	known := map[string]bool{}
	for _, t := range before.List {
		if t.TaskName == req.TaskName {
			if !allowDuplicate {
				return api.Task{}, fmt.Errorf("task %q: %w (id %s)", req.TaskName, ErrExists, t.TaskID)
			}
			known[t.TaskID] = true
		}
	}
	if _, err := c.CreateTask(ctx, req); err != nil {
		return api.Task{}, fmt.Errorf("create task %q: %w", req.TaskName, err)
	}
	after, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{Name: req.TaskName})
	if err != nil {
		return api.Task{}, fmt.Errorf("find the new task %q: %w", req.TaskName, err)
	}
	var fresh []api.Task
	for _, t := range after.List {
		if t.TaskName == req.TaskName && !known[t.TaskID] {
			fresh = append(fresh, t)
		}
	}
	switch len(fresh) {
	case 1:
		return fresh[0], nil
	case 0:
		return api.Task{}, fmt.Errorf("created task %q but the query does not show it yet", req.TaskName)
	default:
		return api.Task{}, fmt.Errorf("created task %q: %w: %s", req.TaskName, ErrAmbiguous, describe(fresh))
	}
}

func describe(ts []api.Task) string {
	const most = 10
	var parts []string
	for i, t := range ts {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more", len(ts)-most))
			break
		}
		parts = append(parts, fmt.Sprintf("%q (id %s)", t.TaskName, t.TaskID))
	}
	return strings.Join(parts, ", ")
}
