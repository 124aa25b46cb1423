package i18n

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Lang is a language m7import speaks to people.
type Lang int

// The languages. The zero value is English.
const (
	En Lang = iota
	Zh
)

// String returns the --lang spelling: "en" or "zh".
func (l Lang) String() string {
	if l == Zh {
		return "zh"
	}
	return "en"
}

// ErrUnknownLang is wrapped by Parse's error for a language it does not speak.
var ErrUnknownLang = errors.New("unknown language (want zh or en)")

// Parse reads a --lang value: "zh" or "en", case-insensitive, also with a
// region or encoding ("zh-CN", "zh_TW.UTF-8", "en_US").
func Parse(s string) (Lang, error) {
	if l, ok := tag(s); ok {
		return l, nil
	}
	return En, fmt.Errorf("--lang %q: %w", s, ErrUnknownLang)
}

// tag reads a locale name or language tag: zh* is Chinese, en*, C and
// POSIX English; anything else is not known.
func tag(s string) (Lang, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	primary := s
	if i := strings.IndexAny(s, "-_.@"); i >= 0 {
		primary = s[:i]
	}
	switch primary {
	case "zh":
		return Zh, true
	case "en", "c", "posix":
		return En, true
	}
	return En, false
}

// FromEnv picks the language of the environment as a POSIX program would:
// the first of LC_ALL, LC_MESSAGES and LANG that is set and not empty
// decides; zh_* is Chinese, anything else (C, POSIX, en_US, fr_FR, unset)
// English. getenv is os.Getenv, or a map's lookup in tests.
func FromEnv(getenv func(string) string) Lang {
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(name); v != "" {
			l, _ := tag(v)
			return l
		}
	}
	return En
}

// FromAcceptLanguage picks the language of an HTTP Accept-Language header
// ("zh-CN,zh;q=0.9,en;q=0.8"): the language tag with the highest q-value
// among those spoken here wins, the earlier one on a tie; q=0 means "not
// this one". A header naming neither language, empty or malformed, gives
// English. "*" stands for English, the default, when nothing better is
// offered.
func FromAcceptLanguage(h string) Lang {
	best, bestQ := En, -1.0
	for part := range strings.SplitSeq(h, ",") {
		name, params, _ := strings.Cut(part, ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
				continue
			}
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f > 1 {
				f = 0 // a malformed weight is ignored, not trusted
			}
			q = f
		}
		name = strings.TrimSpace(name)
		l, ok := tag(name)
		if name == "*" {
			l, ok = En, true
		}
		if !ok || q <= 0 || strings.EqualFold(name, "c") || strings.EqualFold(name, "posix") {
			continue
		}
		if q > bestQ {
			best, bestQ = l, q
		}
	}
	return best
}
