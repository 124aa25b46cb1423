package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/inbox"
	"github.com/m7import/m7import/job"
)

const inboxUsage = `
Usage: m7import inbox DIR (--task-id ID | --task-name NAME [--create-task]) [import flags]
                          [--watch] [--poll 10s] [--settle 30s] [--notify CMD]

Imports every lead file (CSV/TSV/TXT/XLSX) in DIR that was not imported
before, oldest first, then exits; --watch keeps going and takes new files as
they arrive. Each file goes, with its report and attention file, to DIR/done/
(imported; exit 3 when rows need attention) or DIR/failed/ (its content
cannot be imported), and DIR/summary.jsonl gets one line per file. The same
content under another name is not imported again (moved to done/ as a copy);
a file stopped by the network or a signal stays in DIR and resumes next time.
DIR/.m7import/config.json may route files by name to tasks and carry a column
mapping; the flags are the default for what it does not say.

Examples:
  m7import inbox /srv/leads/campaign-a --task-name 十一月回访 --create-task
  m7import inbox /srv/leads --task-id 6ab971b0-... --rule 2 --notify 'mail -s "m7import" oncall@example.com'
  m7import inbox /srv/leads --watch --settle 1m --map number=联系方式

Exit codes: the worst of the files': 0 all imported; 3 some rows need
attention; 4 a file was refused by --max-invalid; 1 a file could not be
imported (or another inbox holds DIR); 2 usage error.
`

// inboxOptions are the inbox command's settings: the import flags, shared
// with import, plus the folder's own.
type inboxOptions struct {
	importOptions
	dir    string
	watch  bool
	settle time.Duration
	poll   time.Duration
	notify string
}

func parseInboxFlags(args []string, io stdio) (*inboxOptions, error) {
	o := &inboxOptions{}
	fs := newFlagSet("inbox", inboxUsage, io.Err)
	o.register(fs, false)
	fs.BoolVar(&o.watch, "watch", false, "keep running and take new files as they arrive")
	fs.DurationVar(&o.poll, "poll", 10*time.Second, "with --watch: how often to look for new files")
	fs.DurationVar(&o.settle, "settle", 30*time.Second, "leave a file modified less than this long ago for the next pass")
	fs.StringVar(&o.notify, "notify", "", "run this shell command with the run's summary (JSON) on stdin when a file needs a person")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) != 1 {
		return nil, usagef("inbox takes one folder: m7import inbox DIR --task-id ID")
	}
	o.dir = rest[0]
	if err := o.checkSettings(); err != nil {
		return nil, err
	}
	switch {
	case o.dryRun:
		return nil, usagef("inbox has no --dry-run: check a file with m7import validate FILE")
	case o.reportPath != "" || o.attention != "":
		return nil, usagef("inbox writes each file's report and attention file beside it in done/ or failed/: drop --report and --attention")
	case o.taskID != "" && o.taskName != "":
		return nil, usagef("give --task-id or --task-name, not both")
	case o.createTask && o.taskName == "":
		return nil, usagef("--create-task needs --task-name")
	case o.settle < 0 || o.poll <= 0:
		return nil, usagef("--settle must not be negative and --poll must be positive")
	}
	if o.taskID == "" && o.taskName == "" {
		cfg, err := inbox.LoadConfig(o.dir)
		if err != nil {
			return nil, err
		}
		if !cfg.HasRoutes() {
			return nil, usagef("inbox needs --task-id ID or --task-name NAME, or routes to tasks in %s/.m7import/config.json", o.dir)
		}
	}
	return o, nil
}

func runInboxCmd(ctx context.Context, args []string, io stdio) error {
	o, err := parseInboxFlags(args, io)
	if err != nil {
		return err
	}
	return runInbox(ctx, o, io)
}

// runInbox takes the folder and passes over it; the error's code is the
// worst of the files'.
func runInbox(ctx context.Context, o *inboxOptions, io stdio) error {
	r := &importRun{o: &o.importOptions, io: io}
	if err := r.connect(ctx); err != nil {
		return err
	}
	defer r.history.Close()
	create := &api.CreateTaskRequest{Description: o.descr, AgentNumberList: o.agents, QueueNumberList: o.queues, AgentNumber: o.creator}
	task := job.TaskRef{ID: o.taskID, Name: o.taskName}
	if o.createTask {
		task.Create = create
	}
	opts := inbox.Options{
		Job: r.jobOptions(), Task: task, Create: create,
		Settle: o.settle, Watch: o.watch, Poll: o.poll,
		Done: func(l inbox.Line) { printInboxLine(l, o.jsonOut, o.quiet, io) },
		Log:  r.notice,
	}
	if o.notify != "" {
		opts.Notify = func(ctx context.Context, summary []byte) error { return runNotify(ctx, o.notify, summary, io) }
	}
	b, err := inbox.Open(ctx, o.dir, r.client, opts)
	if err != nil {
		return err
	}
	defer b.Close()
	_, err = b.Run(ctx)
	return err
}

// notifyTimeout bounds the --notify command, which runs even after a
// signal stopped the run (on-call should hear of that too).
const notifyTimeout = time.Minute

// runNotify runs CMD through sh -c with the summary on stdin.
func runNotify(ctx context.Context, command string, summary []byte, io stdio) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), notifyTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdin = bytes.NewReader(append(summary, '\n'))
	cmd.Stdout, cmd.Stderr = io.Err, io.Err
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", command, err)
	}
	return nil
}

// printInboxLine says what became of a file: its summary.jsonl line on
// stdout with --json, else one sentence on stderr.
func printInboxLine(l inbox.Line, jsonOut, quiet bool, io stdio) {
	if jsonOut {
		b, _ := json.Marshal(l)
		fmt.Fprintf(io.Out, "%s\n", b)
		return
	}
	if quiet {
		return
	}
	switch l.State {
	case inbox.StateImported:
		fmt.Fprintf(io.Err, "%s: %d rows: %d imported, %d invalid, %d duplicate, %d failed, %d unconfirmed, %d skipped → %s (exit %d)\n",
			l.File, l.Rows, l.Imported, l.Invalid, l.Duplicate, l.Failed, l.Unconfirmed, l.Skipped, l.MovedTo, l.ExitCode)
	case inbox.StateCopy:
		fmt.Fprintf(io.Err, "%s: a copy of %s, already imported → %s\n", l.File, l.CopyOf, l.MovedTo)
	case inbox.StateFailed:
		fmt.Fprintf(io.Err, "%s: not imported: %s → %s\n", l.File, l.Error, l.MovedTo)
	default:
		fmt.Fprintf(io.Err, "%s: left in the folder for the next pass: %s\n", l.File, l.Error)
	}
	if l.Hint != "" && l.State != inbox.StateImported {
		fmt.Fprintf(io.Err, "  try: %s\n", l.Hint)
	}
}
