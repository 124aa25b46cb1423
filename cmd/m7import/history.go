package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/m7import/m7import/datadir"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/job"
)

const historyUsage = `
Usage: m7import history [--json] [--limit N] [--task-id ID] [--data-dir DIR]
       m7import history show ID [--json] [--data-dir DIR]

Lists the imports recorded on this machine, newest first: by the command
line, the web server and the inbox alike (one history per user, under the
data directory). Each line gives the import's id, when it started (local
time), the file, the task, the dedupe rule, the row counts, how it ended
and its report. "history show ID" prints one import in full; with --json,
its --json summary. To take an import back: m7import rollback REPORT.

Examples:
  m7import history
  m7import history --task-id 6ab971b0-6005-452e-9328-0883299619eb --limit 5
  m7import history --json | jq -r 'select(.failed > 0) | .report'
  m7import history show 12 --json
`

// historyOptions are the settings of history and history show.
type historyOptions struct {
	jsonOut bool
	limit   int
	taskID  string
	dataDir string
	show    int64 // the id for "history show", 0 to list
}

func parseHistoryFlags(args []string, io stdio) (*historyOptions, error) {
	o := &historyOptions{}
	name := "history"
	show := len(args) > 0 && args[0] == "show"
	if show {
		name, args = "history show", args[1:]
	}
	fs := newFlagSet(name, historyUsage, io.Err)
	fs.BoolVar(&o.jsonOut, "json", false, "print one JSON line per import, with every field (show: its summary)")
	fs.StringVar(&o.dataDir, "data-dir", "", "where the history lives (default $M7_DATA_DIR, else $XDG_DATA_HOME/m7import or ~/.local/share/m7import)")
	if !show {
		fs.IntVar(&o.limit, "limit", 20, "list at most N imports (0: all)")
		fs.StringVar(&o.taskID, "task-id", "", "only imports into this task")
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	switch {
	case !show && len(rest) > 0:
		return nil, usagef("history takes no arguments, got %q (to see one import: m7import history show ID)", rest[0])
	case show && len(rest) != 1:
		return nil, usagef("history show takes one import id (m7import history lists them), got %d arguments", len(rest))
	case o.limit < 0:
		return nil, usagef("--limit %d: must not be negative", o.limit)
	}
	if show {
		id, err := strconv.ParseInt(strings.TrimPrefix(rest[0], "#"), 10, 64)
		if err != nil || id < 1 {
			return nil, usagef("history show %q: an import id is a number (m7import history lists them)", rest[0])
		}
		o.show = id
	}
	return o, nil
}

func runHistoryCmd(ctx context.Context, args []string, io stdio) error {
	o, err := parseHistoryFlags(args, io)
	if err != nil {
		return err
	}
	return runHistory(ctx, o, io)
}

// runHistory lists the history, or shows one entry of it.
func runHistory(ctx context.Context, o *historyOptions, io stdio) error {
	dir, err := datadir.Resolve(io.Getenv, o.dataDir)
	if err != nil {
		return err
	}
	store, err := history.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer store.Close()
	if o.show != 0 {
		e, err := store.Get(ctx, o.show)
		if errors.Is(err, history.ErrNotFound) {
			return job.WithHint(fmt.Errorf("no import #%d in the history %s", o.show, store.Path()), "m7import history")
		}
		if err != nil {
			return err
		}
		if o.jsonOut {
			if len(e.Summary) > 0 {
				_, err := fmt.Fprintf(io.Out, "%s\n", strings.TrimSpace(string(e.Summary)))
				return err
			}
			return writeJSON(io.Out, e)
		}
		return writeHistoryEntry(io.Out, e)
	}
	es, err := store.List(ctx, history.ListOptions{Limit: o.limit, TaskID: o.taskID})
	if err != nil {
		return err
	}
	if o.jsonOut {
		for _, e := range es {
			if err := writeJSON(io.Out, e); err != nil {
				return err
			}
		}
		return nil
	}
	if len(es) == 0 {
		fmt.Fprintf(io.Err, "no imports recorded in %s\n", store.Path())
		return nil
	}
	return writeHistoryTable(io.Out, es)
}

// writeHistoryTable writes entries as columns aligned by display width
// (Chinese file and task names are two cells a character).
func writeHistoryTable(w io.Writer, es []history.Entry) error {
	header := []string{"ID", "STARTED", "FILE", "TASK", "RULE", "ROWS", "IMPORTED", "INVALID", "DUPLICATE", "FAILED", "UNCONFIRMED", "SKIPPED", "STATE", "REPORT"}
	numeric := map[int]bool{0: true, 4: true, 5: true, 6: true, 7: true, 8: true, 9: true, 10: true, 11: true}
	rows := [][]string{header}
	for _, e := range es {
		rows = append(rows, []string{
			strconv.FormatInt(e.ID, 10), e.StartedAt.Local().Format("2006-01-02 15:04"), cellText(e.FileName),
			cellText(taskLabel(e)), strconv.Itoa(e.Rule),
			strconv.Itoa(e.Rows), strconv.Itoa(e.Imported), strconv.Itoa(e.Invalid), strconv.Itoa(e.Duplicate),
			strconv.Itoa(e.Failed), strconv.Itoa(e.Unconfirmed), strconv.Itoa(e.Skipped),
			stateLabel(e), cellText(e.Report),
		})
	}
	return writeTable(w, rows, func(col int) bool { return numeric[col] })
}

// taskLabel names an entry's task: its name when known, else its id.
func taskLabel(e history.Entry) string {
	if e.TaskName != "" {
		return e.TaskName
	}
	return e.TaskID
}

// stateLabel is how an import ended, with its exit status when not 0:
// "done", "done (exit 3)", "failed (exit 1)", "running".
func stateLabel(e history.Entry) string {
	label := string(e.State)
	if e.State == history.StateRunning {
		// A run killed with SIGKILL cannot say it stopped: --resume with
		// its report finishes it.
		label = "running or interrupted"
	}
	if e.ExitCode != 0 && e.State != history.StateRunning {
		label = fmt.Sprintf("%s (exit %d)", e.State, e.ExitCode)
	}
	if !e.RolledBackAt.IsZero() {
		label += ", rolled back"
	}
	return label
}

// writeHistoryEntry writes one entry as "name: value" lines.
func writeHistoryEntry(w io.Writer, e history.Entry) error {
	var b strings.Builder
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%-12s %s\n", k+":", cellText(v))
		}
	}
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format(time.RFC3339)
	}
	total := func(p *int) string {
		if p == nil {
			return "?"
		}
		return strconv.Itoa(*p)
	}
	line("import", "#"+strconv.FormatInt(e.ID, 10))
	line("state", stateLabel(e))
	line("file", e.File)
	line("sha256", e.SHA256)
	task := e.TaskID
	if e.TaskName != "" {
		task = fmt.Sprintf("%s (%s)", e.TaskName, e.TaskID)
	}
	line("task", task)
	line("rule", strconv.Itoa(e.Rule))
	line("source", string(e.Source))
	line("started", when(e.StartedAt))
	line("finished", when(e.FinishedAt))
	line("rows", fmt.Sprintf("%d read: %d imported, %d invalid, %d duplicate, %d failed, %d unconfirmed, %d skipped",
		e.Rows, e.Imported, e.Invalid, e.Duplicate, e.Failed, e.Unconfirmed, e.Skipped))
	if e.NumberTotalBefore != nil || e.NumberTotalAfter != nil {
		line("task count", total(e.NumberTotalBefore)+" → "+total(e.NumberTotalAfter))
	}
	line("report", e.Report)
	line("meta", e.Meta)
	line("journal", e.Journal)
	line("attention", e.Attention)
	line("error", e.Error)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write history entry: %w", err)
	}
	return nil
}
