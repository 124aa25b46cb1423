package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/api/sim"
	"github.com/m7import/m7import/history"
	"github.com/m7import/m7import/job"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/tasklock"
)

// lines splits stderr into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func TestMistypedFlagIsOneLineWithTheClosestFlags(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	tests := []struct {
		args []string
		want []string // in the one line
		not  []string
	}{
		{[]string{"import", "x.csv", "--task", "T"}, []string{"unknown flag --task", "did you mean --task-id or --task-name?", "run 'm7import import --help'"}, nil},
		{[]string{"import", "--taks-id", "T", "x.csv"}, []string{"did you mean --task-id?"}, nil},
		{[]string{"validate", "x.csv", "--shet", "A"}, []string{"did you mean --sheet?", "m7import validate --help"}, nil},
		{[]string{"validate", "x.csv", "--task-id", "T"}, []string{"unknown flag --task-id", "m7import validate --help"}, []string{"did you mean --task-id"}},
		{[]string{"numbers", "delete", "--task", "T"}, []string{"did you mean --task-id?", "m7import numbers delete --help"}, nil},
		{[]string{"task", "list", "--stat", "READY"}, []string{"did you mean --status?", "m7import task list --help"}, nil},
		{[]string{"rollback", "r.csv", "--yess"}, []string{"did you mean --yes?", "m7import rollback --help"}, nil},
		{[]string{"sim", "--adr", ":0"}, []string{"did you mean --addr?", "m7import sim --help"}, nil},
		{[]string{"demo", "--fil", "x.csv"}, []string{"did you mean --file?"}, nil},
		{[]string{"history", "--limt", "3"}, []string{"did you mean --limit?", "m7import history --help"}, nil},
		{[]string{"import", "x.csv", "--zzzzzz"}, []string{"unknown flag --zzzzzz (run 'm7import import --help'"}, []string{"did you mean"}},
		{[]string{"import", "x.csv", "--task-id"}, []string{"--task-id needs a value", "m7import import --help"}, nil},
		{[]string{"import", "x.csv", "--task-id", "T", "--rule", "x"}, []string{"--rule", "m7import import --help"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := e.run(t, context.Background(), tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d", r.code, exitUsage)
			}
			ls := lines(r.stder)
			if len(ls) != 1 {
				t.Fatalf("stderr has %d lines, want 1:\n%s", len(ls), r.stder)
			}
			for _, w := range tt.want {
				if !strings.Contains(ls[0], w) {
					t.Errorf("stderr %q lacks %q", ls[0], w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(ls[0], n) {
					t.Errorf("stderr %q has %q", ls[0], n)
				}
			}
		})
	}
}

func TestMistypedFlagExitsTwoFromTheBinary(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
	defer cancel()
	cmd := e.proc(ctx, "import", "x.csv", "--task", "T")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(waitProcess(t, cmd)); code != int(exitUsage) {
		t.Errorf("exit %d, want %d", code, exitUsage)
	}
	ls := lines(stderr.String())
	if len(ls) != 1 || !strings.Contains(ls[0], "did you mean --task-id or --task-name?") {
		t.Errorf("stderr = %q, want one line suggesting --task-id or --task-name", stderr.String())
	}
}

func TestHelpShowsOnlyTheCommandsFlags(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	tests := []struct {
		args     []string
		want     []string
		not      []string
		wantCode exitCode
	}{
		{
			args: []string{"validate", "--help"},
			want: []string{"--map", "--sheet", "--header-row", "--no-header", "--encoding", "--region", "--max-invalid",
				"--report", "--attention", "--json", "NAME.check.csv", "Examples:", "3 no row is valid", "(default CN)"},
			not: []string{"--task-id", "--task-name", "--rate", "--max-retries", "--resume", "--dry-run", "--batch-size",
				"--secret", "--appkey", "--base-url", "default true", "--concurrency", "--data-dir"},
		},
		{
			args: []string{"import", "--help"},
			want: []string{"Task:", "Reading the file:", "Sending:", "Resuming a stopped run:", "--task-id", "--rate",
				"(default 5)", "(default 1)", "--resume", "--dry-run", "Examples:", "m7import import leads.csv"},
			not: []string{"-dry-run (default true)", "Other flags:", "\n  -task-id"},
		},
		{args: []string{"history", "--help"}, want: []string{"--json", "--limit", "--task-id", "Examples:", "(default 20)"}},
		{args: []string{"numbers", "delete", "--help"}, want: []string{"--lock-wait", "(default 10s)", "--data-dir"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := e.run(t, context.Background(), tt.args...)
			if r.code != exitOK {
				t.Errorf("exit %d, want 0", r.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stder, w) {
					t.Errorf("help lacks %q:\n%s", w, r.stder)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(r.stder, n) {
					t.Errorf("help has %q:\n%s", n, r.stder)
				}
			}
			// Help is not a log: no times before its lines.
			if strings.HasPrefix(r.stder, "20") {
				t.Errorf("help starts with a time stamp: %q", r.stder[:40])
			}
		})
	}
}

func TestValidateRefusesASecretFlag(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	f := e.leads(t, "a.csv", validRows(1))
	r := e.run(t, context.Background(), "validate", f, "--secret", "s3cr3t")
	if r.code != exitUsage || !strings.Contains(r.stder, "M7_SECRET") || strings.Contains(r.stder, "s3cr3t") {
		t.Errorf("exit %d, stderr %q: want a usage error pointing at M7_SECRET, without the value", r.code, r.stder)
	}
}

func TestLogLinesOffATerminalStartWithRFC3339Time(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	f := e.leads(t, "a.csv", append(validRows(3), []string{"坏", "123", "", ""}))
	r := e.run(t, context.Background(), "import", f, "--task-id", task, "--json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stder)
	}
	ls := lines(r.stder)
	if len(ls) == 0 {
		t.Fatal("no log lines")
	}
	for _, l := range ls {
		stamp, _, ok := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339, stamp); !ok || err != nil {
			t.Errorf("log line without an RFC 3339 time: %q", l)
		}
	}
	// stdout (the --json data) is untouched.
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Errorf("--json line is not JSON: %v\n%s", err, r.stdout)
	}
}

