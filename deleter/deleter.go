// Package deleter deletes numbers from a dial-out task, one delete call per
// number, paced by the API client's limiter (retries too), with jittered
// exponential retries that honour Retry-After, and one report row
// per number. `numbers delete --from` and `rollback` share it.
//
// A delete by number is idempotent (the second call finds nothing left to
// delete), so unlike an import under rule 2 an ambiguous failure is retried.
package deleter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/importer"
	"github.com/m7import/m7import/retry"
)

// Deleted is the report status of a number whose delete call succeeded: the
// task holds no row with that number (and the other filters) any more.
const Deleted importer.Status = "deleted"

// Client is the part of the API client a Deleter needs; *api.Client is one.
type Client interface {
	DeleteNumbers(ctx context.Context, req api.DeleteNumbersRequest) (api.Meta, error)
}

var _ Client = (*api.Client)(nil)

// Config says how deletes are paced and retried.
type Config struct {
	// MaxRetries is how many times a delete is resent after its first
	// attempt.
	MaxRetries int
	// InitialInterval and MaxInterval bound the exponential backoff between
	// attempts (defaults 500ms and 30s). A Retry-After from the server
	// lengthens the wait, never shortens it.
	InitialInterval time.Duration
	MaxInterval     time.Duration
}

// Deleter sends delete calls. It is safe for concurrent use.
type Deleter struct {
	client Client
	cfg    Config
}

// New returns a Deleter that calls c.
func New(c Client, cfg Config) (*Deleter, error) {
	if c == nil {
		return nil, errors.New("deleter: no API client")
	}
	if cfg.MaxRetries < 0 {
		return nil, fmt.Errorf("deleter: max retries %d: must not be negative", cfg.MaxRetries)
	}
	if cfg.InitialInterval <= 0 {
		cfg.InitialInterval = 500 * time.Millisecond
	}
	if cfg.MaxInterval <= 0 {
		cfg.MaxInterval = 30 * time.Second
	}
	return &Deleter{client: c, cfg: cfg}, nil
}

// Result is how one delete call ended.
type Result struct {
	// Status is Deleted, importer.Failed or importer.Skipped (never sent
	// because the run was stopped).
	Status importer.Status
	// Reason explains any status but Deleted.
	Reason string
	// RequestID is the requestId of the attempt that decided the outcome.
	RequestID string
	// Attempts is how many requests were sent or tried.
	Attempts int
	// Err is the last error, nil when deleted.
	Err error
	// StopRun is set when no later call can succeed either (credentials
	// refused).
	StopRun bool
}

// Delete sends one delete request, retrying failures that api.Classify
// calls retryable or ambiguous.
func (d *Deleter) Delete(ctx context.Context, req api.DeleteNumbersRequest) Result {
	var (
		res       Result
		maybeSent bool // some attempt may have reached the server
	)
	sched := retry.Schedule{Initial: d.cfg.InitialInterval, Max: d.cfg.MaxInterval, MaxRetries: d.cfg.MaxRetries}
	attempt := func() error {
		res.Attempts++
		meta, err := d.client.DeleteNumbers(ctx, req)
		res.RequestID = meta.RequestID
		if err == nil {
			return nil
		}
		class := api.Classify(err)
		if class != api.Retryable {
			maybeSent = true
		}
		switch class {
		case api.Retryable, api.Ambiguous:
			// Deleting a number twice deletes nothing more.
			if ctx.Err() != nil {
				return retry.Permanent(err)
			}
			return err
		default:
			if api.IsAuth(err) {
				res.StopRun = true
			}
			return retry.Permanent(err)
		}
	}
	err := sched.Do(ctx, attempt)
	res.Err = err
	switch {
	case err == nil:
		res.Status = Deleted
	case ctx.Err() != nil && !maybeSent:
		res.Status = importer.Skipped
		res.Reason = "not sent: the run was stopped"
	default:
		res.Status = importer.Failed
		res.Reason = api.Reason(err)
		if api.Classify(err) == api.Ambiguous {
			res.Reason = "outcome unknown: " + res.Reason + "; deleting again is safe"
		}
		if res.Attempts > 1 {
			res.Reason += fmt.Sprintf(" (after %d attempts)", res.Attempts)
		}
	}
	return res
}

