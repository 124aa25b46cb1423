package job

import (
	"testing"
	"time"
)

func TestAutoConcurrencyUsesTheWholeRate(t *testing.T) {
	tests := []struct {
		rate    float64
		latency time.Duration
		want    int
	}{
		{10, 300 * time.Millisecond, 4}, // 3 calls under way fill 10/s; one more covers the jitter
		{5, 300 * time.Millisecond, 3},
		{5, 50 * time.Millisecond, 2},
		{20, time.Second, 8}, // would need 21: capped
		{0, time.Second, 8},  // no limit: as many as the cap
		{1, time.Millisecond, 2},
	}
	for _, tt := range tests {
		if got := AutoConcurrency(tt.rate, tt.latency, MaxAutoConcurrency); got != tt.want {
			t.Errorf("AutoConcurrency(%v, %v) = %d, want %d", tt.rate, tt.latency, got, tt.want)
		}
	}
}

func TestAutoInFlightFollowsTheObservedLatencyAndWarnsOnce(t *testing.T) {
	var warnings []string
	a := &autoInFlight{rate: 10, limit: MaxAutoConcurrency, warn: func(s string) { warnings = append(warnings, s) }}
	if got := a.inFlight(); got != startInFlight {
		t.Fatalf("before any call: %d in flight, want %d", got, startInFlight)
	}
	for range 20 {
		a.observe(300 * time.Millisecond)
	}
	if got := a.inFlight(); got != 4 {
		t.Fatalf("at 300 ms: %d in flight, want 4", got)
	}
	for range 20 {
		a.observe(2 * time.Second)
	}
	if got := a.inFlight(); got != MaxAutoConcurrency {
		t.Fatalf("at 2 s: %d in flight, want the cap", got)
	}
	if len(warnings) != 1 {
		t.Fatalf("warnings %q, want one", warnings)
	}
}
