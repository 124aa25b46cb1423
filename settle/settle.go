// Package settle is the numberTotal proof: under dedupe rule 2 every batch
// the server processes grows the task's numberTotal by exactly its rows, so
// the count says which batches of unknown fate landed. It is the one home
// of that arithmetic, used by the uploader during a run and by the journal
// on --resume.
package settle

import (
	"context"
	"sort"
	"sync"
)

// Decide works out which batches of unknown fate the server processed,
// under dedupe rule 2 where a processed batch adds exactly its rows to the
// task's numberTotal. unknown maps batch numbers to their rows; delta is
// how much more the task holds than it would if none of them had been
// processed. It returns the batches on which every subset adding up to
// delta agrees (true: processed, false: not); the others stay unknown.
// With no fitting subset (someone else changed the task) it decides
// nothing.
func Decide(unknown map[int]int, delta int) map[int]bool {
	if len(unknown) == 0 || len(unknown) > 16 || delta < 0 {
		return nil
	}
	seqs := make([]int, 0, len(unknown))
	for s := range unknown {
		seqs = append(seqs, s)
	}
	sort.Ints(seqs)
	var matches []uint32
	for mask := uint32(0); mask < 1<<len(seqs); mask++ {
		sum := 0
		for i, s := range seqs {
			if mask&(1<<i) != 0 {
				sum += unknown[s]
			}
		}
		if sum == delta {
			matches = append(matches, mask)
		}
	}
	if len(matches) == 0 {
		return nil
	}
	out := map[int]bool{}
	for i, s := range seqs {
		in := matches[0]&(1<<i) != 0
		agree := true
		for _, m := range matches[1:] {
			if (m&(1<<i) != 0) != in {
				agree = false
				break
			}
		}
		if agree {
			out[s] = in
		}
	}
	return out
}

// Settlement settles, during a rule-2 run, batches whose reply was
// ambiguous: it stops new sends, waits for those in flight, reads the
// task's numberTotal and compares it with what the batches known to be
// imported account for. A batch found unprocessed is resent (safe: the
// server never got it); one found processed is imported; one that cannot
// be told apart stays unconfirmed. It assumes nobody else adds to or
// removes from the task during the run.
type Settlement struct {
	gate  sync.RWMutex // sends hold it shared (Enter/Leave); a settlement holds it alone
	count func(ctx context.Context) (int, error)

	mu       sync.Mutex
	expected int         // numberTotal if no unknown batch was processed
	unknown  map[int]int // batch -> rows, fate unknown
	verdict  map[int]bool
	broken   bool // the count stopped adding up: settle nothing more
}

// NewSettlement starts settling from the task's numberTotal just before
// the run's first send. Batches left of unknown fate by an earlier run do
// not matter: they are never resent, so every change from now on is this
// run's.
func NewSettlement(count func(ctx context.Context) (int, error), numberTotalNow int) *Settlement {
	return &Settlement{count: count, expected: numberTotalNow, unknown: map[int]int{}, verdict: map[int]bool{}}
}

// Imported records that a batch of rows was imported for certain.
func (s *Settlement) Imported(rows int) {
	s.mu.Lock()
	s.expected += rows
	s.mu.Unlock()
}

// Settle decides the fate of batch seq (rows long) after an ambiguous
// reply; ok is false when it cannot be told. The caller must not hold the
// gate.
func (s *Settlement) Settle(ctx context.Context, seq, rows int) (processed, ok bool) {
	s.mu.Lock()
	s.unknown[seq] = rows
	s.mu.Unlock()

	s.gate.Lock() // no batch in flight from here on
	defer s.gate.Unlock()
	s.mu.Lock()
	v, done := s.verdict[seq]
	delete(s.verdict, seq) // a resent batch's fate is open again
	broken := s.broken
	s.mu.Unlock()
	if done || broken {
		return v, done
	}
	n, err := s.count(ctx)
	if err != nil {
		return false, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delta := n - s.expected
	verdicts := Decide(s.unknown, delta)
	if verdicts == nil && delta != 0 {
		s.broken = true
	}
	for b, p := range verdicts {
		if p {
			s.expected += s.unknown[b]
		}
		delete(s.unknown, b)
		s.verdict[b] = p
	}
	v, done = s.verdict[seq]
	delete(s.verdict, seq)
	return v, done
}

// Enter is called before a batch is sent: a settlement waits until every
// batch that entered has left, so that the count it reads is final.
func (s *Settlement) Enter() { s.gate.RLock() }

// Leave is called once a batch's attempt is over.
func (s *Settlement) Leave() { s.gate.RUnlock() }
