package api

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzSnippet: whatever a server sends, the message part is one line of
// valid UTF-8 of bounded length.
func FuzzSnippet(f *testing.F) {
	for _, s := range []string{"<html><head><title>502 Bad Gateway</title></head></html>", "<TITLE>\n</TITLE>x",
		"plain\ntext", strings.Repeat("错", 100), "\xff\xfe<title>\xff</title>"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s := snippet(raw)
		if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n") || len(s) > 203 {
			t.Fatalf("snippet(%q) = %q", raw, s)
		}
	})
}

// FuzzParseRetryAfter: never negative, whatever the header says.
func FuzzParseRetryAfter(f *testing.F) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{"86400", "0", "-1", "Wed, 26 Nov 2026 10:00:00 GMT", "99999999999999999999", " 7 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, now); d < 0 {
			t.Fatalf("parseRetryAfter(%q) = %v", v, d)
		}
	})
}
