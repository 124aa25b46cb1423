package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/job"
)

// stdio is the outside world a command talks to, injected so that tests
// run commands without a process.
type stdio struct {
	In     io.Reader
	Out    io.Writer // data only: the --json summary, listings
	Err    io.Writer // progress, summaries, errors
	Getenv func(string) string
	// Now is the clock of the times on log lines (time.Now when nil).
	Now func() time.Time
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// exitCode is the process's exit status; the contract is in usageText and
// job.Code decides it.
type exitCode = job.Code

const (
	exitOK         = job.CodeOK         // every valid row imported (dry run: file read)
	exitFailed     = job.CodeFailed     // could not start, or stopped
	exitUsage      = job.CodeUsage      // bad flags or arguments
	exitIncomplete = job.CodeIncomplete // finished, some rows failed, unconfirmed or skipped
	exitRefused    = job.CodeRefused    // refused by --max-invalid
)

// usagef is a mistake in the command line (exit 2).
func usagef(format string, a ...any) error { return job.Usagef(format, a...) }

// errSilent is an outcome already explained on stderr.
var errSilent = errors.New("")

// exitFor maps a command's error to the exit code.
func exitFor(err error) exitCode {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return job.CodeOf(err)
}

const usageText = `m7import bulk-imports lead spreadsheets into 7moor preview dial-out tasks.

Usage:
  m7import import FILE... --task-id ID [flags]   import leads (see: m7import import --help)
  m7import validate FILE... [flags]             read and check, send nothing, no credentials
  m7import inbox DIR --task-id ID [flags]       import every new file in a folder, once (nightly jobs)
  m7import task create|update|list [flags]      manage dial-out tasks
  m7import numbers delete --task-id ID [flags]  delete numbers from a task
  m7import rollback REPORT|ID                   take back an import (a report or a history id)
  m7import history [--json] [show ID]           list the imports made on this machine
  m7import sim [--addr 127.0.0.1:8907]          run the built-in 7moor simulator
  m7import demo                                 import a sample into the simulator
  m7import serve [--demo]                       a local web page for the whole flow
  m7import version                              print the version

Configuration (flags win over the environment):
  M7_APPKEY        account app key (--appkey)
  M7_SECRET        secret key (never accepted as a flag)
  M7_SECRET_FILE   file holding the secret key (--secret-file)
  M7_BASE_URL      API base URL (--base-url), default http://v7openapi.7moor.com
  M7_DATA_DIR      the import history and the per-task locks (--data-dir), default
                   $XDG_DATA_HOME/m7import or ~/.local/share/m7import
  LANG, LC_ALL     zh_* for Chinese reasons, progress and summaries (--lang zh|en)

Exit codes:
  0  every valid row imported (dry run: the file was read)
  1  the run could not start or was stopped (unreadable file, auth refused, no such task, Ctrl-C)
  2  usage error
  3  finished, but some rows are failed, unconfirmed or skipped, or under rule 2
     the task grew by another amount than was imported; validate: no row is valid
  4  refused by --max-invalid: nothing was sent
`

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, io stdio) exitCode {
	if len(args) == 0 {
		fmt.Fprint(io.Err, usageText)
		return exitUsage
	}
	if !isTerminal(io.Err) {
		// Nightly jobs' logs: on-call needs to know when each line was
		// written. stdout (the --json data) stays as it is.
		io.Err = newStampWriter(io.Err, io.Now)
	}
	cmd, rest := args[0], args[1:]
	var err error
	switch cmd {
	case "import":
		err = runImportCmd(ctx, rest, io, false)
	case "validate":
		err = runImportCmd(ctx, rest, io, true)
	case "sim":
		err = runSimCmd(ctx, rest, io)
	case "demo":
		err = runDemoCmd(ctx, rest, io)
	case "serve":
		err = runServeCmd(ctx, rest, io)
	case "version", "--version":
		err = runVersionCmd(rest, io)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(io.Out, usageText)
		return exitOK
	default:
		err = extraCommand(ctx, cmd, rest, io)
	}
	return report(err, io)
}

// report prints err as "m7import: ..." (plus a hint) and returns its code.
func report(err error, io stdio) exitCode {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitFor(err)
	if !errors.Is(err, errSilent) {
		err = withNextStep(err, io.Getenv)
		fmt.Fprintf(io.Err, "m7import: %s\n", strings.TrimSpace(err.Error()))
		if hint := job.HintOf(err); hint != "" {
			fmt.Fprintln(io.Err, i18n.T(i18n.FromEnv(io.Getenv), i18n.Hint, hint))
		}
		var fe *flagError
		if code == exitUsage && !errors.As(err, &fe) {
			fmt.Fprintln(io.Err, "run 'm7import help' for usage")
		}
	}
	return code
}
