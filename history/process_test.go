package history_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m7import/m7import/history"
)

// The test binary doubles as a second process writing to the history:
// HISTORY_TEST_HELPER=insert writes HISTORY_TEST_N imports and exits;
// HISTORY_TEST_HELPER=loop writes until it is killed, printing each id once
// its Finish has returned (committed).
const (
	helperEnv = "HISTORY_TEST_HELPER"
	dirEnv    = "HISTORY_TEST_DIR"
	nEnv      = "HISTORY_TEST_N"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(helper(mode, os.Getenv(dirEnv), os.Getenv(nEnv)))
	}
	os.Exit(m.Run())
}

func helper(mode, dir, n string) int {
	ctx := context.Background()
	s, err := history.Open(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer s.Close()
	switch mode {
	case "insert":
		count, err := strconv.Atoi(n)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		for i := range count {
			if err := beginFinish(s, fmt.Sprintf("pid%d-%d", os.Getpid(), i), i); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return 0
	case "loop":
		// A large summary makes each commit span many pages, so the kill
		// is likely to land in the middle of one.
		big := strings.Repeat("x", 64<<10)
		for i := 0; ; i++ {
			e := entry(i, fmt.Sprintf("crash-%d.csv", i), fmt.Sprintf("h%d", i), "T1")
			id, err := s.Begin(ctx, e)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			e.State, e.Imported, e.FinishedAt = history.StateDone, i, e.StartedAt.Add(time.Second)
			e.Summary = []byte(fmt.Sprintf(`{"pad":%q}`, big))
			if err := s.Finish(ctx, id, e); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Printf("committed %d %d\n", id, i)
		}
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

func helperCmd(t *testing.T, mode, dir string, n int) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, dirEnv+"="+dir, nEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	return cmd
}

// waitWithin waits for cmd, failing the test if it takes longer than d.
func waitWithin(t *testing.T, cmd *exec.Cmd, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("helper pid %d still running after %v", cmd.Process.Pid, d)
		return nil
	}
}

func TestTwoProcessesWriteAtOnce(t *testing.T) {
	dir := t.TempDir() // both open a new database: they also race to create it
	const n = 40
	cmds := []*exec.Cmd{helperCmd(t, "insert", dir, n), helperCmd(t, "insert", dir, n)}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cmds {
		if err := waitWithin(t, c, 2*time.Minute); err != nil {
			t.Fatalf("helper pid %d: %v (see its stderr above)", c.Process.Pid, err)
		}
	}
	s := open(t, dir)
	es, err := s.List(context.Background(), history.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perProcess := map[string]int{}
	for _, e := range es {
		if e.State != history.StateDone {
			t.Errorf("entry %d is %s, want done", e.ID, e.State)
		}
		perProcess[strings.SplitN(e.SHA256, "-", 2)[0]]++
	}
	if len(es) != 2*n || len(perProcess) != 2 {
		t.Fatalf("%d entries from %d processes (%v), want %d from 2", len(es), len(perProcess), perProcess, 2*n)
	}
}

func TestCrashMidWriteKeepsEveryCommittedEntry(t *testing.T) {
	dir := t.TempDir()
	cmd := helperCmd(t, "loop", dir, 0)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Read what the helper reports committed; kill it after 25 commits.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		io.Copy(io.Discard, out)
	}()
	committed := map[int64]int{}
	deadline := time.After(2 * time.Minute)
	killed := false
	for !killed {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("helper stopped writing before it was killed (see its stderr above)")
			}
			recordCommitted(t, committed, l)
			if len(committed) == 25 {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		case <-deadline:
			t.Fatalf("helper committed only %d entries in 2 minutes", len(committed))
		}
	}
	// Lines written before the kill are commits too.
	for l := range lines {
		recordCommitted(t, committed, l)
	}
	if err := waitWithin(t, cmd, time.Minute); err == nil {
		t.Fatal("helper exited cleanly; it should have been killed")
	}

	s := open(t, dir)
	var check string
	if err := rawDB(t, dir).QueryRow("PRAGMA integrity_check").Scan(&check); err != nil {
		t.Fatal(err)
	}
	if check != "ok" {
		t.Fatalf("integrity_check after kill -9: %s", check)
	}
	ctx := context.Background()
	for id, i := range committed {
		e, err := s.Get(ctx, id)
		if err != nil {
			t.Fatalf("committed entry %d lost: %v", id, err)
		}
		if e.State != history.StateDone || e.Imported != i || len(e.Summary) < 64<<10 {
			t.Fatalf("committed entry %d came back as state %s, imported %d, summary %d bytes", id, e.State, e.Imported, len(e.Summary))
		}
	}
	// The store still takes writes after the crash.
	if err := beginFinish(s, "after-crash", 0); err != nil {
		t.Fatalf("write after the crash: %v", err)
	}
}

func recordCommitted(t *testing.T, m map[int64]int, line string) {
	t.Helper()
	var id int64
	var i int
	if _, err := fmt.Sscanf(line, "committed %d %d", &id, &i); err != nil {
		t.Fatalf("helper said %q: %v", line, err)
	}
	m[id] = i
}
