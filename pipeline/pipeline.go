// Package pipeline runs one input file through the whole import: read and
// normalize every row, cut the valid ones into batches, upload the batches
// concurrently, and write one outcome per row to the report in input order.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
)

// RecordReader yields records in input order and io.EOF at the end;
// *importer.Reader is one.
type RecordReader interface {
	Next() (importer.Record, error)
}

var _ RecordReader = (*importer.Reader)(nil)

// RecordWriter takes records in input order; every reports writer is one.
type RecordWriter interface {
	Write(importer.Record) error
}

// Sender uploads one batch; *upload.Uploader is one.
type Sender interface {
	Send(ctx context.Context, b *chunker.Batch) Outcome
}

// Ledger remembers batches across runs (the journal). Prior reports the
// outcome an earlier run recorded for a batch, so that it is not sent
// again; Sending is called before a batch is sent and Done once its
// outcome is known. Each must be durable before it returns.
type Ledger interface {
	Prior(b *chunker.Batch) (Outcome, bool)
	Sending(b *chunker.Batch) error
	Done(b *chunker.Batch, r Outcome) error
}

// Options configure a Run.
type Options struct {
	// BatchSize is the most rows per import call (1..2000).
	BatchSize int
	// Sender uploads batches; nil makes a dry run (valid rows are reported
	// "valid" and nothing is sent).
	Sender Sender
	// Concurrency is how many batches may be in flight at once (when
	// Sizes is nil).
	Concurrency int
	// Sizes, when set, is the batch size of each in-flight slot (see
	// settle.Sizes); its length is the most batches in flight at once.
	Sizes []int
	// InFlight, when set, says how many slots may be in use now
	// (--concurrency auto); it is asked again whenever a slot frees.
	InFlight func() int
	// Planned, when set, gives the rows and slot an earlier run cut batch
	// seq with (a resumed journal), so that every batch keeps its rows.
	Planned func(seq int) (size, slot int, ok bool)
	// Alone sends a batch whose size is not its slot's with nothing else
	// in flight (rule 2: the count can then always tell its fate).
	Alone bool
	// DrainTimeout bounds how long batches already in flight may take to
	// finish once the run is stopped.
	DrainTimeout time.Duration
	// SendNothing reports every valid row skipped (a refused run, e.g. by
	// --max-invalid): the report is still complete.
	SendNothing bool
	// SkipReason is the reason given to rows that were never sent.
	SkipReason string
	// Ledger, when set, records every batch (see Ledger).
	Ledger Ledger
	// ExpectValid, when known (a pass before sending counted them), is the
	// number of valid rows the file holds: progress shows a total that
	// never moves.
	ExpectValid int
	// Progress, when set, is called after each batch's outcome and every
	// few thousand rows read; it must be cheap and safe for concurrent use.
	Progress func(Progress)
}

// Progress is a snapshot of a run for progress displays.
type Progress struct {
	Read  int // non-blank rows read
	Valid int // rows that passed validation
	Total int // valid rows the whole file holds, when known (Options.ExpectValid)
	Done  int // valid rows whose batch has an outcome
	// Batches and Retries are the batches with an outcome so far and the
	// attempts they took beyond the first.
	Batches, Retries int
}

// Counts are a finished run's per-status tallies. The status counts add up
// to Rows.
type Counts struct {
	Rows        int `json:"rows"`
	Valid       int `json:"valid"`
	Imported    int `json:"imported"`
	Invalid     int `json:"invalid"`
	Duplicate   int `json:"duplicate"`
	Failed      int `json:"failed"`
	Unconfirmed int `json:"unconfirmed"`
	Skipped     int `json:"skipped"`
	// DryRunValid counts rows reported "valid" (dry runs only).
	DryRunValid int `json:"-"`
	// SentThisRun counts the rows of the batches this run sent (a resumed
	// run does not send again what an earlier run imported);
	// ImportedThisRun and UnconfirmedThisRun those of them imported or of
	// unknown fate.
	SentThisRun        int `json:"sent_this_run"`
	ImportedThisRun    int `json:"-"`
	UnconfirmedThisRun int `json:"-"`
	Batches            int `json:"batches"`
	Retries            int `json:"retries"`
}

