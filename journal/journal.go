package journal

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/pipeline"
)

// Identity is what makes two runs the same import: resuming is allowed
// only when every field is equal, since otherwise batch N of the new run
// would not hold the rows batch N held before.
type Identity struct {
	InputSHA256 string            `json:"input_sha256"`
	TaskID      string            `json:"task_id"`
	Rule        api.Rule          `json:"rule"`
	BatchSize   int               `json:"batch_size"`
	Columns     map[string]string `json:"columns"`
	Policy      string            `json:"policy"`
	Region      string            `json:"region"`
	Sheet       string            `json:"sheet,omitempty"`
	Encoding    string            `json:"encoding,omitempty"`
	NoHeader    bool              `json:"no_header,omitempty"`
}

// Diff lists, in words, how b differs from a (nil when they are the same
// import).
func (a Identity) Diff(b Identity) []string {
	var d []string
	if a.InputSHA256 != b.InputSHA256 {
		d = append(d, "the input file's content changed")
	}
	if a.TaskID != b.TaskID {
		d = append(d, fmt.Sprintf("task %s, not %s", b.TaskID, a.TaskID))
	}
	if a.Rule != b.Rule {
		d = append(d, fmt.Sprintf("--rule %d, not %d", b.Rule, a.Rule))
	}
	if a.BatchSize != b.BatchSize {
		d = append(d, fmt.Sprintf("--batch-size %d, not %d", b.BatchSize, a.BatchSize))
	}
	if !maps.Equal(a.Columns, b.Columns) {
		d = append(d, "another column mapping")
	}
	if a.Policy != b.Policy || a.Region != b.Region {
		d = append(d, "another number policy or region")
	}
	if a.Sheet != b.Sheet || a.Encoding != b.Encoding || a.NoHeader != b.NoHeader {
		d = append(d, "another --sheet, --encoding or --no-header")
	}
	return d
}

// HashFile returns the hex SHA-256 of a file's content.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Path is where the journal of a report lives.
func Path(report string) string { return report + ".journal" }

// Batch states as the journal records them.
const (
	stateSending     = "sending"
	stateImported    = string(importer.Imported)
	stateFailed      = string(importer.Failed)
	stateUnconfirmed = string(importer.Unconfirmed)
)

