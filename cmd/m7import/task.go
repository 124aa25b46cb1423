package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/m7import/m7import/job"

	"github.com/mattn/go-runewidth"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/tasks"
)

const taskUsage = `
Usage: m7import task create --name NAME [--description D] [--agents 2000,2001] [--queues Q1,Q2] [--creator AGENT]
       m7import task update --id ID [--name NAME] [--description D]
       m7import task list [--name TEXT] [--status READY|DEALING|PAUSED|ARCHIVED] [--json]

Creates, renames and lists preview dial-out tasks. Run "m7import task
SUBCOMMAND --help" for each subcommand's flags.

Examples:
  m7import task create --name 十一月回访 --agents 2000,2001
  m7import task update --id 6ab971b0-6005-452e-9328-0883299619eb --name 十二月回访
  m7import task list --status READY
`

const taskCreateUsage = `
Usage: m7import task create --name NAME [--description D] [--agents 2000,2001] [--queues Q1,Q2] [--creator AGENT] [flags]

Creates a task, finds its id by name (the create call returns none) and
prints the id on stdout (with --json, the whole task). A name that already
exists is refused unless --allow-duplicate-name.

Examples:
  m7import task create --name 十一月回访 --agents 2000,2001 --creator 2000
  ID=$(m7import task create --name "Nov follow-up" --queues 10000123)
`

const taskUpdateUsage = `
Usage: m7import task update --id ID [--name NAME] [--description D] [flags]

Renames a task or changes its description. A new name that another task
already has is refused unless --allow-duplicate-name. (The API leaves an
empty value unchanged, so a description cannot be cleared.)

Examples:
  m7import task update --id 6ab971b0-6005-452e-9328-0883299619eb --name 十二月回访
  m7import task update --id 6ab971b0-6005-452e-9328-0883299619eb --description "VIP only"
`

const taskListUsage = `
Usage: m7import task list [--name TEXT] [--status READY|DEALING|PAUSED|ARCHIVED] [--json]

Lists tasks as a table (id, name, status when the API returns one, numbers,
agents, created), or as a JSON array with --json. --name is passed to the
API's search, which may match part of a name.

Examples:
  m7import task list
  m7import task list --name 回访 --status DEALING
  m7import task list --json | jq -r '.[].taskId'
`

// runTaskCmd dispatches "task create|update|list".
func runTaskCmd(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		fmt.Fprint(unstamped(io.Err), strings.TrimLeft(taskUsage, "\n"))
		return usagef("task: missing subcommand (create, update or list)")
	}
	switch sub, rest := args[0], args[1:]; sub {
	case "create":
		o, err := parseTaskCreateFlags(rest, io)
		if err != nil {
			return err
		}
		return runTaskCreate(ctx, o, io)
	case "update":
		o, err := parseTaskUpdateFlags(rest, io)
		if err != nil {
			return err
		}
		return runTaskUpdate(ctx, o, io)
	case "list":
		o, err := parseTaskListFlags(rest, io)
		if err != nil {
			return err
		}
		return runTaskList(ctx, o, io)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(unstamped(io.Err), strings.TrimLeft(taskUsage, "\n"))
		return flag.ErrHelp
	default:
		return usagef("task: unknown subcommand %q (want create, update or list)", sub)
	}
}

// taskCreateOptions are the settings of "task create".
type taskCreateOptions struct {
	api            apiFlags
	name, descr    string
	agents, queues listFlag
	creator        string
	allowDuplicate bool
	jsonOut        bool
}

func parseTaskCreateFlags(args []string, io stdio) (*taskCreateOptions, error) {
	o := &taskCreateOptions{}
	fs := newFlagSet("task create", taskCreateUsage, io.Err)
	o.api.register(fs)
	fs.StringVar(&o.name, "name", "", "name of the new task (required)")
	fs.StringVar(&o.descr, "description", "", "description (remark) of the task")
	fs.Var(&o.agents, "agents", "agent numbers of the task, comma-separated")
	fs.Var(&o.queues, "queues", "skill-group numbers of the task, comma-separated")
	fs.StringVar(&o.creator, "creator", "", "agent number of the task's creator")
	fs.BoolVar(&o.allowDuplicate, "allow-duplicate-name", false, "create the task even if another task has the same name")
	fs.BoolVar(&o.jsonOut, "json", false, "print the new task as JSON instead of its id")
	if err := noPositional(fs, args); err != nil {
		return nil, err
	}
	if strings.TrimSpace(o.name) == "" {
		return nil, usagef("task create: --name is required")
	}
	return o, nil
}

