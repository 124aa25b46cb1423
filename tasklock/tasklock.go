package tasklock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// CLIWait is how long the command line waits for a task's lock before it
// refuses, naming the holder (NOTES.md, "the per-task lock's wait"). The web
// server does not wait (it answers 409) and the inbox skips the file until
// its next pass.
const CLIWait = 10 * time.Second

// DefaultPoll is how often a waiting Acquire tries the lock again when
// Options.Poll is zero.
const DefaultPoll = 250 * time.Millisecond

// ErrHeld means another holder has the task's lock. Acquire returns it
// inside a *HeldError that names the holder; test with errors.Is.
var ErrHeld = errors.New("task is locked by another process")

// Holder says who holds a task's lock. It is written into the lock file by
// the holder and read back by a refused caller.
type Holder struct {
	PID     int       `json:"pid"`
	Command string    `json:"command,omitempty"`
	Since   time.Time `json:"since"`
	TaskID  string    `json:"task_id"`
}

// HeldError is the refusal Acquire returns when the lock stays held. Known is
// false when the holder had not yet written its details (or could not be
// read); the message then names the lock file instead.
type HeldError struct {
	TaskID string
	Holder Holder
	Known  bool
	Path   string // the lock file
	now    time.Time
}

// Error says which task is busy, with whom, since when and what to do.
func (e *HeldError) Error() string {
	if !e.Known {
		return fmt.Sprintf("task %s is in use by another m7import process (lock %s): wait for it to finish or stop it",
			e.TaskID, e.Path)
	}
	who := fmt.Sprintf("pid %d", e.Holder.PID)
	if e.Holder.Command != "" {
		who += " (" + e.Holder.Command + ")"
	}
	since := e.Holder.Since.Local()
	layout := time.DateTime
	if now := e.now.Local(); !e.now.IsZero() && since.YearDay() == now.YearDay() && since.Year() == now.Year() {
		layout = time.TimeOnly
	}
	return fmt.Sprintf("task %s is in use by %s since %s: wait for it to finish or stop it",
		e.TaskID, who, since.Format(layout))
}

// Unwrap makes errors.Is(err, ErrHeld) true.
func (e *HeldError) Unwrap() error { return ErrHeld }

// Options tune Acquire.
type Options struct {
	// Wait is how long to keep trying while the lock is held; 0 tries once.
	Wait time.Duration
	// Poll is the interval between tries while waiting (DefaultPoll if 0).
	Poll time.Duration
	// Command summarises what the holder is doing, for a refused caller:
	// e.g. "m7import import leads.csv". Never put a secret here.
	Command string
	// Now stamps Holder.Since (time.Now if nil).
	Now func() time.Time
	// Waiting, if set, is called once when the lock is found held and
	// Acquire starts to wait, so a front end can say whom it waits for.
	Waiting func(*HeldError)
}

// Lock is a held task lock. Release it when the task is no longer being
// changed; process exit releases it too.
type Lock struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// Path returns the key file for (appKey, taskID) under dir:
// dir/locks/<first 16 hex digits of sha256(appKey NUL taskID)>.lock. The
// hash keeps task ids of any shape out of file names.
func Path(dir, appKey, taskID string) string {
	sum := sha256.Sum256([]byte(appKey + "\x00" + taskID))
	return filepath.Join(dir, "locks", hex.EncodeToString(sum[:])[:16]+".lock")
}

// Acquire takes the lock of (appKey, taskID) under the data directory dir.
// It tries once, or keeps trying every opts.Poll until opts.Wait has passed
// or ctx ends. A lock still held is refused with a *HeldError; an ended ctx
// returns an error wrapping both ctx.Err() and the *HeldError.
//
// Two Acquire calls in one process exclude each other as two processes do
// (each opens the file anew, and flock locks belong to the open file).
func Acquire(ctx context.Context, dir, appKey, taskID string, opts Options) (*Lock, error) {
	if taskID == "" {
		return nil, errors.New("lock task: no task id given")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	poll := opts.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	path := Path(dir, appKey, taskID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock task %s: %w; set M7_DATA_DIR or --data-dir to a writable folder", taskID, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock task %s: %w", taskID, err)
	}
	holder := func() Holder {
		return Holder{PID: os.Getpid(), Command: opts.Command, Since: now(), TaskID: taskID}
	}
	var (
		timeout <-chan time.Time
		ticker  *time.Ticker
	)
	for {
		l, err := take(f, path, holder)
		if err != nil || l != nil {
			if err != nil {
				err = fmt.Errorf("lock task %s: %w", taskID, err)
			}
			return l, err
		}
		held := readHeld(path, taskID, now())
		if opts.Wait <= 0 {
			f.Close()
			return nil, held
		}
		if ticker == nil {
			timer := time.NewTimer(opts.Wait)
			defer timer.Stop()
			timeout = timer.C
			ticker = time.NewTicker(poll)
			defer ticker.Stop()
			if opts.Waiting != nil {
				opts.Waiting(held)
			}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%w: %w", ctx.Err(), held)
		case <-timeout:
			// One last try, so a lock released right at the deadline is
			// not refused.
			l, err := take(f, path, holder)
			if err != nil || l != nil {
				if err != nil {
					err = fmt.Errorf("lock task %s: %w", taskID, err)
				}
				return l, err
			}
			f.Close()
			return nil, readHeld(path, taskID, now())
		case <-ticker.C:
		}
	}
}

// take tries the lock once. It returns (nil, nil) when another holder has
// it, and closes f on any error.
func take(f *os.File, path string, holder func() Holder) (*Lock, error) {
	ok, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !ok {
		return nil, nil
	}
	l := &Lock{f: f, path: path}
	if err := l.writeHolder(holder()); err != nil {
		l.Release()
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return l, nil
}

// tryLock takes an exclusive flock on f without blocking; false means
// another open file holds it.
func tryLock(f *os.File) (bool, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return false, err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		for {
			ferr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
			if ferr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return false, err
	}
	switch {
	case ferr == nil:
		return true, nil
	case errors.Is(ferr, syscall.EWOULDBLOCK):
		return false, nil
	default:
		return false, ferr
	}
}

// writeHolder replaces the file's content with h. It writes at offset 0 and
// then truncates, so a reader never sees an empty file in between; a reader
// that catches the moment between the two sees h followed by a stale tail,
// which readHeld ignores (it decodes the first JSON value only).
func (l *Lock) writeHolder(h Holder) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := l.f.WriteAt(b, 0); err != nil {
		return err
	}
	return l.f.Truncate(int64(len(b)))
}

// readHeld builds the refusal for a held lock from what its holder wrote.
func readHeld(path, taskID string, now time.Time) *HeldError {
	e := &HeldError{TaskID: taskID, Path: path, now: now}
	b, err := os.ReadFile(path)
	if err != nil {
		return e
	}
	var h Holder
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&h); err != nil || h.PID == 0 {
		return e
	}
	e.Holder, e.Known = h, true
	return e
}

// Release gives the lock up. It empties the file first, while still holding
// the lock, so no later caller reads a holder that is gone. Releasing twice
// is harmless.
func (l *Lock) Release() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	terr := l.f.Truncate(0)
	cerr := l.f.Close() // closing the only descriptor drops the flock
	l.f = nil
	if err := errors.Join(terr, cerr); err != nil {
		return fmt.Errorf("release lock %s: %w", l.path, err)
	}
	return nil
}