// entry is one journal line.
type entry struct {
	Type string `json:"type"` // run, resume, sending, imported, failed, unconfirmed, settled, complete
	Time string `json:"time,omitempty"`
	// run
	Identity          *Identity `json:"identity,omitempty"`
	Input             string    `json:"input,omitempty"`
	NumberTotalBefore *int      `json:"number_total_before,omitempty"`
	// resume: the task's numberTotal when the resumed run began
	NumberTotal *int `json:"number_total,omitempty"`
	// batches
	Batch     int    `json:"batch,omitempty"`
	Slot      *int   `json:"slot,omitempty"`
	FirstRow  int    `json:"first_row,omitempty"`
	LastRow   int    `json:"last_row,omitempty"`
	Rows      int    `json:"rows,omitempty"`
	RequestID string `json:"request_id,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// BatchState is the last thing the journal says about a batch.
type BatchState struct {
	Seq       int
	FirstRow  int
	LastRow   int
	Rows      int
	Slot      int
	State     string // sending, imported, failed or unconfirmed
	RequestID string
	Reason    string
	// LastAttempt is when the batch's last attempt began (the time of its
	// last sending or attempt line).
	LastAttempt time.Time
	epoch       int // which run (first, or a resume) last changed it
}

// cut is how a batch was cut: its rows and slot.
type cut struct{ rows, slot int }

// Log is a journal as read back.
type Log struct {
	Identity Identity
	Input    string
	// NumberTotalBefore is the task's numberTotal before the first run.
	NumberTotalBefore int
	Batches           map[int]*BatchState
	Complete          bool
	// cuts are the rows and slot of every batch ever cut, sent or not:
	// a resumed run cuts them the same way.
	cuts map[int]cut
	// base is the task's numberTotal when the latest run (first or
	// resumed) began, and epoch counts the runs: Settle only weighs the
	// batches of the latest run, since those of earlier runs that stayed
	// unknown are never resent.
	base  int
	epoch int
}

// ErrNoJournal is returned by Read when there is no journal.
var ErrNoJournal = errors.New("no journal")

// Read parses a journal. A torn last line (the process died while writing
// it) is ignored; a malformed line elsewhere is an error.
func Read(path string) (*Log, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoJournal
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	log := &Log{Batches: map[int]*BatchState{}, cuts: map[int]cut{}}
	lines := bytes.Split(data, []byte("\n"))
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var e entry
		if err := json.Unmarshal(line, &e); err != nil {
			if i == len(lines)-1 { // torn last line, no newline after it
				break
			}
			return nil, fmt.Errorf("read journal %s line %d: %w", path, i+1, err)
		}
		if err := log.apply(e); err != nil {
			return nil, fmt.Errorf("read journal %s line %d: %w", path, i+1, err)
		}
	}
	if log.Identity.TaskID == "" {
		return nil, fmt.Errorf("read journal %s: no run line", path)
	}
	return log, nil
}

func (l *Log) apply(e entry) error {
	switch e.Type {
	case "run":
		if e.Identity == nil {
			return errors.New("run line without identity")
		}
		l.Identity, l.Input = *e.Identity, e.Input
		if e.NumberTotalBefore != nil {
			l.NumberTotalBefore, l.base = *e.NumberTotalBefore, *e.NumberTotalBefore
		}
	case "resume":
		l.Complete = false
		if e.NumberTotal != nil {
			l.base = *e.NumberTotal
			l.epoch++
		}
	case "complete":
		l.Complete = true
	case stateSending:
		slot := 0
		if e.Slot != nil {
			slot = *e.Slot
		}
		t, _ := time.Parse(time.RFC3339Nano, e.Time)
		l.Batches[e.Batch] = &BatchState{Seq: e.Batch, FirstRow: e.FirstRow, LastRow: e.LastRow, Rows: e.Rows, Slot: slot,
			State: stateSending, LastAttempt: t, epoch: l.epoch}
		l.cuts[e.Batch] = cut{rows: e.Rows, slot: slot}
	case "attempt":
		if b := l.Batches[e.Batch]; b != nil {
			b.LastAttempt, _ = time.Parse(time.RFC3339Nano, e.Time)
			if b.State == stateFailed {
				b.State = stateSending
			}
			b.epoch = l.epoch
		}
	case stateImported, stateFailed, stateUnconfirmed:
		b := l.Batches[e.Batch]
		if b == nil {
			return fmt.Errorf("%s for batch %d that was never sent", e.Type, e.Batch)
		}
		b.State, b.RequestID, b.Reason, b.epoch = e.Type, e.RequestID, e.Reason, l.epoch
	case "settled":
		if b := l.Batches[e.Batch]; b != nil {
			b.State, b.Reason = stateImported, e.Reason
		}
	case "unsent":
		delete(l.Batches, e.Batch)
	default:
		return fmt.Errorf("unknown line type %q", e.Type)
	}
	return nil
}

// InDoubt returns, for dedupe rule 2, the batches of the latest run whose
// fate is unknown (rows by batch number), how much the task has grown
// beyond what that run's imported batches account for when it holds
// numberTotalNow, and when the last of their attempts began. Earlier runs'
// batches that stayed unknown are left out: they are never resent, and
// each run starts its count afresh.
func (l *Log) InDoubt(numberTotalNow int) (unknown map[int]int, delta int, lastAttempt time.Time) {
	unknown = map[int]int{}
	delta = numberTotalNow - l.base
	for _, b := range l.Batches {
		if b.epoch != l.epoch {
			continue
		}
		switch b.State {
		case stateImported:
			delta -= b.Rows
		case stateSending, stateUnconfirmed:
			unknown[b.Seq] = b.Rows
			if b.LastAttempt.After(lastAttempt) {
				lastAttempt = b.LastAttempt
			}
		}
	}
	return unknown, delta, lastAttempt
}

// Planned gives the rows and slot batch seq was cut with by an earlier
// run, so that a resumed run cuts it the same way.
func (l *Log) Planned(seq int) (size, slot int, ok bool) {
	c, ok := l.cuts[seq]
	return c.rows, c.slot, ok
}

// Journal appends a run's batches to its file, each line synced before the
// caller goes on.
type Journal struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	prior  *Log
	resend bool // resend batches of unknown fate even under rule 2
	now    func() time.Time
}

var _ pipeline.Ledger = (*Journal)(nil)

// Options say how a resumed journal treats its earlier batches.
type Options struct {
	// ResendUnconfirmed resends batches of unknown fate under rule 2 too.
	ResendUnconfirmed bool
	// Now is the clock for line times (default time.Now).
	Now func() time.Time
}

// Create starts a new journal at path (replacing any), recording the run's
// identity and the task's numberTotal before anything is sent.
func Create(path, input string, id Identity, numberTotalBefore int, opts Options) (*Journal, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	j := newJournal(f, nil, opts)
	if err := j.append(entry{Type: "run", Identity: &id, Input: input, NumberTotalBefore: &numberTotalBefore}); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// Resume reopens a journal read as prior, to go on appending to it.
// settled holds Settle's verdicts, recorded so that a later resume needs
// no numberTotal arithmetic for them; numberTotalNow, the task's count as
// the resumed run begins, is the base of the next settlement.
func Resume(path string, prior *Log, settled map[int]bool, numberTotalNow int, opts Options) (*Journal, error) {
	if err := cutTornTail(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := newJournal(f, prior, opts)
	for _, seq := range slices.Sorted(maps.Keys(settled)) {
		b := prior.Batches[seq]
		e := entry{Type: "unsent", Batch: seq}
		if settled[seq] {
			b.State, b.Reason = stateImported, "imported (settled from the task's numberTotal after an interrupted run)"
			e = entry{Type: "settled", Batch: seq, Reason: b.Reason}
		} else {
			delete(prior.Batches, seq)
		}
		if err := j.append(e); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := j.append(entry{Type: "resume", NumberTotal: &numberTotalNow}); err != nil {
		f.Close()
		return nil, err
	}
	prior.base, prior.epoch, prior.Complete = numberTotalNow, prior.epoch+1, false
	return j, nil
}

// cutTornTail removes a last line the process did not finish writing, so
// that appending goes on from a whole line.
func cutTornTail(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	if len(data) == 0 || data[len(data)-1] == '\n' {
		return nil
	}
	keep := bytes.LastIndexByte(data, '\n') + 1
	if json.Valid(data[keep:]) {
		// Only the newline is missing: keep the line.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("repair journal: %w", err)
		}
		_, err = f.Write([]byte("\n"))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	if err := os.Truncate(path, int64(keep)); err != nil {
		return fmt.Errorf("repair journal: %w", err)
	}
	return nil
}

func newJournal(f *os.File, prior *Log, opts Options) *Journal {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Journal{f: f, w: bufio.NewWriter(f), prior: prior, resend: opts.ResendUnconfirmed, now: now}
}

func (j *Journal) append(e entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	e.Time = j.now().UTC().Format(time.RFC3339Nano)
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	j.w.Write(b)
	j.w.WriteByte('\n')
	if err := j.w.Flush(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("sync journal: %w", err)
	}
	return nil
}

// Prior returns the outcome an earlier run recorded for b when the batch
// must not be sent again: imported, or of unknown fate under rule 2.
func (j *Journal) Prior(b *chunker.Batch) (pipeline.Outcome, bool) {
	if j.prior == nil {
		return pipeline.Outcome{}, false
	}
	p := j.prior.Batches[b.Seq]
	if p == nil {
		return pipeline.Outcome{}, false
	}
	switch p.State {
	case stateImported:
		return pipeline.Outcome{Status: importer.Imported, RequestID: p.RequestID, Reason: p.Reason}, true
	case stateSending, stateUnconfirmed:
		if !j.prior.Identity.Rule.ResendIsSafe() && !j.resend {
			return pipeline.Outcome{Status: importer.Unconfirmed, RequestID: p.RequestID,
				Reason: "sent by an interrupted run, outcome unknown; not resent under rule 2 (--resend-unconfirmed to resend)"}, true
		}
	}
	return pipeline.Outcome{}, false
}

// Sending records that b is about to be sent, and how it was cut.
func (j *Journal) Sending(b *chunker.Batch) error {
	slot := b.Slot
	return j.append(entry{Type: stateSending, Batch: b.Seq, FirstRow: b.FirstRow(), LastRow: b.LastRow(), Rows: len(b.Records), Slot: &slot})
}

// Attempt records that an attempt of b begins now: a resumed run waits for
// the grace period after the last one before it may conclude that the
// batch did not land.
func (j *Journal) Attempt(b *chunker.Batch) error {
	return j.append(entry{Type: "attempt", Batch: b.Seq})
}

// Done records how b ended. A batch skipped before it was sent is
// recorded as never sent.
func (j *Journal) Done(b *chunker.Batch, r pipeline.Outcome) error {
	switch r.Status {
	case importer.Imported, importer.Failed, importer.Unconfirmed:
		return j.append(entry{Type: string(r.Status), Batch: b.Seq, RequestID: r.RequestID, Reason: r.Reason})
	default:
		return j.append(entry{Type: "unsent", Batch: b.Seq})
	}
}

// Complete marks the run finished: every batch was tried.
func (j *Journal) Complete() error { return j.append(entry{Type: "complete"}) }

// Close closes the file.
func (j *Journal) Close() error { return j.f.Close() }

// Lock takes an exclusive lock on path+".lock" for the life of the
// process: a second import with the same journal is refused at once. The
// kernel drops the lock when the process dies, so a crash leaves no stale
// lock behind.
func Lock(path string) (unlock func(), err error) {
	lp := path + ".lock"
	f, err := os.OpenFile(lp, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock journal: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w (lock %s)", ErrLocked, lp)
	}
	f.Truncate(0)
	fmt.Fprintf(f, "%d\n", os.Getpid())
	return func() {
		os.Remove(lp)
		f.Close()
	}, nil
}

// ErrLocked means another process is importing with the same journal.
var ErrLocked = errors.New("another m7import is importing with this journal right now")

// Planned gives the rows and slot an earlier run cut batch seq with (see
// Log.Planned); a new journal has none.
func (j *Journal) Planned(seq int) (size, slot int, ok bool) {
	if j.prior == nil {
		return 0, 0, false
	}
	return j.prior.Planned(seq)
}
