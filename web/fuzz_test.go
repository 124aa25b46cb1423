package web

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzSafeName(f *testing.F) {
	f.Add("../../etc/passwd")
	f.Add(`C:\Users\张三\名单.xlsx`)
	f.Add("meta.json")
	f.Fuzz(func(t *testing.T, s string) {
		n := safeName(s)
		if n == "" {
			return
		}
		if strings.ContainsAny(n, `/\`) || n == "." || n == ".." || n == "meta.json" || strings.HasPrefix(n, ".") || len(n) > 210 {
			t.Fatalf("safeName(%q) = %q", s, n)
		}
		if safeName(n) != n {
			t.Fatalf("safeName is not stable on %q", n)
		}
		if bytes.ContainsRune([]byte(n), 0) {
			t.Fatal("NUL in a name")
		}
	})
}