func TestStampWriterTimesEachLineOnce(t *testing.T) {
	at := time.Date(2026, 11, 3, 2, 0, 5, 0, time.FixedZone("CST", 8*3600))
	var b bytes.Buffer
	w := newStampWriter(&b, func() time.Time { return at })
	for _, s := range []string{"one\ntw", "o\n", "delete? [y/N] ", "", "\nthree\n"} {
		if n, err := w.Write([]byte(s)); err != nil || n != len(s) {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	p := "2026-11-03T02:00:05.000+08:00 "
	want := p + "one\n" + p + "two\n" + p + "delete? [y/N] \n" + p + "three\n"
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
}

func TestMissingReportFolderNamesTheOption(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	f := e.leads(t, "a.csv", validRows(2))
	missing := filepath.Join(e.dir, "nonexist", "dir", "r.csv")
	for _, args := range [][]string{
		{"validate", f, "--report", missing},
		{"import", f, "--task-id", task, "--report", missing},
	} {
		r := e.run(t, context.Background(), args...)
		if r.code != exitFailed {
			t.Errorf("%s: exit %d, want %d", args[0], r.code, exitFailed)
		}
		want := "folder " + filepath.Dir(missing) + " does not exist: create it or choose another --report"
		if !strings.Contains(r.stder, want) {
			t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, r.stder)
		}
		if strings.Contains(r.stder, "journal.lock") {
			t.Errorf("%s: stderr speaks of the journal's lock:\n%s", args[0], r.stder)
		}
	}
	if n := len(e.srv.Numbers(task)); n != 0 {
		t.Errorf("%d numbers sent with a report that cannot be written", n)
	}
}

func TestUnreachableServerPointsAtTheBaseURL(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	e.env["M7_BASE_URL"] = closed
	f := e.leads(t, "a.csv", validRows(2))
	for _, args := range [][]string{
		{"import", f, "--task-id", "T", "--timeout", "5s"},
		{"task", "list"},
		{"numbers", "delete", "--task-id", "T", "--number", "13800138000"},
	} {
		r := e.run(t, context.Background(), args...)
		if r.code != exitFailed {
			t.Errorf("%v: exit %d, want %d", args, r.code, exitFailed)
		}
		want := "try: check M7_BASE_URL or --base-url (now " + closed + ") and the network"
		if !strings.Contains(r.stder, want) {
			t.Errorf("%v: stderr lacks %q:\n%s", args, want, r.stder)
		}
	}
}

func TestMaxInvalidRefusalSaysWhereTheRowsAre(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	f := e.leads(t, "a.csv", append(validRows(2), []string{"x", "123", "", ""}, []string{"y", "456", "", ""}))
	att := filepath.Join(e.dir, "fix.csv")
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"import", f, "--task-id", task, "--max-invalid", "1"},
			[]string{"a.results.csv", "--attention " + filepath.Join(e.dir, "a.fix.csv"), "raise --max-invalid"}},
		{[]string{"validate", f, "--max-invalid", "1"},
			[]string{"a.check.csv", "--attention"}},
		{[]string{"import", f, "--task-id", task, "--max-invalid", "1", "--attention", att},
			[]string{"fix the rows in " + att}},
	}
	for _, tt := range tests {
		r := e.run(t, context.Background(), tt.args...)
		if r.code != exitRefused {
			t.Errorf("%v: exit %d, want %d:\n%s", tt.args, r.code, exitRefused, r.stder)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stder, "try: ") || !strings.Contains(r.stder, w) {
				t.Errorf("%v: stderr lacks a hint with %q:\n%s", tt.args, w, r.stder)
			}
		}
	}
}

