package reports

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/m7import/m7import/importer"
	"github.com/xuri/excelize/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/reports")

// sampleRecords are the rows of the golden files: every status, nasty cells.
func sampleRecords() []importer.Record {
	return []importer.Record{
		{Row: 2, Name: "张三", Number: "13800138000", Remark: "老客户", AgentNumber: "2000", Normalized: "13800138000", Status: importer.Imported, Batch: 1, RequestID: "req-0001"},
		{Row: 3, Name: "=cmd|' /C calc'!A0", Number: "+86 138-0013-8001", Remark: "-5", AgentNumber: "@x", Normalized: "13800138001", Status: importer.Imported, Batch: 1, RequestID: "req-0001"},
		{Row: 4, Name: "O'Brien, \"Bob\"", Number: "1380013800A", Remark: "line1\nline2", Status: importer.Invalid, Reason: "letters in number"},
		{Row: 6, Name: "'quoted", Number: "'=already", Remark: "\ttab", Normalized: "", Status: importer.Duplicate, Reason: "same number as row 2"},
		{Row: 7, Name: "李四😀", Number: "00138001380", Remark: "cr\r\nlf", AgentNumber: "2009", Normalized: "01038001380", Status: importer.Failed, Reason: "code 400: bad agent", Batch: 2, RequestID: "req-0002"},
		{Row: 8, Name: "Wang Wu", Number: "1.38001E+10", Status: importer.Invalid, Reason: "digits lost (scientific notation)"},
		{Row: 9, Name: "赵六", Number: "13900139000", Normalized: "13900139000", Status: importer.Unconfirmed, Reason: "no reply after send", Batch: 3},
		{Row: 10, Name: "_x0041_ & <tag>", Number: "13900139001", Normalized: "13900139001", Status: importer.Skipped},
		{Row: 11, Name: " spaced ", Number: "13900139002", Normalized: "13900139002", Status: "deleted", Reason: "custom status"},
	}
}

func writeAll(t testing.TB, f Format, recs []importer.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAll(t testing.TB, data []byte, f Format) []importer.Record {
	t.Helper()
	r, err := NewReader(bytes.NewReader(data), f)
	if err != nil {
		t.Fatalf("NewReader(%s): %v", f, err)
	}
	defer r.Close()
	var out []importer.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next(%s): %v", f, err)
		}
		out = append(out, rec)
	}
}

func TestGoldenReports(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{CSV, "sample.csv"},
		{JSONL, "sample.jsonl"},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			got := writeAll(t, tc.format, sampleRecords())
			path := filepath.Join("..", "testdata", "reports", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./reports -run Golden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from golden file:\n got: %q\nwant: %q", tc.format, got, want)
			}
		})
	}
}

// TestGoldenCSVIsExcelSafe spells out what the golden CSV must show a user.
func TestGoldenCSVIsExcelSafe(t *testing.T) {
	got := string(writeAll(t, CSV, sampleRecords()))
	for _, want := range []string{
		bom + "row,name,number,remark,agent_number,normalized_number,status,reason,batch,request_id\n",
		"\n2,张三,13800138000,老客户,2000,13800138000,imported,,1,req-0001\n",
		`3,'=cmd|' /C calc'!A0,'+86 138-0013-8001,'-5,'@x,`,
		`4,"O'Brien, ""Bob""",1380013800A,"line1` + "\n" + `line2"`,
		`6,'quoted,''=already,'` + "\t" + `tab,`,
		"李四😀,00138001380,\"cr\r\nlf\",2009",
		",unconfirmed,no reply after send,3,\n",
		"skipped,,,\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("CSV report lacks %q", want)
		}
	}
}

