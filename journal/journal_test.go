package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/journal"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/settle"
)

func batch(seq, first, n int) *chunker.Batch {
	b := &chunker.Batch{Seq: seq}
	for i := 0; i < n; i++ {
		b.Records = append(b.Records, importer.Record{Row: first + i})
	}
	return b
}

var id = journal.Identity{InputSHA256: "abc", TaskID: "t1", Rule: 2, BatchSize: 10, Columns: map[string]string{"number": "手机"}, Policy: "strict", Region: "CN"}

func TestJournalRoundTripAndTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv.journal")
	j, err := journal.Create(path, "in.csv", id, 7, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b1, b2, b3 := batch(1, 2, 10), batch(2, 12, 10), batch(3, 22, 5)
	must(t, j.Sending(b1))
	must(t, j.Done(b1, pipeline.Outcome{Status: importer.Imported, RequestID: "r1"}))
	must(t, j.Sending(b2))
	must(t, j.Done(b2, pipeline.Outcome{Status: importer.Failed, Reason: "code 400"}))
	must(t, j.Sending(b3))
	must(t, j.Close())
	// The process dies in the middle of the next line.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(`{"type":"imported","batch":3,"req`)
	must(t, err)
	must(t, f.Close())

	log, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if log.NumberTotalBefore != 7 || log.Complete || log.Identity.Diff(id) != nil {
		t.Fatalf("log %+v", log)
	}
	want := map[int]string{1: "imported", 2: "failed", 3: "sending"}
	for seq, st := range want {
		if log.Batches[seq].State != st {
			t.Errorf("batch %d: %s, want %s", seq, log.Batches[seq].State, st)
		}
	}
	if log.Batches[1].RequestID != "r1" || log.Batches[3].FirstRow != 22 || log.Batches[3].Rows != 5 {
		t.Errorf("batches %+v %+v", log.Batches[1], log.Batches[3])
	}

	// Resuming under rule 2: the imported batch keeps its request id, the
	// failed one is resent, the one of unknown fate is not.
	j2, err := journal.Resume(path, log, nil, 0, journal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if r, ok := j2.Prior(b1); !ok || r.Status != importer.Imported || r.RequestID != "r1" {
		t.Errorf("batch 1: %+v %v", r, ok)
	}
	if _, ok := j2.Prior(b2); ok {
		t.Error("failed batch 2 would not be resent")
	}
	if r, ok := j2.Prior(b3); !ok || r.Status != importer.Unconfirmed {
		t.Errorf("batch 3 of unknown fate: %+v %v", r, ok)
	}
	// The torn line did not corrupt what follows it.
	must(t, j2.Sending(b2))
	must(t, j2.Done(b2, pipeline.Outcome{Status: importer.Imported, RequestID: "r2"}))
	must(t, j2.Complete())
	log2, err := journal.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !log2.Complete || log2.Batches[2].State != "imported" {
		t.Fatalf("after resume: %+v", log2.Batches[2])
	}
}

func TestResendUnconfirmedAndRule1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	for _, tc := range []struct {
		rule   api.Rule
		resend bool
		settle bool
	}{{2, false, true}, {2, true, false}, {1, false, false}} {
		ident := id
		ident.Rule = tc.rule
		j, err := journal.Create(path, "in", ident, 0, journal.Options{})
		must(t, err)
		must(t, j.Sending(batch(1, 2, 3)))
		must(t, j.Close())
		log, err := journal.Read(path)
		must(t, err)
		j2, err := journal.Resume(path, log, nil, 0, journal.Options{ResendUnconfirmed: tc.resend})
		must(t, err)
		if _, ok := j2.Prior(batch(1, 2, 3)); ok != tc.settle {
			t.Errorf("rule %d resend %v: kept back %v", tc.rule, tc.resend, ok)
		}
		must(t, j2.Close())
	}
}

