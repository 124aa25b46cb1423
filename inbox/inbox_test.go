package inbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/job"
)

func TestWantedTakesLeadFilesOnly(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"leads.csv", true},
		{"LEADS.XLSX", true},
		{"crm export.tsv", true},
		{"list.txt", true},
		{"old.xls", true}, // taken, so that it lands in failed/ with how to convert it
		{"~$leads.xlsx", false},
		{".leads.csv", false},
		{"leads.csv.tmp", false},
		{"leads.csv.part", false},
		{"leads.xlsx.crdownload", false},
		{"summary.jsonl", false},
		{"notes.pdf", false},
	}
	for _, tt := range tests {
		if got := Wanted(tt.name); got != tt.want {
			t.Errorf("Wanted(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestParseConfigRefusesMistakes(t *testing.T) {
	tests := []struct {
		name, json string
		ok         bool
	}{
		{"routes and map", `{"routes":[{"match":"vip-*.xlsx","task_id":"A"},{"match":"*","task_name":"B","create_task":true}],"map":{"number":"手机","name":"客户"}}`, true},
		{"per-route settings", `{"routes":[{"match":"*.csv","task_id":"A","map":{"agent":"坐席"},"rule":2,"sheet":"S"}]}`, true},
		{"empty", `{}`, true},
		{"unknown key", `{"route":[]}`, false},
		{"no match", `{"routes":[{"task_id":"A"}]}`, false},
		{"bad glob", `{"routes":[{"match":"[","task_id":"A"}]}`, false},
		{"both task keys", `{"routes":[{"match":"*","task_id":"A","task_name":"B"}]}`, false},
		{"create without name", `{"routes":[{"match":"*","task_id":"A","create_task":true}]}`, false},
		{"unknown field", `{"map":{"phone2":"x"}}`, false},
		{"empty header", `{"map":{"number":""}}`, false},
		{"bad rule", `{"rule":7}`, false},
		{"two values", `{} {}`, false},
		{"not json", `routes: *`, false},
	}
	for _, tt := range tests {
		_, err := ParseConfig([]byte(tt.json))
		if (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: %v does not wrap ErrBadConfig", tt.name, err)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"routes":[{"match":"vip-*.xlsx","task_id":"A"},{"match":"*","task_name":"B","create_task":true}],"map":{"number":"手机"}}`))
	f.Add([]byte(`{"rule":2,"sheet":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		// Whatever it accepts, it can route any name without failing.
		for _, name := range []string{"a.csv", "vip-1.xlsx", ""} {
			c.route(name)
		}
	})
}

func TestRoutesFirstMatchWinsAndFlagsFillTheRest(t *testing.T) {
	cfg, err := ParseConfig([]byte(`{"routes":[{"match":"vip-*.xlsx","task_id":"A","sheet":"VIP"},{"match":"*.csv","task_name":"B","create_task":true,"rule":2}],"map":{"number":"手机"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b := &Inbox{o: Options{Task: job.TaskRef{ID: "FLAG"}, Job: job.Options{Rule: 1, Read: importer.Options{Sheet: "flag-sheet"}}}}
	tests := []struct {
		name, task, taskName, sheet string
		rule                        int
		create                      bool
	}{
		{"vip-1.xlsx", "A", "", "VIP", 1, false},
		{"crm.csv", "", "B", "flag-sheet", 2, true},
		{"other.xlsx", "FLAG", "", "flag-sheet", 1, false},
	}
	for _, tt := range tests {
		s, err := b.settingsFor(cfg, tt.name)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if s.task.ID != tt.task || s.task.Name != tt.taskName || (s.task.Create != nil) != tt.create || s.read.Sheet != tt.sheet || int(s.rule) != tt.rule {
			t.Errorf("%s: %+v", tt.name, s)
		}
		if s.read.Map[importer.FieldNumber] != "手机" {
			t.Errorf("%s: map %v, want the config's", tt.name, s.read.Map)
		}
	}
	b.o.Task = job.TaskRef{}
	if _, err := b.settingsFor(Config{}, "x.csv"); err == nil {
		t.Error("a file with no route and no task flag was given settings")
	}
}

func TestContentErrorSeparatesFilesFromRuns(t *testing.T) {
	tests := []struct {
		err     error
		content bool
	}{
		{fmt.Errorf("a.csv: %w", importer.ErrNoNumberColumn), true},
		{fmt.Errorf("a.xls: %w", importer.ErrUnsupportedFormat), true},
		{&importer.RowError{Row: 3, Err: importer.ErrCorruptFile}, true},
		{fmt.Errorf("a.csv: %w", importer.ErrFileChanged), false},
		{errors.New("dial tcp: connection refused"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := ContentError(tt.err); got != tt.content {
			t.Errorf("ContentError(%v) = %v, want %v", tt.err, got, tt.content)
		}
	}
}

func TestFreeNameAddsASuffixOnAClash(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.csv", "b.csv", "b-2.csv", "c.results.csv"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	side := func(n string) []string { return []string{sidesOf(dir, n, "csv").report} }
	tests := []struct{ in, want string }{{"a.csv", "a-2.csv"}, {"b.csv", "b-3.csv"}, {"new.csv", "new.csv"}, {"c.csv", "c-2.csv"}}
	for _, tt := range tests {
		if got, err := freeName(dir, tt.in, side); err != nil || got != tt.want {
			t.Errorf("freeName(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestLedgerKeepsEntriesAcrossOpens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, err := OpenLedger(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 25, 2, 0, 1, 0, time.UTC)
	id, err := l.Add(ctx, Entry{SHA256: "s", TaskID: "T", Name: "a.csv", State: StatePending, StartedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Update(ctx, id, Entry{SHA256: "s", TaskID: "T", Name: "a.csv", State: StateImported, MovedTo: "done/a.csv", StartedAt: at, FinishedAt: at.Add(time.Minute), Summary: []byte(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l, err = OpenLedger(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e, ok, err := l.Find(ctx, "s", "T", StateImported)
	if err != nil || !ok || e.MovedTo != "done/a.csv" || !e.StartedAt.Equal(at) || string(e.Summary) != `{"x":1}` {
		t.Fatalf("Find = %+v, %v, %v", e, ok, err)
	}
	if _, ok, _ := l.Find(ctx, "s", "OTHER", StateImported); ok {
		t.Error("the same content in another task was found: the key is (hash, task)")
	}
}

func TestASecondOpenOfTheFolderIsRefused(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(context.Background(), dir, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), dir, nil, Options{})
	if !errors.Is(err, ErrBusy) || job.CodeOf(err) != job.CodeFailed {
		t.Fatalf("second Open: %v", err)
	}
	b.Close()
	b, err = Open(context.Background(), dir, nil, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	b.Close()
}
