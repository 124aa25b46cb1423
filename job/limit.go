package job

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// Limit is a --max-invalid threshold: a count or a percentage of rows.
// The zero Limit is off.
type Limit struct {
	set     bool
	count   int
	percent float64
	isPct   bool
	text    string
}

// ParseLimit reads "50" or "5%"; "" is off.
func ParseLimit(s string) (Limit, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Limit{}, nil
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 || math.IsNaN(v) {
			return Limit{}, errors.New("want a count like 50 or a percentage like 5%")
		}
		return Limit{set: true, percent: v, isPct: true, text: s}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return Limit{}, errors.New("want a count like 50 or a percentage like 5%")
	}
	return Limit{set: true, count: n, text: s}, nil
}

// Set reports whether the limit is on.
func (l Limit) Set() bool { return l.set }

// String is the limit as the user wrote it.
func (l Limit) String() string { return l.text }

// Exceeded reports whether invalid of rows breaks the limit.
func (l Limit) Exceeded(invalid, rows int) bool {
	if !l.set {
		return false
	}
	if l.isPct {
		return rows > 0 && float64(invalid)*100 > l.percent*float64(rows)
	}
	return invalid > l.count
}