func TestSettleByNumberTotal(t *testing.T) {
	tests := []struct {
		name    string
		states  map[int][2]int // seq -> {state: 0 imported, 1 unknown; rows}
		before  int
		now     int
		settled map[int]bool
	}{
		{"one unknown, processed", map[int][2]int{1: {0, 500}, 2: {1, 500}}, 100, 1100, map[int]bool{2: true}},
		{"one unknown, not processed", map[int][2]int{1: {0, 500}, 2: {1, 500}}, 100, 600, map[int]bool{2: false}},
		{"two unknown, both", map[int][2]int{1: {1, 500}, 2: {1, 500}}, 0, 1000, map[int]bool{1: true, 2: true}},
		{"two unknown, one of equal size: undecided", map[int][2]int{1: {1, 500}, 2: {1, 500}}, 0, 500, map[int]bool{}},
		{"two unknown, sizes tell", map[int][2]int{1: {1, 500}, 2: {1, 120}}, 0, 120, map[int]bool{1: false, 2: true}},
		{"count fits nothing (task changed by someone else)", map[int][2]int{1: {1, 500}}, 0, 250, map[int]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j")
			j, err := journal.Create(path, "in", id, tt.before, journal.Options{})
			must(t, err)
			first := 2
			for seq := 1; seq <= len(tt.states); seq++ {
				st := tt.states[seq]
				b := batch(seq, first, st[1])
				first += st[1]
				must(t, j.Sending(b))
				if st[0] == 0 {
					must(t, j.Done(b, pipeline.Outcome{Status: importer.Imported}))
				}
			}
			must(t, j.Close())
			log, err := journal.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			unknown, delta, _ := log.InDoubt(tt.now)
			got, _ := settle.Decide(unknown, delta)
			if len(got) != len(tt.settled) {
				t.Fatalf("settled %v, want %v", got, tt.settled)
			}
			for k, v := range tt.settled {
				if got[k] != v {
					t.Fatalf("settled %v, want %v", got, tt.settled)
				}
			}
		})
	}
}

func TestIdentityDiff(t *testing.T) {
	other := id
	other.InputSHA256, other.TaskID = "def", "t2"
	if d := id.Diff(other); len(d) != 2 {
		t.Fatalf("diff %v", d)
	}
}

func TestLockRefusesASecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	unlock, err := journal.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := journal.Lock(path); !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := journal.Lock(path)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}

func TestMetaRoundTrip(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.csv")
	m := journal.Meta{TaskID: "t", Rule: 2, NumberTotalBefore: 3, NumberTotalAfter: 9, Imported: 6}
	if err := journal.WriteMeta(report, m); err != nil {
		t.Fatal(err)
	}
	got, err := journal.ReadMeta(report)
	if err != nil || got.TaskID != "t" || got.NumberTotalAfter != 9 || got.Version != 1 {
		t.Fatalf("%+v %v", got, err)
	}
}

// must fails the test on a journal error the test does not expect.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// FuzzRead feeds journal.Read arbitrary files: it never panics, and what it
// accepts it accepts again after Resume repairs a torn last line.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"type":"run","identity":{"input_sha256":"a","task_id":"t","rule":2,"batch_size":10},"number_total_before":0}
{"type":"sending","batch":1,"first_row":2,"last_row":11,"rows":10,"slot":0}
{"type":"attempt","batch":1}
{"type":"imported","batch":1,"request_id":"r"}
{"type":"sending","batch":2,"rows":9,"slot":1}
{"type":"unsent","batch":2}
{"type":"resume","number_total":10}
{"type":"settled","batch":1}
{"type":"complete"}
{"type":"imported","batch":3,"req`))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"type":"run"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "j")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		log, err := journal.Read(path)
		if err != nil {
			return
		}
		unknown, _, _ := log.InDoubt(0)
		for seq, rows := range unknown {
			if _, _, ok := log.Planned(seq); !ok && rows > 0 {
				t.Fatalf("batch %d in doubt was never cut", seq)
			}
		}
		j, err := journal.Resume(path, log, nil, 0, journal.Options{})
		if err != nil {
			return
		}
		must(t, j.Close())
		if _, err := journal.Read(path); err != nil {
			t.Fatalf("a journal read once is unreadable after Resume: %v", err)
		}
	})
}