func TestXLSXReport(t *testing.T) {
	data := writeAll(t, XLSX, sampleRecords())
	// The sheet XML is a golden file too: a change to it should be seen.
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	sheet1, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	gotXML, _ := io.ReadAll(sheet1)
	golden := filepath.Join("..", "testdata", "reports", "sample.xlsx.sheet1.xml")
	if *update {
		os.WriteFile(golden, gotXML, 0o644)
	}
	if wantXML, err := os.ReadFile(golden); err != nil || !bytes.Equal(gotXML, wantXML) {
		t.Errorf("sheet XML differs from %s (%v); rerun with -update if intended:\n%s", golden, err, gotXML)
	}
	xf, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	sheet := xf.GetSheetList()[0]
	rows, err := xf.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(sampleRecords()) {
		t.Fatalf("excelize reads %d rows, want %d", len(rows), 1+len(sampleRecords()))
	}
	if !reflect.DeepEqual(rows[0], Columns) {
		t.Errorf("header = %q, want %q", rows[0], Columns)
	}
	for _, tc := range []struct {
		cell, want string
		typ        excelize.CellType
	}{
		{"C2", "13800138000", excelize.CellTypeInlineString},
		{"A2", "2", excelize.CellTypeInlineString},
		{"C6", "00138001380", excelize.CellTypeInlineString},
		{"B3", "=cmd|' /C calc'!A0", excelize.CellTypeInlineString},
		{"B9", "_x0041_ & <tag>", excelize.CellTypeInlineString},
		{"D6", "cr\r\nlf", excelize.CellTypeInlineString},
		{"I4", "", excelize.CellTypeUnset}, // never sent: empty batch
	} {
		got, err := xf.GetCellValue(sheet, tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.cell, got, tc.want)
		}
		typ, err := xf.GetCellType(sheet, tc.cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != tc.typ {
			t.Errorf("%s type = %v, want %v", tc.cell, typ, tc.typ)
		}
		if f, _ := xf.GetCellFormula(sheet, tc.cell); f != "" {
			t.Errorf("%s has formula %q", tc.cell, f)
		}
	}
	style, err := xf.GetCellStyle(sheet, "A1")
	if err != nil {
		t.Fatal(err)
	}
	st, err := xf.GetStyle(style)
	if err != nil {
		t.Fatal(err)
	}
	if st.Font == nil || !st.Font.Bold {
		t.Errorf("header is not bold")
	}
}

// nastyRecords are cells a writer must not mangle.
func nastyRecords() []importer.Record {
	cells := []string{
		"", "=cmd", "+86 138", "-5", "@x", "'quoted", "'=x", "''=x", "'", "''", "'-",
		"0013800138000", "a\r\nb", "\r", "\n", "\r\n", "\t", "tab\tin", "😀 emoji", "中文,逗号",
		`"quoted"`, `a"b`, " lead", "trail ", "_x000D_", "_x005F_x000D_", "x\x01y", "\x00",
		"&amp;<>", "1.38001E+10", "\u2028\u2029", `back\slash`,
	}
	var out []importer.Record
	for i, c := range cells {
		out = append(out, importer.Record{
			Row: i + 2, Name: c, Number: c, Remark: c, AgentNumber: c, Normalized: c,
			Status: importer.Status(c), Reason: c, Batch: i % 3, RequestID: c,
		})
	}
	return out
}

func TestRoundTripAllFormats(t *testing.T) {
	for _, f := range []Format{CSV, JSONL, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			for _, set := range [][]importer.Record{sampleRecords(), nastyRecords(), nil} {
				got := readAll(t, writeAll(t, f, set), f)
				if len(got) != len(set) {
					t.Fatalf("read %d records, wrote %d", len(got), len(set))
				}
				for i := range set {
					if !reflect.DeepEqual(got[i], set[i]) {
						t.Errorf("record %d:\n got %#v\nwant %#v", i, got[i], set[i])
					}
				}
			}
		})
	}
}

