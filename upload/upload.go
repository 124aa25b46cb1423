// Package upload sends batches to the import endpoint: jittered
// exponential retries that honour Retry-After, and a retry policy that
// never risks importing a row twice under dedupe rule 2. Pacing is the API
// client's: its one limiter waits before every request, retries included.
package upload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/pipeline"
	"github.com/m7import/m7import/retry"
	"github.com/m7import/m7import/settle"
)

// Poster sends one signed POST to the API; *api.Client is one.
type Poster interface {
	Post(ctx context.Context, path string, body []byte, data any) (api.Meta, error)
}

var (
	_ Poster          = (*api.Client)(nil)
	_ pipeline.Sender = (*Uploader)(nil)
)

// Config says where and how batches are imported.
type Config struct {
	// TaskID is the task the numbers go into.
	TaskID string
	// Rule is the server-side dedupe rule.
	Rule api.Rule
	// Operator is the request's top-level agentNumber (who imports).
	Operator string
	// MaxRetries is how many times a batch is resent after its first
	// attempt.
	MaxRetries int
	// InitialInterval and MaxInterval bound the exponential backoff between
	// attempts (defaults 500ms and 30s). A Retry-After from the server
	// lengthens the wait, never shortens it.
	InitialInterval time.Duration
	MaxInterval     time.Duration
	// Tracker, under rule 2, settles ambiguous replies from the task's
	// numberTotal (see settle.Tracker). Nil leaves them unconfirmed.
	Tracker *settle.Tracker
	// Attempt, when set, is called before every attempt of a batch (the
	// journal records when it began); an error stops the run.
	Attempt func(b *chunker.Batch) error
	// Observe, when set, gets the duration of every attempt that reached
	// the server (for --concurrency auto).
	Observe func(time.Duration)
	// Now is the clock for Observe (default time.Now).
	Now func() time.Time
	// GiveUpAfter stops the run after this many attempts in a row, across
	// batches, failed the same way (a dead gateway): the rest is skipped
	// and the run can be resumed. Default 10; negative: never.
	GiveUpAfter int
}

// DefaultGiveUpAfter is Config.GiveUpAfter's default.
const DefaultGiveUpAfter = 10

// Uploader imports batches. It is safe for concurrent use.
type Uploader struct {
	poster Poster
	cfg    Config

	mu      sync.Mutex // guards the run of failures
	failRun int        // attempts in a row that failed the same way
	failHow string     // how they failed
}

// DeadServerError stops a run whose server answered every one of the last
// attempts the same failing way.
type DeadServerError struct {
	Attempts int
	How      string
}

func (e *DeadServerError) Error() string {
	return fmt.Sprintf("the server answered the last %d calls the same way (%s): stopped sending; run the same command with --resume once it works again", e.Attempts, e.How)
}

// failed counts a failed attempt; it returns the error that stops the run
// when too many in a row failed the same way.
func (u *Uploader) failed(err error) error {
	if u.cfg.GiveUpAfter < 0 {
		return nil
	}
	how := failureKind(err)
	u.mu.Lock()
	defer u.mu.Unlock()
	if how == u.failHow {
		u.failRun++
	} else {
		u.failHow, u.failRun = how, 1
	}
	if limit := cmp.Or(u.cfg.GiveUpAfter, DefaultGiveUpAfter); u.failRun >= limit {
		return &DeadServerError{Attempts: u.failRun, How: how}
	}
	return nil
}

func (u *Uploader) succeeded() {
	u.mu.Lock()
	u.failRun, u.failHow = 0, ""
	u.mu.Unlock()
}

// failureKind names how an attempt failed, for telling a dead gateway
// (the same answer every time) from scattered trouble.
func failureKind(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) {
		if ae.HTTPStatus != 0 && ae.HTTPStatus != 200 {
			return fmt.Sprintf("HTTP %d", ae.HTTPStatus)
		}
		return "code " + ae.Code
	}
	return api.Reason(err)
}

// New returns an Uploader that posts through p.
func New(p Poster, cfg Config) (*Uploader, error) {
	if cfg.TaskID == "" {
		return nil, errors.New("upload: no task id")
	}
	if !cfg.Rule.Valid() {
		return nil, fmt.Errorf("upload: rule %d: must be 0, 1 or 2", cfg.Rule)
	}
	if cfg.MaxRetries < 0 {
		return nil, fmt.Errorf("upload: max retries %d: must not be negative", cfg.MaxRetries)
	}
	if cfg.InitialInterval <= 0 {
		cfg.InitialInterval = 500 * time.Millisecond
	}
	if cfg.MaxInterval <= 0 {
		cfg.MaxInterval = 30 * time.Second
	}
	return &Uploader{poster: p, cfg: cfg}, nil
}

// TaskID is the task the Uploader imports into.
func (u *Uploader) TaskID() string { return u.cfg.TaskID }

// Body marshals the import request for a batch. It is done once per batch;
// every attempt sends the same bytes with a fresh signature.
func (u *Uploader) Body(b *chunker.Batch) ([]byte, error) {
	rows := make([]api.ImportRow, len(b.Records))
	for i, r := range b.Records {
		rows[i] = api.ImportRow{Name: r.Name, Number: r.Normalized, Remark: r.Remark, AgentNumber: r.AgentNumber}
	}
	return api.MarshalImport(api.ImportRequest{AgentNumber: u.cfg.Operator, TaskID: u.cfg.TaskID, ImportData: rows, Rule: u.cfg.Rule})
}