func TestHistoryListsImportsNewestFirst(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("回访")
	a := e.leads(t, "第一批.csv", validRows(3))
	b := e.leads(t, "b.csv", append(validRows(5)[3:], []string{"x", "123", "", ""}))
	for _, f := range []string{a, b} {
		if r := e.run(t, context.Background(), "import", f, "--task-id", task); r.code != exitOK {
			t.Fatalf("import %s: exit %d: %s", f, r.code, r.stder)
		}
	}
	r := e.run(t, context.Background(), "history", "--json")
	if r.code != exitOK {
		t.Fatalf("history: exit %d: %s", r.code, r.stder)
	}
	var es []history.Entry
	for _, l := range lines(r.stdout) {
		var en history.Entry
		if err := json.Unmarshal([]byte(l), &en); err != nil {
			t.Fatalf("history --json line %q: %v", l, err)
		}
		es = append(es, en)
	}
	if len(es) != 2 {
		t.Fatalf("%d entries, want 2:\n%s", len(es), r.stdout)
	}
	if es[0].FileName != "b.csv" || es[1].FileName != "第一批.csv" {
		t.Errorf("files %q, %q: want newest (b.csv) first", es[0].FileName, es[1].FileName)
	}
	if es[0].Imported != 2 || es[0].Invalid != 1 || es[0].Rows != 3 || es[1].Imported != 3 {
		t.Errorf("counts: %+v / %+v", es[0], es[1])
	}
	if es[0].TaskID != task || es[0].State != history.StateDone || es[0].SHA256 == "" || es[0].Report == "" {
		t.Errorf("entry lacks task, state, hash or report: %+v", es[0])
	}

	// The table, --limit, --task-id and show.
	r = e.run(t, context.Background(), "history", "--limit", "1")
	if ls := lines(r.stdout); r.code != exitOK || len(ls) != 2 || !strings.Contains(ls[1], "b.csv") || !strings.Contains(ls[0], "IMPORTED") {
		t.Errorf("history --limit 1: exit %d\n%s", r.code, r.stdout)
	}
	r = e.run(t, context.Background(), "history")
	ls := lines(r.stdout)
	if len(ls) != 3 {
		t.Fatalf("history: %d lines:\n%s", len(ls), r.stdout)
	}
	// Columns line up by display width, Chinese file names too.
	col := displayWidth(ls[0][:strings.Index(ls[0], "TASK")])
	for _, l := range ls[1:] {
		if i := strings.Index(l, "回访"); i < 0 || displayWidth(l[:i]) != col {
			t.Errorf("TASK column not aligned:\n%s", r.stdout)
		}
	}
	if r := e.run(t, context.Background(), "history", "--task-id", "other", "--json"); r.code != exitOK || r.stdout != "" {
		t.Errorf("history --task-id other: exit %d, %q", r.code, r.stdout)
	}
	r = e.run(t, context.Background(), "history", "show", "1", "--json")
	var sum map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum["file"] != a {
		t.Errorf("history show 1 --json: %v, file %v, want %s\n%s", err, sum["file"], a, r.stdout)
	}
	if r := e.run(t, context.Background(), "history", "show", "99"); r.code != exitFailed || !strings.Contains(r.stder, "no import #99") {
		t.Errorf("history show 99: exit %d, %s", r.code, r.stder)
	}
}