func runTaskCreate(ctx context.Context, o *taskCreateOptions, io stdio) error {
	c, err := o.api.client(io, nil)
	if err != nil {
		return err
	}
	t, err := tasks.Create(ctx, c, api.CreateTaskRequest{
		TaskName: o.name, Description: o.descr, AgentNumberList: o.agents,
		QueueNumberList: o.queues, AgentNumber: o.creator,
	}, o.allowDuplicate)
	if errors.Is(err, tasks.ErrExists) {
		return job.WithHint(err, "m7import task create --allow-duplicate-name --name "+shellQuote(o.name)+"   (or choose another name)")
	}
	if err != nil {
		return apiHint(err)
	}
	fmt.Fprintf(io.Err, "created task %q (id %s)\n", t.TaskName, t.TaskID)
	if o.jsonOut {
		return writeJSON(io.Out, t)
	}
	fmt.Fprintln(io.Out, t.TaskID)
	return nil
}

// taskUpdateOptions are the settings of "task update".
type taskUpdateOptions struct {
	api            apiFlags
	id             string
	name, descr    string
	allowDuplicate bool
	jsonOut        bool
}

func parseTaskUpdateFlags(args []string, io stdio) (*taskUpdateOptions, error) {
	o := &taskUpdateOptions{}
	fs := newFlagSet("task update", taskUpdateUsage, io.Err)
	o.api.register(fs)
	fs.StringVar(&o.id, "id", "", "id of the task to change (required)")
	fs.StringVar(&o.name, "name", "", "new name")
	fs.StringVar(&o.descr, "description", "", "new description")
	fs.BoolVar(&o.allowDuplicate, "allow-duplicate-name", false, "rename even if another task has the new name")
	fs.BoolVar(&o.jsonOut, "json", false, "print the updated task as JSON on stdout")
	if err := noPositional(fs, args); err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(o.id) == "":
		return nil, usagef("task update: --id is required (m7import task list shows the ids)")
	case o.name == "" && o.descr == "":
		return nil, usagef("task update: nothing to change: give --name and/or --description (non-empty)")
	case o.name != "" && strings.TrimSpace(o.name) == "":
		return nil, usagef("task update: --name must not be blank")
	}
	return o, nil
}

func runTaskUpdate(ctx context.Context, o *taskUpdateOptions, io stdio) error {
	c, err := o.api.client(io, nil)
	if err != nil {
		return err
	}
	before, err := tasks.ByID(ctx, c, o.id)
	if err != nil {
		return apiHint(err)
	}
	if o.name != "" && o.name != before.TaskName && !o.allowDuplicate {
		list, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{Name: o.name})
		if err != nil {
			return apiHint(fmt.Errorf("look up task %q: %w", o.name, err))
		}
		for _, t := range list.Named(o.name) {
			if t.TaskID != o.id {
				return job.WithHint(fmt.Errorf("rename task %s to %q: %w (id %s)", o.id, o.name, tasks.ErrExists, t.TaskID), "add --allow-duplicate-name to rename it anyway")
			}
		}
	}
	if _, err := c.UpdateTask(ctx, api.UpdateTaskRequest{TaskID: o.id, TaskName: o.name, Description: o.descr}); err != nil {
		return apiHint(fmt.Errorf("update task %s: %w", o.id, err))
	}
	after, err := tasks.ByID(ctx, c, o.id)
	if err != nil {
		return apiHint(fmt.Errorf("updated, but could not read the task back: %w", err))
	}
	fmt.Fprintf(io.Err, "updated task %s", o.id)
	if after.TaskName != before.TaskName {
		fmt.Fprintf(io.Err, ": name %q → %q", before.TaskName, after.TaskName)
	}
	if after.Description != before.Description {
		fmt.Fprintf(io.Err, ": description %q → %q", before.Description, after.Description)
	}
	fmt.Fprintln(io.Err)
	if o.jsonOut {
		return writeJSON(io.Out, after)
	}
	return nil
}

// taskListOptions are the settings of "task list".
type taskListOptions struct {
	api     apiFlags
	name    string
	status  string
	jsonOut bool
}

