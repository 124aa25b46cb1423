package importer

import (
	"context"
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
