package settle

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Verdict is what the count says about a batch of unknown fate.
type Verdict int

// The verdicts.
const (
	// Unknown: the count cannot tell (it does not add up, or could not be
	// read); the batch stays unconfirmed and is not resent.
	Unknown Verdict = iota
	// Landed: the batch is in the task.
	Landed
	// NotLanded: the batch is not in the task, and the grace period since
	// its last attempt began has passed: resending cannot import it twice.
	NotLanded
)

// Result is a Verdict with the sentence that explains it.
type Result struct {
	Verdict Verdict
	Reason  string
}

// Tracker keeps the books of one rule-2 run: the task's numberTotal it
// expects from the batches known to be imported, and the batches in flight
// or in doubt. A batch in doubt is settled against the count, with every
// batch in flight counted as possibly landed: their sizes (one slot each,
// see Sizes) keep every set of them apart. It is safe for concurrent use.
type Tracker struct {
	count func(ctx context.Context) (int, error)
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
	grace time.Duration

	// gate keeps new attempts from starting while the count is read, so
	// that the count can only hold batches the snapshot knows of.
	gate sync.RWMutex

	mu       sync.Mutex
	expected int
	open     map[int]*openBatch
	byCount  int // batches settled as landed by the count
}

type openBatch struct {
	rows    int
	started time.Time // when its last attempt began
}

// TrackerOptions configure a Tracker.
type TrackerOptions struct {
	// Grace is how long after an attempt began the server may still be
	// processing it; a batch the count shows as not landed is resent only
	// after it.
	Grace time.Duration
	// Now and Sleep are the clock (defaults: time.Now, a timer bound to
	// ctx).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewTracker starts the books from the task's numberTotal just before the
// run's first send; count reads it again.
func NewTracker(count func(ctx context.Context) (int, error), numberTotalNow int, o TrackerOptions) *Tracker {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	return &Tracker{count: count, now: o.Now, sleep: o.Sleep, grace: o.Grace, expected: numberTotalNow, open: map[int]*openBatch{}}
}

// Sleep waits for d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Begin records that an attempt of batch seq (rows long) is about to be
// sent.
func (t *Tracker) Begin(seq, rows int) {
	t.gate.RLock()
	defer t.gate.RUnlock()
	t.mu.Lock()
	t.open[seq] = &openBatch{rows: rows, started: t.now()}
	t.mu.Unlock()
}

// Landed records that batch seq was imported (its reply said so).
func (t *Tracker) Landed(seq int) {
	t.mu.Lock()
	if b := t.open[seq]; b != nil {
		t.expected += b.rows
		delete(t.open, seq)
	}
	t.mu.Unlock()
}

// NotSent records that batch seq's attempt certainly did not reach the
// server (or was refused before processing).
func (t *Tracker) NotSent(seq int) {
	t.mu.Lock()
	delete(t.open, seq)
	t.mu.Unlock()
}

// SettledByCount is how many batches the count showed as landed.
func (t *Tracker) SettledByCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.byCount
}

// Settle decides the fate of batch seq after an ambiguous reply: landed,
// not landed (once the grace period since its last attempt began has
// passed, re-reading the count then), or unknown. It waits for the grace
// period when it must; a cancelled ctx leaves the batch unknown.
func (t *Tracker) Settle(ctx context.Context, seq int) Result {
	for {
		t.gate.Lock()
		t.mu.Lock()
		b := t.open[seq]
		if b == nil {
			t.mu.Unlock()
			t.gate.Unlock()
			return Result{Unknown, "outcome unknown (the batch was not being tracked)"}
		}
		unknown := make(map[int]int, len(t.open))
		for s, ob := range t.open {
			unknown[s] = ob.rows
		}
		expected, started := t.expected, b.started
		t.mu.Unlock()
		n, err := t.count(ctx)
		t.gate.Unlock()
		if err != nil {
			return Result{Unknown, fmt.Sprintf("outcome unknown: the task's numberTotal could not be read to settle it (%v)", err)}
		}
		delta := n - expected
		landed, ok := Decide(unknown, delta)
		if !ok {
			return Result{Unknown, "outcome unknown: " + Mismatch(unknown, delta)}
		}
		if landed[seq] {
			t.mu.Lock()
			t.expected += b.rows
			delete(t.open, seq)
			t.byCount++
			t.mu.Unlock()
			return Result{Landed, fmt.Sprintf("imported: the reply was lost, and the task's numberTotal (%d, %+d beyond the batches known to be imported) shows this batch landed", n, delta)}
		}
		wait := started.Add(t.grace).Sub(t.now())
		if wait <= 0 {
			t.NotSent(seq)
			return Result{NotLanded, fmt.Sprintf("not imported: the task's numberTotal (%d) shows this batch did not land, %s after it was sent", n, t.grace)}
		}
		if err := t.sleep(ctx, wait); err != nil {
			return Result{Unknown, "outcome unknown: the run stopped while waiting to settle it from the task's numberTotal"}
		}
	}
}
