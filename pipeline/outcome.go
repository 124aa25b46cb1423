package pipeline

import (
	"context"

	"github.com/m7import/m7import/importer"
)

// Outcome is how one batch ended: what a Sender returns and a Ledger
// records.
type Outcome struct {
	// Status is Imported, Failed, Unconfirmed or Skipped (Valid in a dry
	// run).
	Status importer.Status
	// Reason explains any status but Imported, or how an Imported batch
	// was confirmed when its reply was lost.
	Reason string
	// RequestID is the requestId of the attempt that decided the outcome.
	RequestID string
	// Attempts is how many requests were sent or tried; Attempts-1 of them
	// were retries.
	Attempts int
	// Err is the last error, nil when imported.
	Err error
	// StopRun is set when the failure means no later batch can succeed
	// either (credentials refused, the journal unwritable).
	StopRun bool
}

// Retries is the number of attempts after the first.
func (o Outcome) Retries() int {
	if o.Attempts > 1 {
		return o.Attempts - 1
	}
	return 0
}

type stopKey struct{}

// withStop marks ctx, the context batches are sent under, with the channel
// that closes when the run is stopped (Ctrl-C, SIGTERM): a sender stops
// waiting (to retry, to settle) at once then, while a request already
// under way gets the drain timeout.
func withStop(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

// Stopping returns the channel that closes when the run a batch belongs to
// is stopped (nil outside a Run).
func Stopping(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return ch
}
