package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/pipeline"
)

// rows makes n records, every invalidEvery-th one invalid.
func rows(n, invalidEvery int) *sliceReader {
	r := &sliceReader{}
	for i := 0; i < n; i++ {
		rec := importer.Record{Row: i + 2, Number: fmt.Sprint(13800000000 + i), Normalized: fmt.Sprint(13800000000 + i), Status: importer.Valid}
		if invalidEvery > 0 && i%invalidEvery == 0 {
			rec.Status, rec.Normalized, rec.Reason = importer.Invalid, "", "too short"
		}
		r.recs = append(r.recs, rec)
	}
	return r
}

type sliceReader struct {
	recs []importer.Record
	i    int
}

func (r *sliceReader) Next() (importer.Record, error) {
	if r.i == len(r.recs) {
		return importer.Record{}, io.EOF
	}
	r.i++
	return r.recs[r.i-1], nil
}

type collect struct{ recs []importer.Record }

func (c *collect) Write(r importer.Record) error { c.recs = append(c.recs, r); return nil }

type senderFunc func(ctx context.Context, b *chunker.Batch) pipeline.Outcome

func (f senderFunc) Send(ctx context.Context, b *chunker.Batch) pipeline.Outcome { return f(ctx, b) }

func checkOrder(t *testing.T, got []importer.Record, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("report has %d rows, want %d", len(got), n)
	}
	for i, r := range got {
		if r.Row != i+2 {
			t.Fatalf("report row %d is input row %d: out of order", i, r.Row)
		}
	}
}

func TestRunReportsEveryRowInInputOrderWhateverOrderBatchesFinish(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var mu sync.Mutex
	delays := map[int]time.Duration{}
	send := senderFunc(func(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
		mu.Lock()
		d, ok := delays[b.Seq]
		if !ok {
			d = time.Duration(rng.IntN(5)) * time.Millisecond
			delays[b.Seq] = d
		}
		mu.Unlock()
		time.Sleep(d)
		return pipeline.Outcome{Status: importer.Imported, RequestID: fmt.Sprintf("req-%d", b.Seq), Attempts: 2}
	})
	out := &collect{}
	res, err := pipeline.Run(context.Background(), rows(4600, 50), out, pipeline.Options{BatchSize: 100, Sender: send, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, out.recs, 4600)
	for _, r := range out.recs {
		switch r.Status {
		case importer.Imported:
			if r.Batch == 0 || r.RequestID != fmt.Sprintf("req-%d", r.Batch) {
				t.Fatalf("row %d: batch %d request %q", r.Row, r.Batch, r.RequestID)
			}
		case importer.Invalid:
			if r.Batch != 0 {
				t.Fatalf("invalid row %d has batch %d", r.Row, r.Batch)
			}
		default:
			t.Fatalf("row %d: status %s", r.Row, r.Status)
		}
	}
	if res.Imported+res.Invalid != res.Rows || res.Invalid != 92 || res.Batches != 46 || res.Retries != 46 {
		t.Fatalf("counts %+v", res.Counts)
	}
	if res.Stopped != nil {
		t.Fatalf("stopped: %v", res.Stopped)
	}
}

func TestRunBatchesAreCutInFileOrder(t *testing.T) {
	var seen []*chunker.Batch
	send := senderFunc(func(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
		seen = append(seen, b)
		return pipeline.Outcome{Status: importer.Imported}
	})
	out := &collect{}
	if _, err := pipeline.Run(context.Background(), rows(4500, 0), out, pipeline.Options{BatchSize: 2000, Sender: send, Concurrency: 1}); err != nil {
		t.Fatal(err)
	}
	want := []int{2000, 2000, 500}
	if len(seen) != len(want) {
		t.Fatalf("%d batches, want 3", len(seen))
	}
	for i, b := range seen {
		if len(b.Records) != want[i] || b.Seq != i+1 {
			t.Errorf("batch %d: seq %d, %d rows", i, b.Seq, len(b.Records))
		}
	}
}

func TestRunDryRunReportsValidAndSendsNothing(t *testing.T) {
	out := &collect{}
	res, err := pipeline.Run(context.Background(), rows(30, 3), out, pipeline.Options{BatchSize: 2000})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, out.recs, 30)
	if res.DryRunValid != 20 || res.Valid != 20 || res.Invalid != 10 || res.Batches != 1 {
		t.Fatalf("counts %+v", res.Counts)
	}
	for _, r := range out.recs {
		if r.Status == importer.Valid && (r.Batch != 0 || r.RequestID != "") {
			t.Fatalf("dry-run row %+v carries a batch", r)
		}
	}
}

