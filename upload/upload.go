// Package upload sends batches to the import endpoint: jittered
// exponential retries that honour Retry-After, and a retry policy that
// never risks importing a row twice under dedupe rule 2. Pacing is the API
// client's: its one limiter waits before every request, retries included.
package upload

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/chunker"
	"github.com/m7import/m7import/importer"
)

// Poster sends one signed POST to the API; *api.Client is one.
type Poster interface {
	Post(ctx context.Context, path string, body []byte, data any) (api.Meta, error)
}

// Config says where and how batches are imported.
type Config struct {
	// TaskID is the task the numbers go into.
	TaskID string
	// Rule is the server-side dedupe rule: 0 all tasks, 1 this task, 2 none.
	Rule int
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
	// Settle, under rule 2, settles ambiguous replies from the task's
	// numberTotal (see Settlement). Nil leaves them unconfirmed.
	Settle *Settlement
}

// Result is how one batch ended.
type Result struct {
	// Status is Imported, Failed, Unconfirmed or Skipped.
	Status importer.Status
	// Reason explains any status but Imported.
	Reason string
	// RequestID is the requestId of the attempt that decided the outcome.
	RequestID string
	// Attempts is how many requests were sent or tried; Attempts-1 of them
	// were retries.
	Attempts int
	// Err is the last error, nil when imported.
	Err error
	// StopRun is set when the failure means no later batch can succeed
	// either (credentials refused).
	StopRun bool
}

// Retries is the number of attempts after the first.
func (r Result) Retries() int {
	if r.Attempts > 1 {
		return r.Attempts - 1
	}
	return 0
}

// Uploader imports batches. It is safe for concurrent use.
type Uploader struct {
	poster Poster
	cfg    Config
}

