package job

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/m7import/m7import/settle"
)

// AutoConcurrency is how many batches --concurrency auto keeps in flight
// for a rate limit of rate calls a second (0: none) and calls that take
// latency: enough to use the whole rate (rate × latency, rounded up, plus
// one), at most limit.
func AutoConcurrency(rate float64, latency time.Duration, limit int) int {
	if rate <= 0 {
		return limit
	}
	n := int(math.Ceil(rate*latency.Seconds())) + 1
	return max(1, min(n, limit))
}

// autoInFlight follows the observed latency of import calls and says how
// many batches may be in flight now.
type autoInFlight struct {
	rate  float64
	limit int
	warn  func(string)

	mu      sync.Mutex
	latency time.Duration // moving average; 0 until the first call
	warned  bool
}

// startInFlight is how many batches go before any latency is known.
const startInFlight = 2

func (a *autoInFlight) observe(d time.Duration) {
	a.mu.Lock()
	if a.latency == 0 {
		a.latency = d
	} else {
		a.latency = (a.latency*3 + d) / 4
	}
	need := int(math.Ceil(a.rate*a.latency.Seconds())) + 1
	warn := a.rate > 0 && need > a.limit && !a.warned && a.warn != nil
	if warn {
		a.warned = true
	}
	lat := a.latency
	a.mu.Unlock()
	// The slots' waiters see a new limit when the batch that observed it
	// frees its slot, right after this.
	if warn {
		a.warn(formatRateWarning(a.rate, lat, a.limit))
	}
}

func (a *autoInFlight) inFlight() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.latency == 0 {
		return min(startInFlight, a.limit)
	}
	return AutoConcurrency(a.rate, a.latency, a.limit)
}

func formatRateWarning(rate float64, latency time.Duration, limit int) string {
	return fmt.Sprintf("calls take %s: --rate %g would need more than %d batches in flight, the most --concurrency auto uses; the import goes slower than the rate allows",
		latency.Round(time.Millisecond), rate, limit)
}

// MaxAutoConcurrency is the cap of --concurrency auto (NOTES).
const MaxAutoConcurrency = settle.MaxSlots