// Send imports one batch and reports how it ended. Cancelling ctx abandons
// the batch: a request already written is then Unconfirmed, one never
// written Skipped. Under rule 2 with a Tracker, an ambiguous reply is
// settled from the task's numberTotal: imported when the count shows it
// landed, resent when it shows it did not and the grace period has passed.
func (u *Uploader) Send(ctx context.Context, b *chunker.Batch) pipeline.Outcome {
	body, err := u.Body(b)
	if err != nil {
		return pipeline.Outcome{Status: importer.Failed, Reason: "encode batch: " + err.Error(), Err: err}
	}
	var res pipeline.Outcome
	budget := u.cfg.MaxRetries
	tr := u.cfg.Tracker
	if !u.cfg.Rule.CountsEveryRow() {
		tr = nil
	}
	for {
		maybeSent, err := u.try(ctx, b, body, budget, tr, &res)
		u.finish(ctx, &res, err, maybeSent)
		if res.Status != importer.Unconfirmed || tr == nil || ctx.Err() != nil || res.StopRun {
			return res
		}
		sctx, cancel := stopCtx(ctx)
		v := tr.Settle(sctx, b.Seq)
		cancel()
		switch v.Verdict {
		case settle.Landed:
			res.Status, res.Err, res.Reason = importer.Imported, nil, v.Reason
			if res.RequestID != "" {
				res.Reason += " (request id " + res.RequestID + ")"
			}
			return res
		case settle.Unknown:
			res.Reason = v.Reason + unconfirmedHint(u.cfg.Rule)
			return res
		}
		// Certainly not processed: resending cannot import a row twice.
		budget = u.cfg.MaxRetries - res.Attempts
		if budget < 0 {
			res.Status = importer.Failed
			res.Reason = v.Reason + "; retries used up: " + api.Reason(res.Err)
			return res
		}
	}
}

// try sends body until it is accepted, a failure is final, or retries
// (budget of them) run out. maybeSent tells whether some attempt may have
// been processed.
func (u *Uploader) try(ctx context.Context, b *chunker.Batch, body []byte, budget int, tr *settle.Tracker, res *pipeline.Outcome) (maybeSent bool, err error) {
	sched := retry.Schedule{Initial: u.cfg.InitialInterval, Max: u.cfg.MaxInterval, MaxRetries: budget, Stop: pipeline.Stopping(ctx)}
	err = sched.Do(ctx, func() error {
		if u.cfg.Attempt != nil && res.Attempts > 0 { // the first attempt is the batch's sending line
			if err := u.cfg.Attempt(b); err != nil {
				res.StopRun = true
				return retry.Permanent(fmt.Errorf("journal: %w", err))
			}
		}
		if tr != nil {
			tr.Begin(b.Seq, len(b.Records))
		}
		res.Attempts++
		start := u.now()
		meta, err := u.poster.Post(ctx, api.PathImport, body, nil)
		res.RequestID = meta.RequestID
		class := api.Classify(err)
		if u.cfg.Observe != nil && (err == nil || class != api.Retryable) {
			u.cfg.Observe(u.now().Sub(start))
		}
		if err == nil {
			if tr != nil {
				tr.Landed(b.Seq)
			}
			u.succeeded()
			return nil
		}
		dead := u.failed(err)
		switch class {
		case api.Retryable:
			if tr != nil {
				tr.NotSent(b.Seq)
			}
			if dead != nil {
				res.StopRun = true
				return retry.Permanent(dead)
			}
			return err
		case api.Ambiguous:
			maybeSent = true
			if dead != nil {
				res.StopRun = true
				return retry.Permanent(dead)
			}
			if !u.cfg.Rule.ResendIsSafe() || ctx.Err() != nil {
				// Resending could import every row of the batch twice.
				return retry.Permanent(err)
			}
			return err
		default:
			if tr != nil {
				tr.NotSent(b.Seq)
			}
			if api.IsAuth(err) {
				res.StopRun = true
			}
			return retry.Permanent(err)
		}
	})
	return maybeSent, err
}

func (u *Uploader) now() time.Time {
	if u.cfg.Now != nil {
		return u.cfg.Now()
	}
	return time.Now()
}

// finish turns the last error into the batch's status and reason.
func (u *Uploader) finish(ctx context.Context, res *pipeline.Outcome, err error, maybeSent bool) {
	res.Err = err
	switch {
	case err == nil:
		res.Status, res.Reason = importer.Imported, ""
	case maybeSent:
		res.Status = importer.Unconfirmed
		res.Reason = "outcome unknown: " + api.Reason(err) + unconfirmedHint(u.cfg.Rule)
	case ctx.Err() != nil || errors.As(err, new(*retry.StoppedError)):
		res.Status = importer.Skipped
		res.Reason = "not sent: the run was stopped"
	default:
		res.Status = importer.Failed
		res.Reason = api.Reason(err)
		var long *retry.WaitTooLongError
		if errors.As(err, &long) {
			res.Reason = long.Error() + ": " + res.Reason
		}
		if res.Attempts > 1 {
			res.Reason += fmt.Sprintf(" (after %d attempts)", res.Attempts)
		}
	}
}

func unconfirmedHint(rule api.Rule) string {
	if !rule.ResendIsSafe() {
		return "; not resent under rule 2 (it could import the rows twice)"
	}
	return ""
}

// stopCtx is ctx, also cancelled when the run is stopped: a wait to
// settle ends at once then (the batch stays unconfirmed; --resume settles
// it).
func stopCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	if stop := pipeline.Stopping(ctx); stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-c.Done():
			}
		}()
	}
	return c, cancel
}
