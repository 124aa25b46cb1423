package pipeline

import "github.com/m7import/m7import/importer"

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
