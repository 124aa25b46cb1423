package api

import (
	"testing"
	"time"
)

func TestNonceSourceNeverRepeatsWithinTheReplayWindow(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	src := newNonceSource(func() time.Time { return now })
	seen := map[string]bool{}
	for range 50000 {
		n, err := src.next()
		if err != nil {
			t.Fatal(err)
		}
		if len(n) != 6 || n[0] == '0' || seen[n] {
			t.Fatalf("nonce %q: not 6 digits or repeated", n)
		}
		seen[n] = true
	}
	now = now.Add(ReplayWindow + time.Second)
	if _, err := src.next(); err != nil {
		t.Fatal(err)
	}
	if len(src.recent) != 1 || len(src.order) != 1 {
		t.Errorf("after the window %d nonces are remembered, want 1", len(src.recent))
	}
}
