package main

import (
	"context"
	"fmt"
	"time"

	"github.com/m7import/m7import/datadir"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/tasklock"
)

// lockFlags choose where the per-task locks live and how long a command
// waits for one, for the commands that change a task's numbers.
type lockFlags struct {
	dataDir string
	wait    time.Duration
}

func (l *lockFlags) register(fs interface {
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.StringVar(&l.dataDir, "data-dir", "", "where the per-task locks and the import history live (default $M7_DATA_DIR, else $XDG_DATA_HOME/m7import or ~/.local/share/m7import)")
	fs.DurationVar(&l.wait, "lock-wait", tasklock.CLIWait, "how long to wait while another m7import changes the same task (an import, a rollback) before refusing")
}

func (l *lockFlags) check() error {
	if l.wait < 0 {
		return usagef("--lock-wait %s: must not be negative", l.wait)
	}
	return nil
}

// lockTask takes the per-task lock that imports, rollbacks and deletes
// share (one change to a task at a time on this machine), waiting up to
// --lock-wait and saying whom it waits for. command names what this
// process does for a refused caller; it must not hold a secret. waited
// says that another process held the lock first (the task may have
// changed meanwhile).
func (l *lockFlags) lockTask(ctx context.Context, io stdio, appKey, taskID, command string) (release func(), waited bool, err error) {
	dir, err := datadir.Resolve(io.Getenv, l.dataDir)
	if err != nil {
		return nil, false, err
	}
	lock, err := tasklock.Acquire(ctx, dir, appKey, taskID, tasklock.Options{
		Wait: l.wait, Command: command, Now: io.Now,
		Waiting: func(he *tasklock.HeldError) {
			waited = true
			fmt.Fprintf(io.Err, "waiting up to %s for %s\n", l.wait, he.Error())
		},
	})
	if err != nil {
		return nil, waited, job.WithHint(err, "one change to a task at a time: wait for the other run to finish, then run this command again")
	}
	return func() { lock.Release() }, waited, nil
}