// Result is what a Run did.
type Result struct {
	Counts
	// Stopped is why the run stopped sending before the end of the file
	// (cancelled, or credentials refused); nil when every batch was tried.
	Stopped error
}

// ErrStopped is wrapped by Result.Stopped when ctx was cancelled.
var ErrStopped = errors.New("run stopped before every batch was sent")

// Run reads every record from r and writes its outcome to w. Cancelling
// ctx stops new batches from being sent; those in flight get DrainTimeout
// to finish; the remaining rows are still read and reported "skipped".
// The error is for a file that cannot be read to the end (the rows read
// before it are still written, the last partial batch unsent) or a report
// that cannot be written; a run stopped early returns a nil error and
// Result.Stopped.
func Run(ctx context.Context, r RecordReader, w RecordWriter, opts Options) (Result, error) {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	if opts.SkipReason == "" {
		opts.SkipReason = "not sent: the run stopped first"
	}
	ch, err := chunker.New(opts.BatchSize)
	if err != nil {
		return Result{}, err
	}
	feedCtx, stopFeed := context.WithCancelCause(ctx)
	defer stopFeed(nil)
	// Requests in flight outlive a stop by up to DrainTimeout; waits end
	// at once (Stopping).
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	sendCtx = withStop(sendCtx, feedCtx.Done())
	go func() {
		select {
		case <-feedCtx.Done():
		case <-sendCtx.Done():
			return
		}
		if opts.DrainTimeout <= 0 {
			cancelSend()
			return
		}
		t := time.NewTimer(opts.DrainTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			cancelSend()
		case <-sendCtx.Done():
		}
	}()

	s := &state{opts: opts, w: w, results: make(map[int]*pending), slot: -1}
	sending := opts.Sender != nil && !opts.SendNothing
	sizes := opts.Sizes
	if len(sizes) == 0 {
		sizes = make([]int, opts.Concurrency)
		for i := range sizes {
			sizes[i] = opts.BatchSize
		}
	}
	pool := newSlots(len(sizes), opts.InFlight)
	var workers sync.WaitGroup

	// next sizes the batch about to be filled and, when it will be sent,
	// takes its slot: the slot's size, or the size an earlier run cut it
	// with (then its own slot, or alone when that size is not the slot's).
	next := func() {
		seq := ch.Next()
		size, want, alone := sizes[0], -1, false
		if opts.Planned != nil {
			if ps, pslot, ok := opts.Planned(seq); ok {
				size = ps
				if pslot >= 0 && pslot < len(sizes) && sizes[pslot] == ps {
					want = pslot
				} else {
					alone = opts.Alone
					want = 0
				}
			}
		}
		slot := -1
		if _, known := s.prior(&chunker.Batch{Seq: seq}); sending && !known && feedCtx.Err() == nil {
			if i, ok := pool.acquire(feedCtx, want, alone); ok {
				slot = i
				if want < 0 {
					size = sizes[i]
				}
			}
		}
		ch.SetSize(size)
		s.slot, s.alone = slot, alone
	}

	dispatch := func(b *chunker.Batch) {
		b.Slot, b.Alone = s.slot, s.alone
		s.addBatch(b)
		held := b.Slot >= 0
		release := func() {
			if held {
				pool.release(b.Slot, b.Alone)
			}
		}
		if prior, ok := s.prior(b); ok {
			release()
			s.markPrior(b)
			s.resolve(b, prior)
			return
		}
		if !held || feedCtx.Err() != nil {
			release()
			s.resolve(b, s.unsent(feedCtx))
			return
		}
		// Recorded here, in batch order, before the batch can be sent: a
		// resumed run cuts every batch an earlier run sent with its rows.
		if s.opts.Ledger != nil {
			if err := s.opts.Ledger.Sending(b); err != nil {
				release()
				stopFeed(err)
				s.resolve(b, Outcome{Status: importer.Skipped, Reason: "not sent: journal: " + err.Error(), Err: err, StopRun: true})
				return
			}
		}
		workers.Add(1)
		go func() {
			defer workers.Done()
			res := s.send(sendCtx, b)
			if res.StopRun {
				// Before the slot frees: no batch may follow a refusal.
				stopFeed(res.Err)
			}
			release()
			s.resolve(b, res)
		}()
	}

	var readErr error
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		s.countRead(rec)
		var full *chunker.Batch
		if rec.Status == importer.Valid {
			if ch.Empty() {
				next()
			}
			rec.Batch = ch.Next()
			full = ch.Add(rec)
		}
		if err := s.push(rec); err != nil {
			readErr = err
			break
		}
		if full != nil {
			dispatch(full)
			if err := s.flush(); err != nil {
				readErr = err
				break
			}
		}
	}
	if b := ch.Flush(); b != nil {
		switch {
		case readErr != nil:
			// The file could not be read to the end: the rows read so far
			// are still reported, the last partial batch as never sent.
			res := Outcome{Status: importer.Skipped, Reason: "not sent: the file could not be read to the end"}
			if s.opts.Sender == nil && !s.opts.SendNothing {
				res = Outcome{Status: importer.Valid}
			}
			if s.slot >= 0 {
				pool.release(s.slot, s.alone)
			}
			b.Slot = -1
			s.addBatch(b)
			s.resolve(b, res)
		default:
			// The last, short batch is not its slot's size: it goes with
			// nothing else in flight, so its fate can always be told.
			if s.slot >= 0 && opts.Alone && !s.alone && len(b.Records) != sizes[s.slot] {
				if pool.waitOthers(feedCtx, s.slot) {
					s.alone = true
				} else {
					pool.release(s.slot, false)
					s.slot = -1
				}
			}
			dispatch(b)
		}
	}
	workers.Wait()
	if err := s.flush(); err != nil && readErr == nil {
		readErr = err
	}
	return s.result(feedCtx), readErr
}

