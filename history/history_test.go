package history_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m7import/m7import/history"
)

var t0 = time.Date(2026, 11, 25, 2, 0, 1, 123456789, time.UTC)

func intp(n int) *int { return &n }

func open(t *testing.T, dir string) *history.Store {
	t.Helper()
	s, err := history.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// entry is an import of file into task, started at t0 plus i minutes.
func entry(i int, file, sha, task string) history.Entry {
	return history.Entry{
		File: "/data/" + file, SHA256: sha, TaskID: task, TaskName: "task " + task, Rule: 2, AppKey: "ak",
		Report: "/data/" + file + ".results.csv", Meta: "/data/" + file + ".results.csv.meta.json",
		Journal: "/data/" + file + ".results.csv.journal", Source: history.SourceCLI,
		StartedAt: t0.Add(time.Duration(i) * time.Minute),
	}
}

func begin(t *testing.T, s *history.Store, e history.Entry) int64 {
	t.Helper()
	id, err := s.Begin(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func finish(t *testing.T, s *history.Store, id int64, state history.State, imported, unconfirmed int) {
	t.Helper()
	err := s.Finish(context.Background(), id, history.Entry{
		State: state, Rows: imported + unconfirmed, Valid: imported + unconfirmed,
		Imported: imported, Unconfirmed: unconfirmed, FinishedAt: t0.Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestBeginFinishGetRoundTrip(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	e := entry(0, "leads.csv", "abc123", "T1")
	e.NumberTotalBefore = intp(1968)
	id, err := s.Begin(ctx, e)
	if err != nil {
		t.Fatal(err)
	}

	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := e
	want.ID, want.Kind, want.State, want.FileName = id, history.KindImport, history.StateRunning, "leads.csv"
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after Begin:\n got %+v\nwant %+v", got, want)
	}

	summary := json.RawMessage(`{"rows":10,"imported":7,"invalid":1,"duplicate":1,"failed":1,"exit_code":3}`)
	fin := history.Entry{
		State: history.StateDone, Attention: "/data/leads.attention.csv",
		Rows: 10, Valid: 8, Imported: 7, Invalid: 1, Duplicate: 1, Failed: 1,
		NumberTotalAfter: intp(1975), ExitCode: 3, Error: "1 row failed",
		FinishedAt: t0.Add(90 * time.Second), Summary: summary,
	}
	if err := s.Finish(ctx, id, fin); err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want.State, want.Attention = history.StateDone, fin.Attention
	want.Rows, want.Valid, want.Imported, want.Invalid, want.Duplicate, want.Failed = 10, 8, 7, 1, 1, 1
	want.NumberTotalAfter, want.ExitCode, want.Error = intp(1975), 3, "1 row failed"
	want.FinishedAt, want.Summary = fin.FinishedAt, summary
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after Finish:\n got %+v\nwant %+v", got, want)
	}
}

func TestTimesAreStoredAsUTCRFC3339Text(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	local := time.Date(2026, 11, 25, 10, 0, 1, 5, time.FixedZone("CST", 8*3600))
	id := begin(t, s, history.Entry{File: "/f.csv", SHA256: "x", TaskID: "T", StartedAt: local})
	var raw string
	if err := rawDB(t, dir).QueryRow("SELECT started_at FROM imports WHERE id = ?", id).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != "2026-11-25T02:00:01.000000005Z" {
		t.Fatalf("started_at stored as %q, want 2026-11-25T02:00:01.000000005Z", raw)
	}
	got, err := s.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StartedAt.Equal(local) || got.StartedAt.Location() != time.UTC {
		t.Fatalf("StartedAt read back as %v, want %v in UTC", got.StartedAt, local)
	}
	if !got.FinishedAt.IsZero() {
		t.Fatalf("a running import has FinishedAt %v", got.FinishedAt)
	}
}

func TestFinishKeepsWhatItIsNotGiven(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	e := entry(0, "a.csv", "h", "T1")
	e.NumberTotalBefore = intp(5)
	e.Summary = json.RawMessage(`{"started":true}`)
	id := begin(t, s, e)
	if err := s.Finish(ctx, id, history.Entry{State: history.StateCancelled, FinishedAt: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Report != e.Report || got.Meta != e.Meta || got.Journal != e.Journal {
		t.Errorf("paths changed: %q %q %q", got.Report, got.Meta, got.Journal)
	}
	if got.NumberTotalBefore == nil || *got.NumberTotalBefore != 5 || got.NumberTotalAfter != nil {
		t.Errorf("numberTotal before/after = %v/%v, want 5/nil", got.NumberTotalBefore, got.NumberTotalAfter)
	}
	if string(got.Summary) != `{"started":true}` || got.File != e.File || got.TaskID != "T1" || got.State != history.StateCancelled {
		t.Errorf("got %+v", got)
	}
}

func TestRefusals(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	id := begin(t, s, entry(0, "a.csv", "h", "T1"))
	noFile := entry(0, "a.csv", "h", "T1")
	noFile.File = ""
	noHash := entry(0, "a.csv", "", "T1")
	noTask := entry(0, "a.csv", "h", "")
	noStart := entry(0, "a.csv", "h", "T1")
	noStart.StartedAt = time.Time{}
	badSummary := entry(0, "a.csv", "h", "T1")
	badSummary.Summary = json.RawMessage(`{"rows":`)
	done := history.Entry{State: history.StateDone, FinishedAt: t0}
	tests := []struct {
		name     string
		call     func() error
		notFound bool
	}{
		{"begin without file", func() error { _, err := s.Begin(ctx, noFile); return err }, false},
		{"begin without hash", func() error { _, err := s.Begin(ctx, noHash); return err }, false},
		{"begin without task", func() error { _, err := s.Begin(ctx, noTask); return err }, false},
		{"begin without start time", func() error { _, err := s.Begin(ctx, noStart); return err }, false},
		{"begin with a summary that is not JSON", func() error { _, err := s.Begin(ctx, badSummary); return err }, false},
		{"finish as running", func() error {
			return s.Finish(ctx, id, history.Entry{State: history.StateRunning, FinishedAt: t0})
		}, false},
		{"finish without time", func() error { return s.Finish(ctx, id, history.Entry{State: history.StateDone}) }, false},
		{"finish unknown id", func() error { return s.Finish(ctx, id+100, done) }, true},
		{"get unknown id", func() error { _, err := s.Get(ctx, id+100); return err }, true},
		{"update paths of unknown id", func() error { return s.UpdatePaths(ctx, id+100, history.Paths{}) }, true},
		{"unknown report", func() error { _, err := s.ByReport(ctx, "/nowhere.csv"); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, history.ErrNotFound) != tt.notFound {
				t.Fatalf("error %v: ErrNotFound is %v, want %v", err, !tt.notFound, tt.notFound)
			}
		})
	}
	got, err := s.Get(ctx, id)
	if err != nil || got.State != history.StateRunning {
		t.Fatalf("refused calls changed the entry: %+v, %v", got, err)
	}
}

func TestListIsNewestFirstAndFilters(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	// Started out of id order on purpose: newest means latest start.
	ids := map[string]int64{}
	for _, c := range []struct {
		name string
		min  int
		task string
		done bool
	}{{"b", 2, "T1", true}, {"a", 1, "T2", true}, {"d", 4, "T1", false}, {"c", 3, "T2", false}} {
		ids[c.name] = begin(t, s, entry(c.min, c.name+".csv", c.name, c.task))
		if c.done {
			finish(t, s, ids[c.name], history.StateDone, 1, 0)
		}
	}
	tests := []struct {
		name string
		opts history.ListOptions
		want []string
	}{
		{"all", history.ListOptions{}, []string{"d", "c", "b", "a"}},
		{"limit", history.ListOptions{Limit: 2}, []string{"d", "c"}},
		{"second page", history.ListOptions{Limit: 2, Offset: 2}, []string{"b", "a"}},
		{"offset past the end", history.ListOptions{Offset: 10}, nil},
		{"one task", history.ListOptions{TaskID: "T1"}, []string{"d", "b"}},
		{"running", history.ListOptions{State: history.StateRunning}, []string{"d", "c"}},
		{"running in T2", history.ListOptions{State: history.StateRunning, TaskID: "T2"}, []string{"c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, err := s.List(ctx, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.SHA256)
				if e.ID != ids[e.SHA256] {
					t.Errorf("%s has id %d, want %d", e.SHA256, e.ID, ids[e.SHA256])
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("List = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestImportedContentFindsEarlierImportsUnderAnyName(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	imported := begin(t, s, entry(1, "D.csv", "same", "T1"))
	finish(t, s, imported, history.StateDone, 1968, 0)
	nothingKept := begin(t, s, entry(2, "D-all-invalid.csv", "same", "T1"))
	finish(t, s, nothingKept, history.StateFailed, 0, 0)
	inDoubt := begin(t, s, entry(3, "D-doubt.csv", "same", "T1"))
	finish(t, s, inDoubt, history.StateFailed, 0, 1000)
	otherTask := begin(t, s, entry(4, "D.csv", "same", "T2"))
	finish(t, s, otherTask, history.StateDone, 10, 0)
	otherContent := begin(t, s, entry(5, "E.csv", "other", "T1"))
	finish(t, s, otherContent, history.StateDone, 10, 0)
	running := begin(t, s, entry(6, "D-copy.csv", "same", "T1")) // or killed before it finished

	es, err := s.ImportedContent(ctx, "same", "T1")
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, e := range es {
		got = append(got, e.ID)
	}
	want := []int64{running, inDoubt, imported}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ImportedContent = %v, want %v (running, in doubt, imported; newest first)", got, want)
	}
	if es[2].FileName != "D.csv" {
		t.Errorf("earliest match is %q, want D.csv", es[2].FileName)
	}
	none, err := s.ImportedContent(ctx, "never", "T1")
	if err != nil || len(none) != 0 {
		t.Fatalf("ImportedContent(unknown content) = %v, %v; want none", none, err)
	}
}

func TestReportRenamedAsideKeepsItsEntry(t *testing.T) {
	s := open(t, t.TempDir())
	ctx := context.Background()
	first := begin(t, s, entry(1, "B.csv", "h1", "T1"))
	finish(t, s, first, history.StateDone, 5, 0)
	report := "/data/B.csv.results.csv"
	got, err := s.ByReport(ctx, report)
	if err != nil || got.ID != first {
		t.Fatalf("ByReport = %d, %v; want %d", got.ID, err, first)
	}

	aside := history.Paths{
		Report:  "/data/B.results.20261125T020001.csv",
		Meta:    "/data/B.results.20261125T020001.csv.meta.json",
		Journal: "/data/B.results.20261125T020001.csv.journal",
	}
	if err := s.UpdatePaths(ctx, first, aside); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ByReport(ctx, report); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("old report path still found after renaming aside: %v", err)
	}
	got, err = s.ByReport(ctx, aside.Report)
	if err != nil || got.ID != first || got.Meta != aside.Meta || got.Journal != aside.Journal || got.Attention != "" {
		t.Fatalf("ByReport(renamed) = %+v, %v", got, err)
	}
	second := begin(t, s, entry(2, "B.csv", "h2", "T1"))
	got, err = s.ByReport(ctx, report)
	if err != nil || got.ID != second {
		t.Fatalf("ByReport after the new run = %d, %v; want %d", got.ID, err, second)
	}
}

func TestReopenKeepsEntriesAndSchema(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := history.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	id := begin(t, s, entry(0, "a.csv", "h", "T1"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	if got, err := s.Get(ctx, id); err != nil || got.SHA256 != "h" {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	var versions int
	if err := rawDB(t, dir).QueryRow("SELECT COUNT(*) FROM schema_version").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 2 { // one row per migration step, applied once
		t.Fatalf("schema_version has %d rows after reopening, want 2", versions)
	}
	st, err := os.Stat(filepath.Join(dir, history.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("history.db mode %v, want 0600", st.Mode().Perm())
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Close()
	if _, err := rawDB(t, dir).Exec("INSERT INTO schema_version (version) VALUES (99)"); err != nil {
		t.Fatal(err)
	}
	_, err := history.Open(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "upgrade m7import") || !strings.Contains(err.Error(), dir) {
		t.Fatalf("Open(newer schema) error = %v, want one naming the file and saying to upgrade", err)
	}
}

func TestOpenInUnusableFolderSaysWhatToDo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := history.Open(context.Background(), filepath.Join(file, "sub"))
	if err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("Open under a regular file: %v", err)
	}
}

func TestTwoStoresInOneProcessWriteAtOnce(t *testing.T) {
	dir := t.TempDir()
	stores := []*history.Store{open(t, dir), open(t, dir)}
	const writers, each = 4, 15
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*writers)
	for si, s := range stores {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := beginFinish(s, fmt.Sprintf("s%d-w%d-%d", si, w, i), i); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	es, err := stores[0].List(context.Background(), history.ListOptions{State: history.StateDone})
	if err != nil {
		t.Fatal(err)
	}
	if want := len(stores) * writers * each; len(es) != want {
		t.Fatalf("%d entries done, want %d", len(es), want)
	}
}

// beginFinish records one whole import, as a front end does.
func beginFinish(s *history.Store, name string, i int) error {
	ctx := context.Background()
	e := entry(i, name+".csv", name, "T1")
	id, err := s.Begin(ctx, e)
	if err != nil {
		return err
	}
	e.State, e.Imported, e.FinishedAt = history.StateDone, 1, e.StartedAt.Add(time.Second)
	e.Summary = json.RawMessage(fmt.Sprintf(`{"file":%q,"imported":1}`, name))
	return s.Finish(ctx, id, e)
}

func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dir, history.FileName)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A history written by the first version of the schema opens, keeps its
// entries, and can record a rollback.
func TestMarkRolledBackAfterMigratingAVersion1History(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir)
	id := begin(t, s, entry(0, "a.csv", "h", "T1"))
	s.Close()
	// Take the database back to version 1, as an older m7import left it.
	db := rawDB(t, dir)
	for _, q := range []string{
		"ALTER TABLE imports DROP COLUMN rolled_back_at",
		"ALTER TABLE imports DROP COLUMN rolled_back_deleted",
		"DELETE FROM schema_version WHERE version = 2",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	s = open(t, dir)
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	if err := s.MarkRolledBack(ctx, id, 42, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, id)
	if err != nil || !got.RolledBackAt.Equal(at) || got.RolledBackDeleted != 42 || got.SHA256 != "h" {
		t.Fatalf("%+v, %v", got, err)
	}
	if err := s.MarkRolledBack(ctx, id+100, 1, at); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("an unknown id: %v", err)
	}
}
