package importer

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// agree checks that whenever the fast path decides s, the full parse
// decides the same: the same dial form, or invalid with the same reason.
func agree(t *testing.T, n *Normalizer, s string) {
	t.Helper()
	out, v := n.fast.normalize(s)
	switch v {
	case fastValid:
		want, err := n.full(s)
		if err != nil || out != want {
			t.Errorf("fast path %q -> %q; full parse -> %q, %v", s, out, want, err)
		}
	case fastInvalid:
		got, gotErr := n.Normalize(s) // fast verdict with its reason
		want, err := n.full(s)
		if err == nil || gotErr == nil || gotErr.Error() != err.Error() {
			t.Errorf("fast path %q -> invalid (%q, %v); full parse -> %q, %v", s, got, gotErr, want, err)
		}
	}
}

func FuzzFastPathAgreesWithFullParse(f *testing.F) {
	for _, s := range []string{
		"13800138000", "+86 138-0013-8000", "008613800138000", "8613800138000",
		"01012345678", "010-12345678", "(0755)12345678", "075512345678",
		"４００８００１２３４", "１３８００１３８０００", "17400123456", "19912345678",
		"09911234567", "04008001234", "08001234567", "+8613800138000", "0211234567",
		"1380013800", "138001380001", "4008001234", "+86 21 8377 8555", "+86 755 8194 4485", "+86 351 673 9199", "+86 10 8004 6531", "+86 010 8004 6531", "800-820-8820", "4001234567", "8001234567", "1390000", "17900138000", "1-3-8", "13800 138 00",
	} {
		f.Add(s)
	}
	n, err := NewNormalizer("CN", Strict)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) { agree(t, n, s) })
}

// TestFastPathSweep compares both paths on numbers spread over every prefix
// of up to four digits, for each length and shape the fast path takes.
func TestFastPathSweep(t *testing.T) {
	n, err := NewNormalizer("CN", Strict)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	accepted := 0
	for p := range 10000 {
		for _, l := range []int{7, 8, 9, 10, 11, 12} {
			for range 1 {
				s := fmt.Sprintf("%04d", p)
				for len(s) < l {
					s += string(rune('0' + rng.IntN(10)))
				}
				for _, in := range []string{s, "0" + s[:l-1], "+86" + s, "86" + s, "0086 " + s} {
					if _, v := n.fast.normalize(in); v != fastUnsure {
						accepted++
					}
					agree(t, n, in)
				}
			}
		}
		if t.Failed() {
			return
		}
	}
	// Service numbers and mobiles, densely.
	for _, p := range []string{"400", "800", "130", "145", "166", "174", "191", "199"} {
		for range 300 {
			s := p
			for len(s) < 10+rng.IntN(2) {
				s += string(rune('0' + rng.IntN(10)))
			}
			agree(t, n, s)
			agree(t, n, s[:3]+"-"+s[3:6]+"-"+s[6:])
		}
	}
	t.Logf("fast path accepted %d inputs", accepted)
}
