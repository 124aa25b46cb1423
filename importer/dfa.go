package importer

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// digitDFA is a deterministic automaton over the ten ASCII digits, built by
// subset construction from one of libphonenumber's national-number patterns.
// It answers exactly what the library's regexp answers for a whole-string
// match of a digit string, in one table lookup per digit.
type digitDFA struct {
	next   [][10]int32 // -1: dead
	accept []bool
}

const maxDFAStates = 1 << 14

var errDFAUnsupported = errors.New("pattern not supported by the digit automaton")

// compileDigitDFA builds the automaton for a whole match of pattern.
func compileDigitDFA(pattern string) (*digitDFA, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, err
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, err
	}
	// closure adds pc and everything reachable from it without consuming
	// input; it keeps only instructions that consume a rune or match.
	var closure func(pc uint32, seen []bool, out *[]uint32) error
	closure = func(pc uint32, seen []bool, out *[]uint32) error {
		if seen[pc] {
			return nil
		}
		seen[pc] = true
		in := &prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			if err := closure(in.Out, seen, out); err != nil {
				return err
			}
			return closure(in.Arg, seen, out)
		case syntax.InstCapture, syntax.InstNop:
			return closure(in.Out, seen, out)
		case syntax.InstFail:
			return nil
		case syntax.InstEmptyWidth:
			return errDFAUnsupported
		default: // rune instructions and InstMatch
			*out = append(*out, pc)
			return nil
		}
	}
	key := func(set []uint32) string {
		var b strings.Builder
		for _, pc := range set {
			b.WriteString(strconv.FormatUint(uint64(pc), 36))
			b.WriteByte(',')
		}
		return b.String()
	}
	d := &digitDFA{}
	ids := map[string]int32{}
	var sets [][]uint32
	add := func(set []uint32) int32 {
		slices.Sort(set)
		set = slices.Compact(set)
		k := key(set)
		if id, ok := ids[k]; ok {
			return id
		}
		id := int32(len(sets))
		ids[k] = id
		sets = append(sets, set)
		acc := false
		for _, pc := range set {
			if prog.Inst[pc].Op == syntax.InstMatch {
				acc = true
			}
		}
		d.accept = append(d.accept, acc)
		d.next = append(d.next, [10]int32{})
		return id
	}
	var start []uint32
	if err := closure(uint32(prog.Start), make([]bool, len(prog.Inst)), &start); err != nil {
		return nil, err
	}
	add(start)
	for i := 0; i < len(sets); i++ {
		if len(sets) > maxDFAStates {
			return nil, errDFAUnsupported
		}
		for dg := range 10 {
			var nxt []uint32
			seen := make([]bool, len(prog.Inst))
			for _, pc := range sets[i] {
				in := &prog.Inst[pc]
				if in.Op == syntax.InstMatch || !in.MatchRune(rune('0'+dg)) {
					continue
				}
				if err := closure(in.Out, seen, &nxt); err != nil {
					return nil, err
				}
			}
			if len(nxt) == 0 {
				d.next[i][dg] = -1
				continue
			}
			d.next[i][dg] = add(nxt)
		}
	}
	return d, nil
}

// match reports whether the whole of digits (ASCII digits only) matches.
func (d *digitDFA) match(digits []byte) bool {
	s := int32(0)
	for _, c := range digits {
		c -= '0'
		if c > 9 {
			return false
		}
		s = d.next[s][c]
		if s < 0 {
			return false
		}
	}
	return d.accept[s]
}

// combine returns the product automaton of a and b, accepting what both
// accept (or=false) or what either accepts (or=true).
func (a *digitDFA) combine(b *digitDFA, or bool) (*digitDFA, error) {
	d := &digitDFA{}
	ids := map[[2]int32]int32{}
	var pairs [][2]int32
	acc := func(x *digitDFA, s int32) bool { return s >= 0 && x.accept[s] }
	add := func(p [2]int32) int32 {
		if id, ok := ids[p]; ok {
			return id
		}
		id := int32(len(pairs))
		ids[p] = id
		pairs = append(pairs, p)
		if or {
			d.accept = append(d.accept, acc(a, p[0]) || acc(b, p[1]))
		} else {
			d.accept = append(d.accept, acc(a, p[0]) && acc(b, p[1]))
		}
		d.next = append(d.next, [10]int32{})
		return id
	}
	add([2]int32{0, 0})
	for i := 0; i < len(pairs); i++ {
		if len(pairs) > maxDFAStates {
			return nil, errDFAUnsupported
		}
		p := pairs[i]
		for c := range 10 {
			x, y := int32(-1), int32(-1)
			if p[0] >= 0 {
				x = a.next[p[0]][c]
			}
			if p[1] >= 0 {
				y = b.next[p[1]][c]
			}
			if (x < 0 && y < 0) || (!or && (x < 0 || y < 0)) {
				d.next[i][c] = -1
				continue
			}
			d.next[i][c] = add([2]int32{x, y})
		}
	}
	return d, nil
}

// lengthDFA accepts digit strings whose length has its bit set in mask.
func lengthDFA(mask uint64) *digitDFA {
	d := &digitDFA{}
	for l := range 64 {
		var t [10]int32
		for c := range t {
			t[c] = int32(l + 1)
			if l == 63 {
				t[c] = -1
			}
		}
		d.next = append(d.next, t)
		d.accept = append(d.accept, mask&(1<<l) != 0)
	}
	return d
}
