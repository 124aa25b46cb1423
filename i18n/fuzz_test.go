package i18n

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzReason: Reason never panics, gives English back unchanged, and
// gives valid UTF-8 for valid UTF-8.
func FuzzReason(f *testing.F) {
	for _, tc := range knownReasons {
		f.Add(tc.en)
	}
	f.Add("{1}{9}{")
	f.Add(strings.Repeat("outcome unknown: ", 20) + "too long")
	f.Add(strings.Repeat("x (after 2 attempts)", 30))
	f.Add("not a valid \xff number")
	f.Fuzz(func(t *testing.T, s string) {
		if got := Reason(En, s); got != s {
			t.Fatalf("Reason(En, %q) = %q", s, got)
		}
		zh := Reason(Zh, s)
		if utf8.ValidString(s) && !utf8.ValidString(zh) {
			t.Fatalf("Reason(Zh, %q) = %q: invalid UTF-8", s, zh)
		}
		if !utf8.ValidString(s) && zh != s {
			t.Fatalf("Reason(Zh, %q) = %q: invalid input must be kept", s, zh)
		}
	})
}

// FuzzFromAcceptLanguage: any header gives one of the two languages, and
// never panics.
func FuzzFromAcceptLanguage(f *testing.F) {
	for _, s := range []string{"zh-CN,zh;q=0.9,en;q=0.8", "*;q=0.1", "en;q=", ";", "zh;q=1e309"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if l := FromAcceptLanguage(h); l != En && l != Zh {
			t.Fatalf("FromAcceptLanguage(%q) = %d", h, l)
		}
		if l, err := Parse(h); err == nil && l != En && l != Zh {
			t.Fatalf("Parse(%q) = %d", h, l)
		}
	})
}