// New returns an Uploader that posts through p.
func New(p Poster, cfg Config) (*Uploader, error) {
	if cfg.TaskID == "" {
		return nil, errors.New("upload: no task id")
	}
	if cfg.Rule < 0 || cfg.Rule > 2 {
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
// written Skipped. Under rule 2 with a Settlement, an ambiguous reply is
// settled from the task's numberTotal where that is certain.
func (u *Uploader) Send(ctx context.Context, b *chunker.Batch) Result {
	body, err := u.Body(b)
	if err != nil {
		return Result{Status: importer.Failed, Reason: "encode batch: " + err.Error(), Err: err}
	}
	var res Result
	budget := u.cfg.MaxRetries
	for {
		st := u.cfg.Settle
		if st != nil {
			st.gate.RLock()
		}
		maybeSent, err := u.try(ctx, body, budget, &res)
		if st != nil {
			if err == nil {
				st.imported(len(b.Records))
			}
			st.gate.RUnlock()
		}
		u.finish(ctx, &res, err, maybeSent)
		if res.Status != importer.Unconfirmed || st == nil || u.cfg.Rule != 2 || ctx.Err() != nil {
			return res
		}
		processed, known := st.settle(ctx, b.Seq, len(b.Records))
		switch {
		case !known:
			return res
		case processed:
			res.Status, res.Err = importer.Imported, nil
			res.Reason = "the reply was lost; the task's numberTotal shows the batch was imported"
			return res
		}
		// Certainly not processed: resending cannot import a row twice.
		budget = u.cfg.MaxRetries - res.Attempts
		if budget < 0 {
			res.Status = importer.Failed
			res.Reason = "not imported (the task's numberTotal shows it), retries used up: " + Reason(res.Err)
			return res
		}
	}
}

// try sends body until it is accepted, a failure is final, or retries
// (budget of them) run out. maybeSent tells whether some attempt may have
// been processed.
func (u *Uploader) try(ctx context.Context, body []byte, budget int, res *Result) (maybeSent bool, err error) {
	retry := Retry{InitialInterval: u.cfg.InitialInterval, MaxInterval: u.cfg.MaxInterval, MaxRetries: budget}
	err = retry.Do(ctx, func() error {
		res.Attempts++
		meta, err := u.poster.Post(ctx, api.PathImport, body, nil)
		res.RequestID = meta.RequestID
		if err == nil {
			return nil
		}
		switch api.Classify(err) {
		case api.Retryable:
			return err
		case api.Ambiguous:
			maybeSent = true
			if u.cfg.Rule == 2 || ctx.Err() != nil {
				// Resending could import every row of the batch twice.
				return backoff.Permanent(err)
			}
			return err
		default:
			if api.IsAuth(err) {
				res.StopRun = true
			}
			return backoff.Permanent(err)
		}
	})
	return maybeSent, err
}

// finish turns the last error into the batch's status and reason.
func (u *Uploader) finish(ctx context.Context, res *Result, err error, maybeSent bool) {
	res.Err = err
	switch {
	case err == nil:
		res.Status, res.Reason = importer.Imported, ""
	case maybeSent:
		res.Status = importer.Unconfirmed
		res.Reason = "outcome unknown: " + Reason(err) + unconfirmedHint(u.cfg.Rule)
	case ctx.Err() != nil:
		res.Status = importer.Skipped
		res.Reason = "not sent: the run was stopped"
	default:
		res.Status = importer.Failed
		res.Reason = Reason(err)
		if res.Attempts > 1 {
			res.Reason += fmt.Sprintf(" (after %d attempts)", res.Attempts)
		}
	}
}

func unconfirmedHint(rule int) string {
	if rule == 2 {
		return "; not resent under rule 2 (it could import the rows twice)"
	}
	return ""
}

// Reason turns an API failure into a report's reason: the HTTP status,
// code and message the API gave, or the transport error.
func Reason(err error) string {
	var ae *api.Error
	if errors.As(err, &ae) && (ae.Code != "" || ae.Message != "") {
		s := ""
		if ae.HTTPStatus != 0 && ae.HTTPStatus != 200 {
			s = fmt.Sprintf("HTTP %d ", ae.HTTPStatus)
		}
		return s + fmt.Sprintf("code %s: %s", ae.Code, ae.Message)
	}
	return err.Error()
}

// Retry is the retry schedule of one request: exponential and jittered
// from InitialInterval (default 500ms) up to MaxInterval (default 30s), at
// most MaxRetries resends, and never sooner than a Retry-After the server
// asked for.
type Retry struct {
	InitialInterval, MaxInterval time.Duration
	MaxRetries                   int
}

// Do calls attempt until it returns nil or an error wrapped with
// backoff.Permanent, the retries run out, or ctx ends; it returns the last
// error (unwrapped from backoff.Permanent).
func (r Retry) Do(ctx context.Context, attempt func() error) error {
	if r.InitialInterval <= 0 {
		r.InitialInterval = 500 * time.Millisecond
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = 30 * time.Second
	}
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(r.InitialInterval),
		backoff.WithMaxInterval(r.MaxInterval),
		backoff.WithMaxElapsedTime(0), // MaxRetries alone bounds the attempts
	)
	ra := &retryAfterBackOff{BackOff: backoff.WithMaxRetries(exp, uint64(max(r.MaxRetries, 0)))}
	return backoff.RetryNotify(func() error {
		err := attempt()
		ra.next = api.RetryAfter(err)
		return err
	}, backoff.WithContext(ra, ctx), nil)
}

// retryAfterBackOff waits at least as long as the server's Retry-After
// asked, which backoff/v4 does not know about.
type retryAfterBackOff struct {
	backoff.BackOff
	next time.Duration
}

// NextBackOff returns the larger of the wrapped policy's wait and the last
// Retry-After, or Stop when the wrapped policy stops.
func (r *retryAfterBackOff) NextBackOff() time.Duration {
	d := r.BackOff.NextBackOff()
	if d != backoff.Stop && r.next > d {
		d = r.next
	}
	r.next = 0
	return d
}