func TestOpenSniffsFormatAndChecksHeader(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []Format{CSV, JSONL, XLSX} {
		// A misleading extension: Open goes by content.
		path := filepath.Join(dir, "report-"+string(f)+".txt")
		if err := os.WriteFile(path, writeAll(t, f, sampleRecords()), 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path)
		if err != nil {
			t.Fatalf("Open %s: %v", f, err)
		}
		if r.Format() != f {
			t.Errorf("sniffed %s, want %s", r.Format(), f)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		r.Close()
		if n != len(sampleRecords()) {
			t.Errorf("%s: read %d records, want %d", f, n, len(sampleRecords()))
		}
	}
	for _, tc := range []struct {
		name, body string
		want       error
	}{
		{"leads.csv", "姓名,手机号码\n张三,13800138000\n", ErrHeader},
		{"empty.csv", "", ErrHeader},
		{"bom-only.csv", bom, ErrHeader},
		{"partial.jsonl", `{"row":2,"status":"imported"}` + "\n", ErrHeader},
		{"badrow.csv", strings.Join(Columns, ",") + "\nx,a,b,c,d,e,f,g,,h\n", ErrMalformed},
		{"unclosed.csv", strings.Join(Columns, ",") + "\n2,\"a,b,c,d,e,f,g,,h\n", ErrMalformed},
	} {
		path := filepath.Join(dir, tc.name)
		os.WriteFile(path, []byte(tc.body), 0o644)
		r, err := Open(path)
		if err == nil {
			_, err = r.Next()
			r.Close()
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestCSVReaderTolerance(t *testing.T) {
	header := strings.Join(Columns, ",")
	for _, tc := range []struct {
		name, body string
		want       importer.Record
	}{
		{"no BOM, CRLF", header + "\r\n2,a,b,,,,imported,,1,r\r\n", importer.Record{Row: 2, Name: "a", Number: "b", Status: "imported", Batch: 1, RequestID: "r"}},
		{"reordered and extra column", "note,status,row,name,number,remark,agent_number,normalized_number,reason,batch,request_id\nhi,failed,5,x,y,,,,why,,\n", importer.Record{Row: 5, Name: "x", Number: "y", Status: "failed", Reason: "why"}},
		{"blank lines, short row", bom + header + "\n\n3,n\n", importer.Record{Row: 3, Name: "n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(t, []byte(tc.body), CSV)
			if len(got) != 1 || !reflect.DeepEqual(got[0], tc.want) {
				t.Errorf("got %+v, want [%+v]", got, tc.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
		err  bool
	}{
		{"csv", CSV, false}, {"XLSX", XLSX, false}, {" jsonl ", JSONL, false}, {"xls", "", true}, {"", "", true},
	} {
		got, err := ParseFormat(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("ParseFormat(%q) = %q, %v", tc.in, got, err)
		}
	}
	for _, tc := range []struct {
		in   string
		want Format
		err  bool
	}{
		{"a/leads.results.csv", CSV, false}, {"R.XLSX", XLSX, false}, {"r.jsonl", JSONL, false},
		{"r.json", "", true}, {"r", "", true}, {"r.xls", "", true},
	} {
		got, err := FormatFromPath(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("FormatFromPath(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("FormatFromPath(%q) error %v does not wrap ErrUnknownFormat", tc.in, err)
		}
	}
}

func TestCreateIsAtomic(t *testing.T) {
	for _, f := range []Format{CSV, JSONL, XLSX} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "leads.results."+string(f))

			// Abort with no earlier report: nothing at path, no temp left.
			rf, err := Create(path, f)
			if err != nil {
				t.Fatal(err)
			}
			rf.Write(sampleRecords()[0])
			if err := rf.Abort(); err != nil {
				t.Fatal(err)
			}
			assertDir(t, dir, nil)
			if err := rf.Commit(); err == nil {
				t.Error("Commit after Abort succeeded")
			}

			// An earlier report stays intact until the new one commits.
			old := []byte("old report")
			os.WriteFile(path, old, 0o640)
			rf, err = Create(path, f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range sampleRecords() {
				if err := rf.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
				t.Fatalf("report at path changed before commit: %q", got)
			}
			if err := rf.Close(); err != nil { // Close commits
				t.Fatal(err)
			}
			if err := rf.Abort(); err != nil { // deferred Abort after commit: no-op
				t.Fatal(err)
			}
			assertDir(t, dir, []string{filepath.Base(path)})
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if rec, err := r.Next(); err != nil || !reflect.DeepEqual(rec, sampleRecords()[0]) {
				t.Errorf("committed report first record %+v, %v", rec, err)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the replaced report's 0640", fi.Mode().Perm())
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	if _, err := Create(filepath.Join(t.TempDir(), "missing", "r.csv"), CSV); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
	dir := t.TempDir()
	if _, err := Create(filepath.Join(dir, "r.csv"), "xls"); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("Create with format xls: %v", err)
	}
	assertDir(t, dir, nil)
}

func assertDir(t *testing.T, dir string, want []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("directory holds %q, want %q", got, want)
	}
}

func TestWriteAfterClose(t *testing.T) {
	for _, f := range []Format{CSV, JSONL, XLSX} {
		w, err := NewWriter(io.Discard, f)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		if err := w.Write(importer.Record{Row: 2}); err == nil {
			t.Errorf("%s: Write after Close succeeded", f)
		}
	}
}

func FuzzCSVRoundTrip(f *testing.F) {
	for _, r := range nastyRecords() {
		f.Add(r.Name, r.Number, r.Reason, r.Row, r.Batch)
	}
	f.Fuzz(func(t *testing.T, name, number, reason string, row, batch int) {
		want := importer.Record{Row: row, Name: name, Number: number, Remark: reason + name,
			Status: importer.Status(number), Reason: reason, Batch: batch, RequestID: name}
		got := readAll(t, writeAll(t, CSV, []importer.Record{want}), CSV)
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
		}
	})
}

func FuzzJSONLRoundTrip(f *testing.F) {
	for _, r := range nastyRecords() {
		f.Add(r.Name, r.Number, r.Row, r.Batch)
	}
	f.Fuzz(func(t *testing.T, name, number string, row, batch int) {
		want := importer.Record{Row: row, Name: name, Number: number, Status: "imported", Batch: batch}
		got := readAll(t, writeAll(t, JSONL, []importer.Record{want}), JSONL)
		// Invalid UTF-8 is written as U+FFFD, as encoding/json does.
		want.Name, want.Number = validUTF8(name), validUTF8(number)
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
		}
	})
}

// validUTF8 replaces each invalid byte of s with U+FFFD.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // range yields U+FFFD per invalid byte
	}
	return b.String()
}

// FuzzJSONString checks the hand-written escaper against encoding/json.
func FuzzJSONString(f *testing.F) {
	for _, r := range nastyRecords() {
		f.Add(r.Name)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		got := appendJSONString(nil, s)
		if string(got)+"\n" != want.String() {
			t.Fatalf("appendJSONString(%q) = %s, encoding/json %s", s, got, want.String())
		}
	})
}

// FuzzXLSXRoundTrip writes a cell to XLSX and reads it back with excelize.
func FuzzXLSXRoundTrip(f *testing.F) {
	for _, r := range nastyRecords() {
		f.Add(r.Name)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := importer.Record{Row: 2, Name: s, Number: s, Status: "imported"}
		got := readAll(t, writeAll(t, XLSX, []importer.Record{want}), XLSX)
		want.Name, want.Number = validUTF8(s), validUTF8(s)
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", got, want)
		}
	})
}

// FuzzReadCSV feeds arbitrary bytes to the CSV report reader: it must
// return records or errors, never panic or loop.
func FuzzReadCSV(f *testing.F) {
	f.Add(writeAll(f, CSV, sampleRecords()))
	f.Add([]byte(strings.Join(Columns, ",") + "\r\n2,\"a\"\"b\",,,,,x,,1,\r"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), CSV)
		if err != nil {
			return
		}
		for i := 0; i <= len(data); i++ {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		t.Fatal("more records than bytes")
	})
}
