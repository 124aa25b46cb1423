// Package settle is the numberTotal proof: under dedupe rule 2 every batch
// the server processes grows the task's numberTotal by exactly its rows, so
// the count says which batches of unknown fate landed — provided that no
// two sets of batches that can be in doubt together add up to nearly the
// same number of rows. This package is the one home of that arithmetic:
// the batch sizes that keep sets apart (Sizes), the proof itself (Decide),
// and the bookkeeping of one run (Tracker), used by the uploader during a
// run and by the job on --resume.
//
// The proof assumes that nobody else writes to the task meanwhile, and that
// a request the server has not finished within the grace period after it
// was sent never will be (the API has no idempotency key): a batch the
// count shows as not landed is resent only once the grace period since its
// last attempt began has passed.
package settle

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Tolerance is how many rows a landed set of batches may differ from the
// task's growth and still be recognised: the server may drop a few rows of
// a batch (NOTES: settling by count when the server drops a few rows).
const Tolerance = 3

// MaxSlots is the most batches that can be in flight (or in doubt) at once.
const MaxSlots = 8

// offsetStep is the smallest difference between two slots' sizes.
const offsetStep = 8

// Sizes returns the batch size of each slot for up to want batches in
// flight at once under rule 2: slot k holds batches of max − o_k rows with
// offsets 0, 8, 16, 32, 64, …, so that any two different sets of slots add
// up to sizes more than 2×Tolerance apart and the count growth names the
// set that landed. With a max too small for want slots, fewer are
// returned (at least one).
func Sizes(max, want int) []int {
	want = min(want, MaxSlots)
	sizes := []int{max}
	for k := 1; k < want; k++ {
		off := offsetStep << (k - 1) // 8, 16, 32, …
		if max-off < 1 {
			break
		}
		next := append(slices.Clone(sizes), max-off)
		if !Distinct(next) {
			break
		}
		sizes = next
	}
	return sizes
}

// Distinct reports whether every two different subsets of sizes add up
// to sums more than 2×Tolerance apart.
func Distinct(sizes []int) bool {
	sums := subsetSums(sizes)
	sort.Ints(sums)
	for i := 1; i < len(sums); i++ {
		if sums[i]-sums[i-1] <= 2*Tolerance {
			return false
		}
	}
	return true
}

func subsetSums(sizes []int) []int {
	sums := make([]int, 1<<len(sizes))
	for mask := 1; mask < len(sums); mask++ {
		low := mask & -mask
		i := bitIndex(low)
		sums[mask] = sums[mask^low] + sizes[i]
	}
	return sums
}

func bitIndex(x int) int {
	n := 0
	for x > 1 {
		x >>= 1
		n++
	}
	return n
}

// Decide names the batches of unknown fate that landed: unknown maps batch
// numbers to their rows, delta is how much the task grew beyond what the
// batches known to be imported account for. It returns the one set of
// batches whose rows add up to delta within Tolerance — less for batches
// too small to allow it — (landed[seq] true
// for those, false for the rest of unknown); ok is false when no set fits
// (someone else changed the task) or more than one does.
func Decide(unknown map[int]int, delta int) (landed map[int]bool, ok bool) {
	if len(unknown) > 16 {
		return nil, false
	}
	seqs := make([]int, 0, len(unknown))
	sizes := make([]int, 0, len(unknown))
	for s := range unknown {
		seqs = append(seqs, s)
	}
	sort.Ints(seqs)
	for _, s := range seqs {
		sizes = append(sizes, unknown[s])
	}
	tol := tolerance(sizes)
	match, found := 0, 0
	for mask := 0; mask < 1<<len(seqs); mask++ {
		sum := 0
		for i, s := range seqs {
			if mask&(1<<i) != 0 {
				sum += unknown[s]
			}
		}
		if sum-delta <= tol && delta-sum <= tol {
			match, found = mask, found+1
		}
	}
	if found != 1 {
		return nil, false
	}
	landed = make(map[int]bool, len(seqs))
	for i, s := range seqs {
		landed[s] = match&(1<<i) != 0
	}
	return landed, true
}

// tolerance is Tolerance, or less when the sets of sizes are closer than
// 2×Tolerance+1 apart (small batches), so that at most one set can ever
// fit a growth.
func tolerance(sizes []int) int {
	sums := subsetSums(sizes)
	sort.Ints(sums)
	gap := 2*Tolerance + 1
	for i := 1; i < len(sums); i++ {
		gap = min(gap, sums[i]-sums[i-1])
	}
	return max(0, min(Tolerance, (gap-1)/2))
}

// Mismatch explains a growth that no set of the batches in doubt explains.
func Mismatch(unknown map[int]int, delta int) string {
	seqs := make([]int, 0, len(unknown))
	for s := range unknown {
		seqs = append(seqs, s)
	}
	sort.Ints(seqs)
	parts := make([]string, len(seqs))
	total := 0
	for i, s := range seqs {
		parts[i] = fmt.Sprintf("batch %d: %d rows", s, unknown[s])
		total += unknown[s]
	}
	return fmt.Sprintf("the task grew by %d numbers, which no set of the batches in doubt explains (%s; between 0 and %d expected): another import into the same task?",
		delta, strings.Join(parts, ", "), total)
}