func TestNumbersDeleteWaitsForTheTaskLockThenRefuses(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	task := e.srv.CreateTask("t")
	f := e.leads(t, "a.csv", validRows(2))
	if r := e.run(t, context.Background(), "import", f, "--task-id", task); r.code != exitOK {
		t.Fatalf("import: %d %s", r.code, r.stder)
	}
	lock, err := tasklock.Acquire(context.Background(), e.env["M7_DATA_DIR"], e.env["M7_APPKEY"], task,
		tasklock.Options{Command: "m7import import other.csv"})
	if err != nil {
		t.Fatal(err)
	}
	r := e.run(t, context.Background(), "numbers", "delete", "--task-id", task, "--number", "13900000000", "--lock-wait", "300ms")
	if r.code != exitFailed || !strings.Contains(r.stder, "m7import import other.csv") || !strings.Contains(r.stder, "waiting up to 300ms") {
		t.Errorf("while locked: exit %d, want 1 naming the holder:\n%s", r.code, r.stder)
	}
	if n := len(e.srv.Numbers(task)); n != 2 {
		t.Errorf("task holds %d numbers, want 2: deleted while locked", n)
	}
	lock.Release()
	r = e.run(t, context.Background(), "numbers", "delete", "--task-id", task, "--number", "13900000000")
	if r.code != exitOK {
		t.Errorf("after release: exit %d: %s", r.code, r.stder)
	}
	if n := len(e.srv.Numbers(task)); n != 1 {
		t.Errorf("task holds %d numbers after the delete, want 1", n)
	}
}

func TestProgressNeverGoesBackwardsAndAddsUp(t *testing.T) {
	var b bytes.Buffer
	at := time.Unix(0, 0)
	p := &progressView{log: &b, name: "a.csv", every: time.Second, now: func() time.Time { return at }}
	// Snapshots as the pipeline sends them: valid sampled every 4096 rows
	// (done runs ahead of it), a late snapshot with older counts, a
	// resume's earlier batches counted done at once.
	for _, s := range []pipeline.Progress{
		{Read: 4096, Valid: 4000, Done: 0},
		{Read: 8192, Valid: 7951, Done: 11419},
		{Read: 4096, Valid: 4000, Done: 6000},
		{Read: 12288, Valid: 12000, Done: 12000},
	} {
		at = at.Add(2 * time.Second)
		p.update(s)
	}
	var prevDone int
	for _, l := range lines(b.String()) {
		var read, valid, done int
		var name string
		if _, err := fmt.Sscanf(l, "%s %d rows read, %d valid so far, %d of them done", &name, &read, &valid, &done); err != nil {
			t.Fatalf("progress line %q: %v", l, err)
		}
		if done > valid || valid > read || done < prevDone {
			t.Errorf("progress line %q does not add up or went backwards (previous done %d)", l, prevDone)
		}
		prevDone = done
	}
	if got := len(lines(b.String())); got != 4 {
		t.Errorf("%d progress lines, want 4:\n%s", got, b.String())
	}
}

