package main

import (
	"testing"
	"time"
)

func TestAnalyzeCountsTheBusiestOneSecondWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		var ts []time.Time
		for _, m := range ms {
			ts = append(ts, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return ts
	}
	tests := []struct {
		name  string
		times []time.Time
		span  time.Duration
		most  int
	}{
		{"none", nil, 0, 0},
		{"one", at(5), 0, 1},
		{"evenly 10/s", at(0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100), 1100 * time.Millisecond, 10},
		{"a window is half-open", at(0, 1000), time.Second, 1},
		{"a burst in the middle", at(0, 900, 950, 990, 1500, 3000), 3 * time.Second, 4},
		{"unsorted input", at(300, 0, 200, 100), 300 * time.Millisecond, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			span, most := analyze(tt.times, time.Second)
			if span != tt.span || most != tt.most {
				t.Fatalf("analyze = %v, %d; want %v, %d", span, most, tt.span, tt.most)
			}
		})
	}
}
