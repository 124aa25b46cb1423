package job

import (
	"context"
	"errors"
	"fmt"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/tasks"
)

// TaskRef names the task an import goes into: by id, or by exact name,
// optionally creating it (with Create's settings) when it does not exist.
type TaskRef struct {
	ID   string
	Name string
	// Create, when set, creates the task named Name if there is none.
	Create *api.CreateTaskRequest
}

// authHint is what to check when the server refuses the credentials.
const authHint = "check M7_APPKEY and M7_SECRET (the secret is never printed)"

// ResolveTask looks the task up (its numberTotal is current), or creates
// it; created tells which. Failures doom every file of a command line.
func ResolveTask(ctx context.Context, c *api.Client, ref TaskRef) (t api.Task, created bool, err error) {
	switch {
	case ref.ID != "":
		t, err = tasks.ByID(ctx, c, ref.ID)
	default:
		t, err = tasks.ByName(ctx, c, ref.Name)
		if errors.Is(err, tasks.ErrNotFound) && ref.Create != nil {
			req := *ref.Create
			req.TaskName = ref.Name
			t, err = tasks.Create(ctx, c, req, false)
			created = err == nil
		} else if errors.Is(err, tasks.ErrNotFound) {
			return t, false, stopAll(err, "add --create-task to create it, or m7import task list")
		}
	}
	if err != nil {
		if api.IsAuth(err) {
			return t, false, stopAll(err, authHint)
		}
		return t, false, stopAll(err, "")
	}
	return t, created, nil
}

// countNow reads a task's numberTotal.
func countNow(c *api.Client, taskID string) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		t, err := tasks.ByID(ctx, c, taskID)
		if err != nil {
			return 0, fmt.Errorf("read task %s: %w", taskID, err)
		}
		return t.NumberTotal, nil
	}
}