// pending is a batch whose rows are not all written yet.
type pending struct {
	left  int
	known bool
	prior bool // the outcome is an earlier run's
	res   Outcome
}

// state is shared by the reading loop and the workers. The reading loop
// alone owns the queue and writes the report: rows wait in the queue only
// while the outcome of a batch before or including them is not known.
type state struct {
	opts Options
	w    RecordWriter

	// Owned by the reading loop.
	slot   int  // the slot of the batch being filled (-1: none held)
	alone  bool // that batch goes with nothing else in flight
	queue  []importer.Record
	head   int
	counts Counts

	mu       sync.Mutex // guards results, retries, resolved and stopErr
	results  map[int]*pending
	retries  int
	resolved int // batches with an outcome
	// stopErr is why the run stopped sending, when a batch's failure
	// (credentials refused, journal unwritable) stopped it.
	stopErr error

	read, valid, done atomic.Int64 // for progress reports
}

func (s *state) prior(b *chunker.Batch) (Outcome, bool) {
	if s.opts.Ledger == nil {
		return Outcome{}, false
	}
	return s.opts.Ledger.Prior(b)
}

func (s *state) send(ctx context.Context, b *chunker.Batch) Outcome {
	res := s.opts.Sender.Send(ctx, b)
	if s.opts.Ledger != nil {
		if err := s.opts.Ledger.Done(b, res); err != nil && res.Err == nil {
			res.Err = err
			res.StopRun = true
		}
	}
	return res
}

func (s *state) unsent(feedCtx context.Context) Outcome {
	if s.opts.Sender == nil && !s.opts.SendNothing {
		return Outcome{Status: importer.Valid}
	}
	reason := s.opts.SkipReason
	if cause := context.Cause(feedCtx); cause != nil && !s.opts.SendNothing {
		reason = "not sent: the run stopped first (" + cause.Error() + ")"
	}
	return Outcome{Status: importer.Skipped, Reason: reason}
}

func (s *state) countRead(rec importer.Record) {
	s.counts.Rows++
	switch rec.Status {
	case importer.Valid:
		s.counts.Valid++
	case importer.Invalid:
		s.counts.Invalid++
	case importer.Duplicate:
		s.counts.Duplicate++
	}
	if s.opts.Progress != nil && s.counts.Rows%4096 == 0 {
		s.read.Store(int64(s.counts.Rows))
		s.valid.Store(int64(s.counts.Valid))
		s.opts.Progress(Progress{Read: s.counts.Rows, Valid: s.counts.Valid, Total: s.opts.ExpectValid, Done: int(s.done.Load())})
	}
}