func parseTaskListFlags(args []string, io stdio) (*taskListOptions, error) {
	o := &taskListOptions{}
	fs := newFlagSet("task list", taskListUsage, io.Err)
	o.api.register(fs)
	fs.StringVar(&o.name, "name", "", "only tasks whose name matches (the API's search)")
	fs.StringVar(&o.status, "status", "", "only tasks in this status: READY, DEALING, PAUSED or ARCHIVED")
	fs.BoolVar(&o.jsonOut, "json", false, "print a JSON array instead of a table")
	if err := noPositional(fs, args); err != nil {
		return nil, err
	}
	o.status = strings.ToUpper(strings.TrimSpace(o.status))
	switch o.status {
	case "", api.StatusReady, api.StatusDealing, api.StatusPaused, api.StatusArchived:
	default:
		return nil, usagef("task list: --status %q: want READY, DEALING, PAUSED or ARCHIVED", o.status)
	}
	return o, nil
}

func runTaskList(ctx context.Context, o *taskListOptions, io stdio) error {
	c, err := o.api.client(io, nil)
	if err != nil {
		return err
	}
	list, _, err := c.QueryTasks(ctx, api.QueryTasksRequest{Name: o.name, Status: o.status})
	if err != nil {
		return apiHint(fmt.Errorf("list tasks: %w", err))
	}
	if o.jsonOut {
		if list.List == nil {
			list.List = []api.Task{}
		}
		return writeJSON(io.Out, list.List)
	}
	if len(list.List) == 0 {
		fmt.Fprintln(io.Err, "no tasks match")
		return nil
	}
	return writeTaskTable(io.Out, list.List)
}

// writeTaskTable writes tasks as columns aligned by display width, so that
// Chinese names (two cells per character) line up. The status column is
// left out when the API returned no status for any task (the vendor's
// table does not list one).
func writeTaskTable(w io.Writer, ts []api.Task) error {
	withStatus := false
	for _, t := range ts {
		if t.Status != "" {
			withStatus = true
		}
	}
	header := []string{"ID", "NAME"}
	if withStatus {
		header = append(header, "STATUS")
	}
	header = append(header, "NUMBERS", "AGENTS", "CREATED")
	rightAligned := map[string]bool{"NUMBERS": true, "AGENTS": true}
	rows := [][]string{header}
	for _, t := range ts {
		row := []string{cellText(t.TaskID), cellText(t.TaskName)}
		if withStatus {
			row = append(row, cellText(t.Status))
		}
		row = append(row, strconv.Itoa(t.NumberTotal), strconv.Itoa(t.AgentTotal), cellText(t.CreateTime))
		rows = append(rows, row)
	}
	return writeTable(w, rows, func(col int) bool { return rightAligned[header[col]] })
}

// displayWidth measures text in terminal cells. East Asian ambiguous
// characters count as one cell whatever the locale, so output does not
// depend on the environment.
var displayWidth = (&runewidth.Condition{EastAsianWidth: false, StrictEmojiNeutral: true}).StringWidth

// writeTable writes rows (the first is the header) with two spaces between
// columns, padding by display width; no line has trailing spaces.
func writeTable(w io.Writer, rows [][]string, right func(col int) bool) error {
	var widths []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		line := make([]string, len(row))
		for i, c := range row {
			pad := strings.Repeat(" ", widths[i]-displayWidth(c))
			if right(i) {
				line[i] = pad + c
			} else {
				line[i] = c + pad
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(line, "  "), " "))
		b.WriteByte('\n')
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// cellText makes a value safe for one table cell: control characters (tabs,
// line breaks, escape sequences) become spaces.
func cellText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// noPositional parses flags and refuses positional arguments.
func noPositional(fs *flag.FlagSet, args []string) error {
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("%s takes no arguments, got %q", fs.Name(), rest[0])
	}
	return nil
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// apiHint adds what to try to the errors a user can act on: refused
// credentials and an unknown task.
func apiHint(err error) error {
	switch {
	case api.IsAuth(err):
		return job.WithHint(err, "check M7_APPKEY and M7_SECRET (the secret is never printed)")
	case errors.Is(err, tasks.ErrNotFound):
		return job.WithHint(err, "m7import task list")
	}
	return err
}

// shellQuote quotes s for a hint line when it needs quoting.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