func TestImportHelpFlagsParseLikeBefore(t *testing.T) {
	// validate keeps the import defaults it does not show.
	o, err := parseImportFlags([]string{"a.csv"}, stdio{Err: os.Stderr}, true)
	if err != nil {
		t.Fatal(err)
	}
	if !o.dryRun || o.batchSize != 2000 || o.rule != 1 {
		t.Errorf("validate options: dry run %v, batch %d, rule %d", o.dryRun, o.batchSize, o.rule)
	}
}

func TestSummaryCountsWhatThisRunSent(t *testing.T) {
	intp := func(n int) *int { return &n }
	base := func() job.Summary {
		return job.Summary{File: "a.csv", Report: "a.results.csv", TaskID: "T", NumberTotalBefore: intp(100), NumberTotalAfter: intp(130)}
	}
	tests := []struct {
		name   string
		resume bool
		edit   func(*job.Summary)
		want   []string
		not    []string
	}{
		{"rule 1 resume, server dropped some", true, func(s *job.Summary) {
			s.Rule = api.RuleThisTask
			s.Counts = pipeline.Counts{Rows: 80, Valid: 80, Imported: 80, SentThisRun: 40}
			s.KeptByServer = 30
		}, []string{"this run sent 40 rows", "the server kept 30 of the 40 rows this run sent (it drops numbers the task already holds)"},
			[]string{"of 80 imported", "under rule"}},
		{"rule 1, nothing dropped", false, func(s *job.Summary) {
			s.Rule = api.RuleThisTask
			s.Counts = pipeline.Counts{Rows: 30, Valid: 30, Imported: 30, SentThisRun: 30}
			s.KeptByServer = 30
		}, []string{"100 → 130 (+30)"}, []string{"kept", "this run sent"}},
		{"rule 2 mismatch and settled batches", false, func(s *job.Summary) {
			s.Rule = api.RuleNone
			s.Counts = pipeline.Counts{Rows: 20, Valid: 20, Imported: 20, SentThisRun: 20}
			s.KeptByServer = 30
			s.Mismatch = "the task grew by 30 numbers during this run, 10 more than the 20 rows it imported"
			s.SettledByCount = 2
		}, []string{"warning: the task grew by 30", "2 batches whose reply was lost were confirmed from the task's count"}, []string{"kept"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			r := &importRun{o: &importOptions{resume: tt.resume}, io: stdio{Err: &b}}
			s := base()
			tt.edit(&s)
			r.printSummary(s, nil)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("summary lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("summary has %q:\n%s", n, b.String())
				}
			}
		})
	}
}

func TestAFolderGivenAsInputIsNamed(t *testing.T) {
	e := newTestEnv(t, sim.Config{})
	r := e.run(t, context.Background(), "validate", e.dir)
	if r.code != exitFailed || !strings.Contains(r.stder, e.dir+" is a folder") || strings.Contains(r.stder, "unsupported file format") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stder)
	}
}

func TestProgressWithAKnownTotalNeverGoesBackwards(t *testing.T) {
	var w strings.Builder
	p := newProgressView(&w, false, false, "a.csv", false)
	p.every = 0
	snaps := []pipeline.Progress{
		{Read: 4096, Valid: 4000, Total: 10000, Done: 2000},
		{Read: 8192, Valid: 8000, Total: 10000, Done: 6000},
		{Read: 4096, Valid: 4000, Total: 10000, Done: 4000}, // a late, older snapshot
		{Read: 10300, Valid: 10000, Total: 10000, Done: 10000},
	}
	for _, s := range snaps {
		p.update(s)
	}
	want := []string{"2000 of 10000 valid rows done (20%)", "6000 of 10000 valid rows done (60%)", "6000 of 10000 valid rows done (60%)", "10000 of 10000 valid rows done (100%)"}
	lines := strings.Split(strings.TrimSpace(w.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("lines %q", lines)
	}
	for i := range want {
		if !strings.HasSuffix(lines[i], want[i]) {
			t.Errorf("line %d = %q, want %q", i, lines[i], want[i])
		}
	}
}
