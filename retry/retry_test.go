package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
	"github.com/m7import/m7import/retry"
)

// fakeTimer records the waits it is asked for and fires at once, so the
// schedule is tested as arithmetic, without sleeping.
type fakeTimer struct {
	waits []time.Duration
	c     chan time.Time
}

func (f *fakeTimer) Start(d time.Duration) {
	f.waits = append(f.waits, d)
	f.c = make(chan time.Time, 1)
	f.c <- time.Time{}
}
func (f *fakeTimer) Stop()               {}
func (f *fakeTimer) C() <-chan time.Time { return f.c }

// busy is a retryable API error, optionally asking for a wait.
func busy(retryAfter time.Duration) error {
	return &api.Error{HTTPStatus: 503, Code: "503", Message: "busy", RetryAfter: retryAfter}
}

func TestScheduleWaits(t *testing.T) {
	tests := []struct {
		name       string
		sched      retry.Schedule
		errs       []error // what each attempt returns; nil succeeds
		attempts   int
		minWaits   []time.Duration // each wait is at least this
		maxWaits   []time.Duration // and at most this (jitter ±50%, Retry-After)
		wantErr    bool
		wantTooLng bool
	}{
		{
			name: "exponential from Initial, capped at Max, until MaxRetries",
			// Each wait is the interval ±50% (backoff's jitter); the interval
			// grows 1.5× and stops growing at Max.
			sched:    retry.Schedule{Initial: 100 * time.Millisecond, Max: 300 * time.Millisecond, MaxRetries: 5},
			errs:     []error{busy(0), busy(0), busy(0), busy(0), busy(0), busy(0), busy(0)},
			attempts: 6,
			minWaits: []time.Duration{50 * time.Millisecond, 75 * time.Millisecond, 112 * time.Millisecond, 150 * time.Millisecond, 150 * time.Millisecond},
			maxWaits: []time.Duration{150 * time.Millisecond, 225 * time.Millisecond, 338 * time.Millisecond, 450 * time.Millisecond, 450 * time.Millisecond},
			wantErr:  true,
		},
		{
			name:     "success stops the retries",
			sched:    retry.Schedule{Initial: time.Second, MaxRetries: 5},
			errs:     []error{busy(0), nil},
			attempts: 2,
			minWaits: []time.Duration{500 * time.Millisecond},
			maxWaits: []time.Duration{1500 * time.Millisecond},
		},
		{
			name:     "Retry-After lengthens a wait, never shortens it",
			sched:    retry.Schedule{Initial: 10 * time.Millisecond, Max: 10 * time.Second, MaxRetries: 2},
			errs:     []error{busy(4 * time.Second), nil},
			attempts: 2,
			minWaits: []time.Duration{4 * time.Second},
			maxWaits: []time.Duration{4 * time.Second},
		},
		{
			name:       "Retry-After longer than Max fails at once",
			sched:      retry.Schedule{Initial: 10 * time.Millisecond, Max: 30 * time.Second, MaxRetries: 5},
			errs:       []error{busy(24 * time.Hour)},
			attempts:   1,
			wantErr:    true,
			wantTooLng: true,
		},
		{
			name:     "permanent errors are not retried",
			sched:    retry.Schedule{MaxRetries: 5},
			errs:     []error{retry.Permanent(errors.New("bad request"))},
			attempts: 1,
			wantErr:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timer := &fakeTimer{}
			tt.sched.Timer = timer
			n := 0
			err := tt.sched.Do(context.Background(), func() error {
				n++
				return tt.errs[n-1]
			})
			if n != tt.attempts {
				t.Errorf("%d attempts, want %d", n, tt.attempts)
			}
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v", err)
			}
			var long *retry.WaitTooLongError
			if errors.As(err, &long) != tt.wantTooLng {
				t.Errorf("err = %v, want a WaitTooLongError: %v", err, tt.wantTooLng)
			}
			if len(timer.waits) != len(tt.minWaits) {
				t.Fatalf("waits %v, want %d of them", timer.waits, len(tt.minWaits))
			}
			for i, w := range timer.waits {
				if w < tt.minWaits[i] || w > tt.maxWaits[i] {
					t.Errorf("wait %d = %v, want within [%v, %v]", i, w, tt.minWaits[i], tt.maxWaits[i])
				}
			}
		})
	}
}
