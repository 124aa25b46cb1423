package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// drain reads a whole file through the Reader; it must end (EOF or an
// error naming the file) without panicking, quickly.
func drain(t *testing.T, path string, opts Options) {
	lim := defaultLimits
	lim.maxLine, lim.maxRecord, lim.maxCell = 64<<10, 256<<10, 64<<10
	lim.maxSheetXML, lim.maxSharedXML, lim.maxSharedText = 8<<20, 8<<20, 4<<20
	deadline := time.Now().Add(10 * time.Second)
	r, err := openWithLimits(context.Background(), path, opts, lim)
	if err != nil {
		if !containsPath(err, path) {
			t.Errorf("open error does not name the file: %v", err)
		}
		return
	}
	defer r.Close()
	prev := 0
	for n := 0; ; n++ {
		rec, err := r.Next()
		if err == io.EOF {
			// The hash is of the bytes read: it must be the file's.
			data, rerr := os.ReadFile(path)
			sum := sha256.Sum256(data)
			if got, err := r.SHA256(); rerr == nil && (err != nil || got != hex.EncodeToString(sum[:])) {
				t.Errorf("SHA256() = %s, %v; want the file's %x", got, err, sum)
			}
			return
		}
		if err != nil {
			if !containsPath(err, path) {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
		if rec.Status == "" || (rec.Status == Invalid) != (rec.Normalized == "") {
			t.Errorf("row %d: inconsistent record %+v", rec.Row, rec)
		}
		if rec.Row <= prev && filepath.Ext(path) == ".csv" {
			t.Errorf("CSV rows out of order: %d after %d", rec.Row, prev)
		}
		prev = rec.Row
		if time.Now().After(deadline) {
			t.Fatalf("reading took over 10 s (%d rows)", n)
		}
	}
}

func containsPath(err error, path string) bool {
	return err != nil && (errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), path))
}

func FuzzCSVReader(f *testing.F) {
	for _, data := range textFixtures(f) {
		f.Add(data, false)
	}
	f.Add([]byte("\"a\nb,13800138000\n"), true)
	f.Add([]byte{0xFF, 0xFE, 'a', 0, ',', 0}, false)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, noHeader bool) {
		p := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		drain(t, p, Options{NoHeader: noHeader})
	})
}

func FuzzXLSXReader(f *testing.F) {
	for _, data := range xlsxFixtures(f) {
		f.Add(data)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.xlsx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		drain(t, p, Options{})
	})
}

// FuzzSheetXML fuzzes the worksheet walker on the XML itself (the zip
// layer would otherwise reject nearly every mutation by its checksum).
func FuzzSheetXML(f *testing.F) {
	f.Add(leadsSheet)
	f.Add(`<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row><c><v>13800138000</v></c></row>`)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, sheet string) {
		data := buildXLSX(t, []xsheet{{name: "S", data: sheet}}, leadsSST)
		p := filepath.Join(dir, "fuzz.xlsx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		drain(t, p, Options{})
	})
}

// FuzzSharedStrings fuzzes the shared-strings parser with one <si> item.
func FuzzSharedStrings(f *testing.F) {
	for _, si := range leadsSST {
		f.Add(si)
	}
	f.Add(`<t>a</t></si><si><t>b`)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, si string) {
		sheet := `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c></row>`
		data := buildXLSX(t, []xsheet{{name: "S", data: sheet}}, []string{si, "<t>13800138000</t>"})
		p := filepath.Join(dir, "fuzz.xlsx")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		drain(t, p, Options{})
	})
}

// FuzzHeaderDetection puts fuzzed rows above a header with a fuzzed cell:
// whatever is found as the header must hold a recognisable phone column,
// no data row may come from above it, and the --map hint of a refusal must
// read back, through shell quoting, as the header cell it names.
func FuzzHeaderDetection(f *testing.F) {
	f.Add("2026年11月展会线索（市场部）,,,", "手机号(必填)", 0)
	f.Add("导出时间: 2026-11-25 10:00:01\n共 3 条", "Phone No.", 0)
	f.Add("填写说明：手机号必须为11位", "电话", 2)
	f.Add("姓名,手机", "Customer's phone", 0)
	f.Add("", "微信号(必填)", 1)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, above, header string, headerRow int) {
		if headerRow < 0 || headerRow > 30 {
			headerRow = 0
		}
		quoted := `"` + strings.ReplaceAll(header, `"`, `""`) + `"`
		data := above + "\n姓名," + quoted + "\n张三,13800138000\n"
		p := filepath.Join(dir, "fuzz.csv")
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(context.Background(), p, Options{HeaderRow: headerRow})
		if err != nil {
			if !containsPath(err, p) {
				t.Errorf("error does not name the file: %v", err)
			}
			if errors.Is(err, ErrNoNumberColumn) {
				if _, hint, ok := strings.Cut(err.Error(), "try --map "); ok && hint != "number=COLUMN" {
					v, ok := shellUnquote(hint)
					if !ok || !strings.HasPrefix(v, "number=") {
						t.Errorf("hint %s does not unquote to number=...", hint)
					}
				}
			}
			return
		}
		defer r.Close()
		h, col := r.Header(), r.Mapping()[1].Column
		if col < 0 || col >= len(h) || !isPhoneKey(headerKey(h[col])) {
			t.Errorf("header %q on row %d: number column %d is not a phone column", h, r.HeaderRow(), col)
		}
		if headerRow > 0 && r.HeaderRow() != headerRow {
			t.Errorf("HeaderRow() = %d, asked for %d", r.HeaderRow(), headerRow)
		}
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if rec.Row <= r.HeaderRow() {
				t.Errorf("row %d read as data above the header on row %d", rec.Row, r.HeaderRow())
			}
		}
		if v, ok := shellUnquote(ShellQuote(header)); !ok || v != header {
			t.Errorf("ShellQuote(%q) = %s reads back as %q", header, ShellQuote(header), v)
		}
	})
}

// shellUnquote reads one word the way a POSIX shell does, for the quoting
// ShellQuote produces: bare safe characters, single-quoted runs and \'.
func shellUnquote(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case c == '\\':
			if i+1 >= len(s) {
				return "", false
			}
			b.WriteByte(s[i+1])
			i += 2
		case c >= 0x80 || ShellQuote(string(c)) == string(c):
			b.WriteByte(c)
			i++
		default:
			return "", false
		}
	}
	return b.String(), true
}

// FuzzParseMap: --map never panics, and every field it returns is one of
// the four with a non-empty header.
func FuzzParseMap(f *testing.F) {
	for _, s := range []string{"number=联系方式,name=客户", "number=手机号(必填)", "number=3", "name=,number=x", "bogus=1", "number=a=b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMap(s)
		if err != nil {
			return
		}
		for field, header := range m {
			switch field {
			case FieldName, FieldNumber, FieldRemark, FieldAgentNumber:
			default:
				t.Fatalf("%q gave field %q", s, field)
			}
			if header == "" {
				t.Fatalf("%q gave an empty header for %s", s, field)
			}
		}
	})
}
