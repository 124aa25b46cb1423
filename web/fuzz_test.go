package web

import (
	"bytes"
	"strings"
	"testing"
)

func FuzzParseSheetList(f *testing.F) {
	f.Add(`<workbook><sheets><sheet name="名单"/><sheet name="x" state="hidden"/></sheets></workbook>`)
	f.Add(`<sheet name="a"><sheet`)
	f.Fuzz(func(t *testing.T, s string) {
		names, err := parseSheetList(strings.NewReader(s))
		if err == nil && names == nil {
			t.Fatal("nil list without an error")
		}
		for _, n := range names {
			if n == "" {
				t.Fatal("an empty sheet name")
			}
		}
	})
}

func FuzzEncodingOf(f *testing.F) {
	f.Add([]byte("\xef\xbb\xbf姓名,手机\n"), true)
	f.Add([]byte("\xff\xfeA\x00"), false)
	f.Add([]byte("\xd0\xd5\xc3\xfb"), true)
	f.Fuzz(func(t *testing.T, b []byte, whole bool) {
		switch enc := encodingOf(b, whole); enc {
		case "utf-8", "utf-16le", "utf-16be", "gb18030":
		default:
			t.Fatalf("encoding %q", enc)
		}
	})
}

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