// push writes rec at once when nothing before it waits for a batch and it
// waits for none itself; otherwise it queues it.
func (s *state) push(rec importer.Record) error {
	if s.head == len(s.queue) && (rec.Status != importer.Valid || rec.Batch == 0) {
		return s.write(rec)
	}
	s.queue = append(s.queue, rec)
	return nil
}

func (s *state) markPrior(b *chunker.Batch) {
	s.mu.Lock()
	s.results[b.Seq].prior = true
	s.mu.Unlock()
}

func (s *state) addBatch(b *chunker.Batch) {
	s.mu.Lock()
	s.results[b.Seq] = &pending{left: len(b.Records)}
	s.mu.Unlock()
	s.counts.Batches++
}

func (s *state) resolve(b *chunker.Batch, res Outcome) {
	s.mu.Lock()
	p := s.results[b.Seq]
	p.known, p.res = true, res
	s.retries += res.Retries()
	s.resolved++
	batches, retries := s.resolved, s.retries
	if res.StopRun && s.stopErr == nil {
		s.stopErr = res.Err
	}
	s.mu.Unlock()
	n := s.done.Add(int64(len(b.Records)))
	if s.opts.Progress != nil {
		s.opts.Progress(Progress{Read: int(s.read.Load()), Valid: int(s.valid.Load()), Total: s.opts.ExpectValid, Done: int(n),
			Batches: batches, Retries: retries})
	}
}

// flush writes every row at the head of the queue whose outcome is known.
func (s *state) flush() error {
	for s.head < len(s.queue) {
		rec := &s.queue[s.head]
		if rec.Status == importer.Valid {
			s.mu.Lock()
			p := s.results[rec.Batch]
			if p == nil || !p.known {
				s.mu.Unlock()
				s.compact()
				return nil
			}
			applyResult(rec, p.res)
			if !p.prior && p.res.Attempts > 0 {
				s.counts.SentThisRun++
				switch rec.Status {
				case importer.Imported:
					s.counts.ImportedThisRun++
				case importer.Unconfirmed:
					s.counts.UnconfirmedThisRun++
				}
			}
			if p.left--; p.left == 0 {
				delete(s.results, rec.Batch)
			}
			s.mu.Unlock()
		}
		if err := s.write(*rec); err != nil {
			return err
		}
		s.queue[s.head] = importer.Record{}
		s.head++
	}
	s.queue, s.head = s.queue[:0], 0
	return nil
}

// compact drops the written rows from the front of the queue once they are
// most of it, so that a queue that never quite empties (a batch is always
// in flight during an import) does not grow with the file.
func (s *state) compact() {
	if s.head > 4096 && s.head*2 > len(s.queue) {
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue, s.head = s.queue[:n], 0
	}
}

func (s *state) write(rec importer.Record) error {
	s.tally(rec)
	if err := s.w.Write(rec); err != nil {
		return fmt.Errorf("write report row %d: %w", rec.Row, err)
	}
	return nil
}

func applyResult(rec *importer.Record, res Outcome) {
	rec.Status = res.Status
	// A valid row's own reason (which column its number came from) stays,
	// after the batch's.
	switch {
	case rec.Reason == "":
		rec.Reason = res.Reason
	case res.Reason != "":
		rec.Reason = res.Reason + "; " + rec.Reason
	}
	rec.RequestID = res.RequestID
	if res.Status == importer.Skipped || res.Status == importer.Valid {
		rec.Batch = 0
		rec.RequestID = ""
	}
}

func (s *state) tally(rec importer.Record) {
	switch rec.Status {
	case importer.Imported:
		s.counts.Imported++
	case importer.Failed:
		s.counts.Failed++
	case importer.Unconfirmed:
		s.counts.Unconfirmed++
	case importer.Skipped:
		s.counts.Skipped++
	case importer.Valid:
		s.counts.DryRunValid++
	}
}

func (s *state) result(feedCtx context.Context) Result {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := Result{Counts: s.counts}
	res.Retries = s.retries
	switch {
	case s.stopErr != nil:
		res.Stopped = s.stopErr
	case feedCtx.Err() != nil && s.counts.Skipped > 0:
		res.Stopped = fmt.Errorf("%w: %v", ErrStopped, context.Cause(feedCtx))
	}
	return res
}
