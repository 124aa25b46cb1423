// Package retry is the retry schedule of the senders (the uploader and the
// deleter): jittered exponential waits that honour the server's
// Retry-After, bounded by a count of resends rather than by elapsed time.
// Whether an error is worth retrying is api.Classify's decision, not this
// package's.
package retry

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/m7import/m7import/api"
)

// Defaults of a Schedule's zero fields.
const (
	DefaultInitial = 500 * time.Millisecond
	DefaultMax     = 30 * time.Second
)

// Schedule is the retry schedule of one request: exponential and jittered
// from Initial up to Max, at most MaxRetries resends, and never sooner than
// a Retry-After the server asked for — unless that is longer than Max, in
// which case the request fails at once with ErrRetryAfterTooLong rather
// than sleeping for hours without a word.
type Schedule struct {
	Initial, Max time.Duration
	MaxRetries   int
	// Timer waits between attempts (default: a real timer); tests inject
	// one that records the waits and fires at once.
	Timer backoff.Timer
	// Stop, when it closes, ends a wait between attempts at once (the run
	// was stopped): Do then returns a *StoppedError. An attempt already
	// under way is not interrupted.
	Stop <-chan struct{}
}

// StoppedError is Do's error when Stop closed while it waited to retry.
type StoppedError struct {
	// Last is the error of the last attempt.
	Last error
}

func (e *StoppedError) Error() string {
	return "the run was stopped while waiting to retry: " + e.Last.Error()
}

func (e *StoppedError) Unwrap() error { return e.Last }

// WaitTooLongError is Do's error when the server asked (Retry-After) to
// wait longer than the schedule's Max: the request fails rather than
// sleeping silently for hours.
type WaitTooLongError struct {
	Wait, Max time.Duration
	// Err is the reply that asked for the wait.
	Err error
}

func (e *WaitTooLongError) Error() string {
	return fmt.Sprintf("the server asked to wait %s (Retry-After), longer than --retry-max %s", e.Wait, e.Max)
}

func (e *WaitTooLongError) Unwrap() error { return e.Err }

// Permanent marks an error that must not be retried.
func Permanent(err error) error { return backoff.Permanent(err) }

// Do calls attempt until it returns nil or an error marked Permanent, the
// retries run out, or ctx ends; it returns the last error (unwrapped from
// Permanent).
func (s Schedule) Do(ctx context.Context, attempt func() error) error {
	s = s.withDefaults()
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(s.Initial),
		backoff.WithMaxInterval(s.Max),
		backoff.WithMaxElapsedTime(0), // MaxRetries alone bounds the attempts
	)
	ra := &retryAfter{BackOff: backoff.WithMaxRetries(exp, uint64(max(s.MaxRetries, 0)))}
	wctx := ctx
	if s.Stop != nil {
		var cancel context.CancelFunc
		wctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-s.Stop:
				cancel()
			case <-wctx.Done():
			}
		}()
	}
	var last error
	err := backoff.RetryNotifyWithTimer(func() error {
		err := attempt()
		last = err
		d := api.RetryAfter(err)
		if d > s.Max {
			return backoff.Permanent(&WaitTooLongError{Wait: d, Max: s.Max, Err: err})
		}
		ra.next = d
		return err
	}, backoff.WithContext(ra, wctx), nil, s.Timer)
	if errors.Is(err, context.Canceled) && last != nil && ctx.Err() == nil && wctx.Err() != nil {
		return &StoppedError{Last: last}
	}
	return err
}

func (s Schedule) withDefaults() Schedule {
	if s.Initial <= 0 {
		s.Initial = DefaultInitial
	}
	if s.Max <= 0 {
		s.Max = DefaultMax
	}
	return s
}

// retryAfter waits at least as long as the server's Retry-After asked,
// which backoff/v4 does not know about.
type retryAfter struct {
	backoff.BackOff
	next time.Duration
}

// NextBackOff returns the larger of the wrapped policy's wait and the last
// Retry-After, or Stop when the wrapped policy stops.
func (r *retryAfter) NextBackOff() time.Duration {
	d := r.BackOff.NextBackOff()
	if d != backoff.Stop && r.next > d {
		d = r.next
	}
	r.next = 0
	return d
}
