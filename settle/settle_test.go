package settle_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m7import/m7import/settle"
)

func TestSizesKeepEverySetOfSlotsApart(t *testing.T) {
	tests := []struct {
		max, want int
		sizes     []int
	}{
		{2000, 1, []int{2000}},
		{2000, 4, []int{2000, 1992, 1984, 1968}},
		{2000, 8, []int{2000, 1992, 1984, 1968, 1936, 1872, 1744, 1488}},
		{500, 8, []int{500, 492, 484, 468, 436, 372, 244}},
		{10, 4, []int{10}}, // 10 and 2 would be within 2x3 rows of 0 and 12
		{1, 8, []int{1}},
	}
	for _, tt := range tests {
		got := settle.Sizes(tt.max, tt.want)
		if len(got) != len(tt.sizes) {
			t.Fatalf("Sizes(%d, %d) = %v, want %v", tt.max, tt.want, got, tt.sizes)
		}
		for i := range got {
			if got[i] != tt.sizes[i] {
				t.Fatalf("Sizes(%d, %d) = %v, want %v", tt.max, tt.want, got, tt.sizes)
			}
		}
		if len(got) > 1 && !settle.Distinct(got) {
			t.Fatalf("Sizes(%d, %d) = %v: two sets of slots add up within %d rows", tt.max, tt.want, got, 2*settle.Tolerance)
		}
	}
	if settle.Distinct([]int{500, 500}) {
		t.Fatal("two equal sizes reported distinct")
	}
}

func TestDecideNamesTheOneSetThatLanded(t *testing.T) {
	unknown := map[int]int{1: 2000, 2: 1992, 3: 1984, 4: 1968}
	tests := []struct {
		name   string
		delta  int
		landed []int
		ok     bool
	}{
		{"none landed", 0, nil, true},
		{"all landed", 2000 + 1992 + 1984 + 1968, []int{1, 2, 3, 4}, true},
		{"one", 1984, []int{3}, true},
		{"two, a row dropped by the server", 2000 + 1968 - 1, []int{1, 4}, true},
		{"three rows dropped", 1992 - 3, []int{2}, true},
		{"growth no set explains", 1000, nil, false},
		{"negative", -5, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := settle.Decide(unknown, tt.delta)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%v)", ok, tt.ok, got)
			}
			if !ok {
				return
			}
			want := map[int]bool{}
			for _, s := range tt.landed {
				want[s] = true
			}
			for s := range unknown {
				if got[s] != want[s] {
					t.Fatalf("landed %v, want %v", got, tt.landed)
				}
			}
		})
	}
	if got, ok := settle.Decide(map[int]int{1: 1}, 1); !ok || !got[1] {
		t.Fatal("a one-row batch and growth 1: not settled")
	}
	if got, ok := settle.Decide(map[int]int{1: 1}, 0); !ok || got[1] {
		t.Fatal("a one-row batch and no growth: not settled")
	}
	if _, ok := settle.Decide(map[int]int{1: 500, 2: 500}, 500); ok {
		t.Fatal("two batches of 500 with growth 500: the count cannot say which, yet Decide decided")
	}
}

// fakeClock is a clock whose sleeps advance it at once.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	slept  []time.Duration
	onWake func()
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.slept = append(c.slept, d)
	wake := c.onWake
	c.mu.Unlock()
	if wake != nil {
		wake()
	}
	return ctx.Err()
}

func TestTrackerSettles(t *testing.T) {
	const grace = 10 * time.Second
	t.Run("landed: imported at once, no wait", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		total := 100
		tr := settle.NewTracker(func(context.Context) (int, error) { return total, nil }, 100, settle.TrackerOptions{Grace: grace, Now: clock.Now, Sleep: clock.Sleep})
		tr.Begin(1, 500)
		tr.Begin(2, 492)
		total += 492 // batch 2 landed; its reply was lost
		res := tr.Settle(context.Background(), 2)
		if res.Verdict != settle.Landed || len(clock.slept) != 0 || tr.SettledByCount() != 1 {
			t.Fatalf("got %+v after sleeping %v", res, clock.slept)
		}
		tr.Landed(1) // batch 1's reply comes; the books still add up
		total += 500
		tr.Begin(3, 484)
		if res := tr.Settle(context.Background(), 3); res.Verdict == settle.Landed {
			t.Fatalf("batch 3 never landed: %+v", res)
		}
	})
	t.Run("not landed: resent only after the grace period, counted again then", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		reads := 0
		tr := settle.NewTracker(func(context.Context) (int, error) { reads++; return 0, nil }, 0, settle.TrackerOptions{Grace: grace, Now: clock.Now, Sleep: clock.Sleep})
		tr.Begin(1, 500)
		clock.now = clock.now.Add(3 * time.Second) // the reply timed out after 3 s
		res := tr.Settle(context.Background(), 1)
		if res.Verdict != settle.NotLanded || len(clock.slept) != 1 || clock.slept[0] != 7*time.Second || reads != 2 {
			t.Fatalf("got %+v, slept %v, %d reads", res, clock.slept, reads)
		}
	})
	t.Run("a slow server's batch lands during the grace period", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		total := 0
		clock.onWake = func() { total = 500 } // it landed while we waited
		tr := settle.NewTracker(func(context.Context) (int, error) { return total, nil }, 0, settle.TrackerOptions{Grace: grace, Now: clock.Now, Sleep: clock.Sleep})
		tr.Begin(1, 500)
		if res := tr.Settle(context.Background(), 1); res.Verdict != settle.Landed {
			t.Fatalf("got %+v: a batch that landed late must not be resent", res)
		}
	})
	t.Run("another writer: unknown, the reason says by how much", func(t *testing.T) {
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		tr := settle.NewTracker(func(context.Context) (int, error) { return 1037, nil }, 0, settle.TrackerOptions{Grace: grace, Now: clock.Now, Sleep: clock.Sleep})
		tr.Begin(1, 500)
		res := tr.Settle(context.Background(), 1)
		if res.Verdict != settle.Unknown || !strings.Contains(res.Reason, "grew by 1037") {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("the count cannot be read", func(t *testing.T) {
		tr := settle.NewTracker(func(context.Context) (int, error) { return 0, errors.New("HTTP 502") }, 0, settle.TrackerOptions{Grace: grace})
		tr.Begin(1, 500)
		if res := tr.Settle(context.Background(), 1); res.Verdict != settle.Unknown || !strings.Contains(res.Reason, "HTTP 502") {
			t.Fatalf("got %+v", res)
		}
	})
}