// Source yields the rows whose numbers are to be deleted, in order, and
// io.EOF after the last; *importer.Reader is one. A record is deleted by
// its Normalized number; one without (or with status Invalid) is reported
// invalid.
type Source interface {
	Next() (importer.Record, error)
}

var _ Source = (*importer.Reader)(nil)

// Sink takes one report row per record, in input order; every reports
// writer is one.
type Sink interface {
	Write(importer.Record) error
}

// Options configure a Run.
type Options struct {
	// Filter is the request each number's call starts from: the task id
	// and any further filters (name, agent, remark, call result), ANDed
	// with the number.
	Filter api.DeleteNumbersRequest
	// Progress, when set, is called after each row.
	Progress func(Counts)
}

// Counts are a run's per-status tallies; Deleted+Failed+Invalid+Skipped
// is Rows.
type Counts struct {
	Rows    int `json:"rows"`
	Deleted int `json:"deleted"`
	Failed  int `json:"failed"`
	Invalid int `json:"invalid"`
	Skipped int `json:"skipped"`
	// Calls is how many delete requests were sent or tried, retries
	// included.
	Calls int `json:"calls"`
}

// Summary is how a Run ended.
type Summary struct {
	Counts
	// Stopped is why the run stopped before the last row (credentials
	// refused, context cancelled); nil when every row was attempted. The
	// rows after it are Skipped.
	Stopped error
}

// seen is the outcome of the first row with a number, which later rows
// with the same number share: one call deletes every row with a number.
type seen struct {
	row    int
	status importer.Status
	reason string
	reqID  string
}

// Run deletes the number of every row src yields, one call per distinct
// number, and writes each row's outcome to out. It returns an error only
// when src cannot be read or out cannot be written; a refused or stopped
// run is told by Summary.Stopped and the rows' statuses. Memory grows with
// the number of distinct numbers (to send each only once).
func Run(ctx context.Context, d *Deleter, src Source, out Sink, opts Options) (Summary, error) {
	var sum Summary
	if opts.Filter.TaskID == "" {
		return sum, fmt.Errorf("delete numbers: %w", api.ErrMissingTaskID)
	}
	done := map[string]seen{}
	for {
		rec, err := src.Next()
		if err == io.EOF {
			return sum, nil
		}
		if err != nil {
			return sum, fmt.Errorf("read row %d: %w", sum.Rows+1, err)
		}
		sum.Rows++
		rec.Batch = 0
		rec.RequestID = ""
		switch first, dup := done[rec.Normalized]; {
		case rec.Status == importer.Invalid || rec.Normalized == "":
			rec.Status = importer.Invalid
			if rec.Reason == "" {
				rec.Reason = importer.ErrMissingNumber.Error()
			}
		case sum.Stopped != nil || ctx.Err() != nil:
			rec.Status, rec.Reason = importer.Skipped, "not sent: the run was stopped"
			if sum.Stopped == nil {
				sum.Stopped = ctx.Err()
			}
		case dup:
			rec.Status, rec.RequestID = first.status, first.reqID
			rec.Reason = "same number as row " + strconv.Itoa(first.row)
			if first.reason != "" {
				rec.Reason += ": " + first.reason
			}
		default:
			req := opts.Filter
			req.CustomerNumber = rec.Normalized
			res := d.Delete(ctx, req)
			sum.Calls += res.Attempts
			rec.Status, rec.Reason, rec.RequestID = res.Status, res.Reason, res.RequestID
			if res.StopRun {
				sum.Stopped = res.Err
			} else if res.Status == importer.Skipped && sum.Stopped == nil {
				sum.Stopped = ctx.Err()
			}
			done[rec.Normalized] = seen{row: rec.Row, status: res.Status, reason: res.Reason, reqID: res.RequestID}
		}
		switch rec.Status {
		case Deleted:
			sum.Deleted++
		case importer.Failed:
			sum.Failed++
		case importer.Invalid:
			sum.Invalid++
		default:
			sum.Skipped++
		}
		if err := out.Write(rec); err != nil {
			return sum, fmt.Errorf("write report row %d: %w", rec.Row, err)
		}
		if opts.Progress != nil {
			opts.Progress(sum.Counts)
		}
	}
}
