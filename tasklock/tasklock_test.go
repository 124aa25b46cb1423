package tasklock_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m7import/m7import/tasklock"
)

const helperEnv = "TASKLOCK_TEST_HELPER_DIR"

// TestMain lets the test binary act as a second process that holds a lock.
func TestMain(m *testing.M) {
	if dir := os.Getenv(helperEnv); dir != "" {
		os.Exit(holdLock(dir))
	}
	os.Exit(m.Run())
}

// holdLock takes the lock of (ak, T1), says so on stdout and waits to be
// killed.
func holdLock(dir string) int {
	l, err := tasklock.Acquire(context.Background(), dir, "ak", "T1", tasklock.Options{Command: "m7import import leads.csv"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("locked")
	time.Sleep(time.Minute)
	l.Release()
	return 0
}

var fixed = time.Date(2026, 11, 25, 2, 0, 1, 0, time.Local)

func TestSecondAcquireIsRefusedNamingTheHolder(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{
		Command: "m7import import leads.csv",
		Now:     func() time.Time { return fixed },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()

	_, err = tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{Now: func() time.Time { return fixed.Add(time.Minute) }})
	if !errors.Is(err, tasklock.ErrHeld) {
		t.Fatalf("second Acquire error = %v, want ErrHeld", err)
	}
	var held *tasklock.HeldError
	if !errors.As(err, &held) {
		t.Fatalf("error %T is not a *HeldError", err)
	}
	want := tasklock.Holder{PID: os.Getpid(), Command: "m7import import leads.csv", Since: fixed, TaskID: "T1"}
	if !held.Known || held.Holder.PID != want.PID || held.Holder.Command != want.Command ||
		!held.Holder.Since.Equal(want.Since) || held.Holder.TaskID != want.TaskID {
		t.Fatalf("holder = %+v (known %v), want %+v", held.Holder, held.Known, want)
	}
	msg := err.Error()
	wantMsg := fmt.Sprintf("task T1 is in use by pid %d (m7import import leads.csv) since 02:00:01: wait for it to finish or stop it", os.Getpid())
	if msg != wantMsg {
		t.Fatalf("message\n %q\nwant\n %q", msg, wantMsg)
	}
}

func TestHeldSinceAnotherDayShowsTheDate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{Now: func() time.Time { return fixed }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, err = tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{Now: func() time.Time { return fixed.Add(48 * time.Hour) }})
	if err == nil || !strings.Contains(err.Error(), "since 2026-11-25 02:00:01") {
		t.Fatalf("error = %v, want the holder's date and time", err)
	}
}

func TestLocksAreKeyedByAccountAndTask(t *testing.T) {
	tests := []struct {
		name              string
		ak1, t1, ak2, t2  string
		wantSecondRefused bool
	}{
		{"same account and task", "ak", "T1", "ak", "T1", true},
		{"same account, other task", "ak", "T1", "ak", "T2", false},
		{"other account, same task id", "ak", "T1", "other", "T1", false},
		{"separator cannot be forged", "ab", "c", "a", "bc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			l, err := tasklock.Acquire(ctx, dir, tt.ak1, tt.t1, tasklock.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Release()
			l2, err := tasklock.Acquire(ctx, dir, tt.ak2, tt.t2, tasklock.Options{})
			if tt.wantSecondRefused {
				if !errors.Is(err, tasklock.ErrHeld) {
					t.Fatalf("second Acquire error = %v, want ErrHeld", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("second Acquire: %v", err)
			}
			l2.Release()
		})
	}
}

func TestLockFileIsNamedByHashAndNeverRemoved(t *testing.T) {
	dir := t.TempDir()
	p := tasklock.Path(dir, "ak", "任务/../T1")
	if ok, _ := regexp.MatchString(`^[0-9a-f]{16}\.lock$`, filepath.Base(p)); !ok || filepath.Dir(p) != filepath.Join(dir, "locks") {
		t.Fatalf("Path = %q, want %s/locks/<16 hex>.lock", p, dir)
	}
	l, err := tasklock.Acquire(context.Background(), dir, "ak", "任务/../T1", tasklock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatalf("lock file removed on release: %v", err)
	}
	if st.Size() != 0 {
		t.Errorf("released lock file still names a holder (%d bytes)", st.Size())
	}
	if st.Mode().Perm()&0o077 != 0 {
		t.Errorf("lock file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestHolderNotYetWrittenIsRefusedNamingTheLockFile(t *testing.T) {
	dir := t.TempDir()
	p := tasklock.Path(dir, "ak", "T1")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	_, err = tasklock.Acquire(context.Background(), dir, "ak", "T1", tasklock.Options{})
	var held *tasklock.HeldError
	if !errors.As(err, &held) || held.Known {
		t.Fatalf("error = %v, want a *HeldError with an unknown holder", err)
	}
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "wait for it to finish") {
		t.Fatalf("message %q does not name the lock file and what to do", err)
	}
}

func TestWaitingAcquireGetsTheLockWhenReleased(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	first, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{Command: "first"})
	if err != nil {
		t.Fatal(err)
	}
	var sawHolder string
	second, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{
		Wait: time.Minute,
		Poll: 5 * time.Millisecond,
		Waiting: func(h *tasklock.HeldError) {
			sawHolder = h.Holder.Command
			if err := first.Release(); err != nil {
				t.Error(err)
			}
		},
		Command: "second",
	})
	if err != nil {
		t.Fatalf("waiting Acquire: %v", err)
	}
	defer second.Release()
	if sawHolder != "first" {
		t.Errorf("Waiting saw holder %q, want first", sawHolder)
	}
	_, err = tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{})
	var held *tasklock.HeldError
	if !errors.As(err, &held) || held.Holder.Command != "second" {
		t.Fatalf("third Acquire error = %v, want held by second", err)
	}
}

func TestWaitEndsWithTheHolderNamed(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{Command: "m7import rollback r.csv"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, err = tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{Wait: 30 * time.Millisecond, Poll: 5 * time.Millisecond})
	if !errors.Is(err, tasklock.ErrHeld) || !strings.Contains(err.Error(), "m7import rollback r.csv") {
		t.Fatalf("error = %v, want ErrHeld naming the rollback", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("a Wait that ran out is not a context error: %v", err)
	}
}

func TestCancelEndsTheWait(t *testing.T) {
	dir := t.TempDir()
	l, err := tasklock.Acquire(context.Background(), dir, "ak", "T1", tasklock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{
			Wait:    time.Hour,
			Poll:    time.Hour, // only the cancel can end this wait
			Waiting: func(*tasklock.HeldError) { cancel() },
		})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, tasklock.ErrHeld) {
			t.Fatalf("error = %v, want context.Canceled and ErrHeld", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Acquire still waiting 10s after its context was cancelled")
	}
}

func TestLockIsReleasedWhenItsProcessIsKilled(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) != "locked" {
			t.Fatalf("helper said %q, want locked", s)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("helper did not take the lock within 20s")
	}

	ctx := context.Background()
	_, err = tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{})
	var held *tasklock.HeldError
	if !errors.As(err, &held) || held.Holder.PID != cmd.Process.Pid || held.Holder.Command != "m7import import leads.csv" {
		t.Fatalf("Acquire while the helper holds it: %v, want held by pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(20 * time.Second):
		t.Fatal("killed helper did not exit within 20s")
	}
	l, err := tasklock.Acquire(ctx, dir, "ak", "T1", tasklock.Options{})
	if err != nil {
		t.Fatalf("Acquire after the holder was killed: %v", err)
	}
	l.Release()
}