func TestRunStopRunSkipsTheRestButReportsEveryRow(t *testing.T) {
	authErr := errors.New("signature refused")
	send := senderFunc(func(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
		if b.Seq == 2 {
			return pipeline.Outcome{Status: importer.Failed, Reason: "auth", Err: authErr, StopRun: true}
		}
		return pipeline.Outcome{Status: importer.Imported}
	})
	out := &collect{}
	res, err := pipeline.Run(context.Background(), rows(1000, 0), out, pipeline.Options{BatchSize: 100, Sender: send, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, out.recs, 1000)
	if !errors.Is(res.Stopped, authErr) {
		t.Fatalf("Stopped = %v", res.Stopped)
	}
	if res.Imported != 100 || res.Failed != 100 || res.Skipped != 800 {
		t.Fatalf("counts %+v", res.Counts)
	}
	if last := out.recs[999]; last.Status != importer.Skipped || last.Batch != 0 || last.Reason == "" {
		t.Fatalf("last row %+v", last)
	}
}

func TestRunCancelLetsInFlightBatchFinish(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	send := senderFunc(func(sctx context.Context, b *chunker.Batch) pipeline.Outcome {
		if b.Seq == 3 {
			cancel() // Ctrl-C while batch 3 is in flight
			time.Sleep(10 * time.Millisecond)
			if sctx.Err() != nil {
				return pipeline.Outcome{Status: importer.Unconfirmed}
			}
		}
		return pipeline.Outcome{Status: importer.Imported}
	})
	out := &collect{}
	res, err := pipeline.Run(ctx, rows(1000, 0), out, pipeline.Options{BatchSize: 100, Sender: send, Concurrency: 1, DrainTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, out.recs, 1000)
	if res.Imported != 300 || res.Skipped != 700 || !errors.Is(res.Stopped, pipeline.ErrStopped) {
		t.Fatalf("counts %+v stopped %v", res.Counts, res.Stopped)
	}
}

func TestRunSendNothingSkipsEveryValidRow(t *testing.T) {
	send := senderFunc(func(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
		t.Error("a batch was sent")
		return pipeline.Outcome{}
	})
	out := &collect{}
	res, err := pipeline.Run(context.Background(), rows(10, 2), out, pipeline.Options{BatchSize: 3, Sender: send, SendNothing: true, SkipReason: "not sent: refused"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 5 || res.Invalid != 5 || out.recs[1].Reason != "not sent: refused" {
		t.Fatalf("counts %+v, row %+v", res.Counts, out.recs[1])
	}
}

type fakeLedger struct {
	mu      sync.Mutex
	prior   map[int]pipeline.Outcome
	sending []int
	done    []int
}

func (l *fakeLedger) Prior(b *chunker.Batch) (pipeline.Outcome, bool) {
	r, ok := l.prior[b.Seq]
	return r, ok
}
func (l *fakeLedger) Sending(b *chunker.Batch) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sending = append(l.sending, b.Seq)
	return nil
}
func (l *fakeLedger) Done(b *chunker.Batch, r pipeline.Outcome) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = append(l.done, b.Seq)
	return nil
}

func TestRunLedgerSkipsSettledBatches(t *testing.T) {
	led := &fakeLedger{prior: map[int]pipeline.Outcome{1: {Status: importer.Imported, RequestID: "old-1"}}}
	var sent []int
	send := senderFunc(func(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
		sent = append(sent, b.Seq)
		return pipeline.Outcome{Status: importer.Imported, RequestID: "new"}
	})
	out := &collect{}
	if _, err := pipeline.Run(context.Background(), rows(250, 0), out, pipeline.Options{BatchSize: 100, Sender: send, Concurrency: 1, Ledger: led}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sent) != "[2 3]" || fmt.Sprint(led.sending) != "[2 3]" || fmt.Sprint(led.done) != "[2 3]" {
		t.Fatalf("sent %v, journal sending %v done %v", sent, led.sending, led.done)
	}
	if out.recs[0].RequestID != "old-1" || out.recs[0].Status != importer.Imported || out.recs[0].Batch != 1 {
		t.Fatalf("resumed row %+v", out.recs[0])
	}
}

func TestRunQueueStaysBoundedWhileBatchesAreInFlight(t *testing.T) {
	// A batch is in flight at every moment, so the queue of rows waiting
	// for their batch never empties; it must still not grow with the file.
	const n = 200000
	var live uint64
	in := rows(n, 7)
	base := liveHeap()
	send := senderFunc(func(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
		if b.Seq == 300 { // late in the file
			// Let the reading loop fill the next batch and block on this
			// one, so that nothing allocates while the heap is measured.
			time.Sleep(50 * time.Millisecond)
			live = liveHeap() - min(base, liveHeap())
		}
		time.Sleep(100 * time.Microsecond) // still in flight when the reading loop flushes
		return pipeline.Outcome{Status: importer.Imported}
	})
	out := &counter{}
	res, err := pipeline.Run(context.Background(), in, out, pipeline.Options{BatchSize: 500, Sender: send, Concurrency: 1})
	if err != nil || res.Imported+res.Invalid != n || out.n != n {
		t.Fatalf("%v %+v, wrote %d", err, res.Counts, out.n)
	}
	// The input rows themselves are held by the test's reader; what the
	// pipeline adds must stay near a few batches (~1 MB), far from the
	// ~30 MB a queue of the whole file would take (17-40 MB measured
	// without compaction).
	t.Logf("pipeline holds %.1f MB late in the file", float64(live)/(1<<20))
	if live > 8<<20 {
		t.Fatalf("pipeline holds %d MB late in the file", live>>20)
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

type counter struct{ n int }

func (w *counter) Write(importer.Record) error { w.n++; return nil }
