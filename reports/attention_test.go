package reports

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/m7import/m7import/importer"
	"github.com/xuri/excelize/v2"
)

// attentionInput is an input file's header and rows as an importer keeps
// them: the number column is 联系电话 (index 1).
var attentionHeader = []string{"姓名", "联系电话", "备注", "工号"}

func attentionRecords() []importer.Record {
	return []importer.Record{
		{Row: 2, Cells: []string{"张三", "13800138000", "老客户", "0012"}, Number: "13800138000", Status: importer.Imported, Batch: 1},
		{Row: 3, Cells: []string{"李四", "1380013800A", "", "0012"}, Number: "1380013800A", Status: importer.Invalid, Reason: "letters in number"},
		{Row: 4, Cells: []string{"王五", "075586013388", "=HYPERLINK(\"x\")"}, Number: "075586013388", Status: importer.Duplicate, Reason: "same number as row 2"}, // short row: padded
		{Row: 5, Cells: []string{"赵六", "'+86 138 0013 8001", "a,b", "2000", "extra"}, Number: "'+86 138 0013 8001", Status: importer.Failed, Reason: "code 400"}, // long row: cut
		{Row: 7, Cells: []string{"O'Brien", "008613800138000", "12345678901", "007"}, Number: "008613800138000", Status: importer.Unconfirmed, Reason: "no reply"},
		{Row: 8, Cells: []string{"钱七", "13900139000", "", ""}, Number: "13900139000", Status: importer.Skipped},
		{Row: 9, Cells: []string{"孙八", "13900139001", "", ""}, Status: importer.Valid},
		{Row: 10, Number: "13900139002", Status: importer.Invalid, Reason: "no cells kept"}, // a reader without KeepCells
	}
}

// writeAttention writes recs to an attention file of format f in a new
// folder and returns its path.
func writeAttention(t *testing.T, f Format, header []string, numberColumn int, recs []importer.Record) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leads.attention."+string(f))
	aw, err := CreateAttention(path, f, header, numberColumn)
	if err != nil {
		t.Fatal(err)
	}
	defer aw.Abort()
	for _, r := range recs {
		if err := aw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAttentionCSV(t *testing.T) {
	path := writeAttention(t, CSV, attentionHeader, 1, attentionRecords())
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := bom + "姓名,联系电话,备注,工号,row,status,reason\n" +
		// The number column's digits always lead with a TAB; other cells
		// only when a spreadsheet would change them (leading zero, 11+).
		"李四,1380013800A,,\t0012,3,invalid,letters in number\n" +
		"王五,\t075586013388,\"'=HYPERLINK(\"\"x\"\")\",,4,duplicate,same number as row 2\n" +
		"赵六,'+86 138 0013 8001,\"a,b\",2000,5,failed,code 400\n" +
		"O'Brien,\t008613800138000,\t12345678901,\t007,7,unconfirmed,no reply\n" +
		"钱七,\t13900139000,,,8,skipped,\n" +
		",\t13900139002,,,10,invalid,no cells kept\n"
	if string(got) != want {
		t.Errorf("attention file:\n got %q\nwant %q", got, want)
	}
}

func TestAttentionXLSX(t *testing.T) {
	path := writeAttention(t, XLSX, attentionHeader, 1, attentionRecords())
	xf, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer xf.Close()
	sheet := xf.GetSheetList()[0]
	rows, err := xf.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"姓名", "联系电话", "备注", "工号", "row", "status", "reason"},
		{"李四", "1380013800A", "", "0012", "3", "invalid", "letters in number"},
		{"王五", "075586013388", `=HYPERLINK("x")`, "", "4", "duplicate", "same number as row 2"},
		{"赵六", "'+86 138 0013 8001", "a,b", "2000", "5", "failed", "code 400"},
		{"O'Brien", "008613800138000", "12345678901", "007", "7", "unconfirmed", "no reply"},
		{"钱七", "13900139000", "", "", "8", "skipped"},
		{"", "13900139002", "", "", "10", "invalid", "no cells kept"},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows:\n got %q\nwant %q", rows, want)
	}
	for _, cell := range []string{"B3", "B5", "C5", "D5", "C3"} {
		typ, err := xf.GetCellType(sheet, cell)
		if err != nil {
			t.Fatal(err)
		}
		if typ != excelize.CellTypeInlineString {
			t.Errorf("%s has type %v, want text", cell, typ)
		}
		if f, _ := xf.GetCellFormula(sheet, cell); f != "" {
			t.Errorf("%s has formula %q", cell, f)
		}
	}
	style, err := xf.GetCellStyle(sheet, "G1")
	if err != nil {
		t.Fatal(err)
	}
	if st, err := xf.GetStyle(style); err != nil || st.Font == nil || !st.Font.Bold {
		t.Errorf("header is not bold (%v)", err)
	}
}

func TestAttentionOfAnAttentionFileKeepsItsShape(t *testing.T) {
	// A fixed attention file imported again: its own row, status and
	// reason columns are replaced, not repeated.
	header := []string{"姓名", "手机", "row", "status", "reason"}
	recs := []importer.Record{{Row: 2, Cells: []string{"张三", "1380013800", "3", "invalid", "too short"}, Status: importer.Invalid, Reason: "still too short"}}
	for _, f := range []Format{CSV, XLSX} {
		path := writeAttention(t, f, header, 1, recs)
		rows := readAttentionRows(t, path, f)
		want := [][]string{{"姓名", "手机", "row", "status", "reason"}, {"张三", "1380013800", "2", "invalid", "still too short"}}
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("%s: rows %q, want %q", f, rows, want)
		}
	}
}

// readAttentionRows reads an attention file back as the importer would:
// CSV cells with our TAB and apostrophe removed.
func readAttentionRows(t *testing.T, path string, f Format) [][]string {
	t.Helper()
	if f == XLSX {
		xf, err := excelize.OpenFile(path)
		if err != nil {
			t.Fatal(err)
		}
		defer xf.Close()
		rows, err := xf.GetRows(xf.GetSheetList()[0])
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parseAttentionCSV(t, data)
}

func parseAttentionCSV(t testing.TB, data []byte) [][]string {
	p := newCSVParser(bytes.NewReader(data))
	if err := p.skipBOM(); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for {
		cells, _, err := p.read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cells))
		for i, c := range cells {
			// The importer does not know which columns were written as
			// numbers: readCSVCell needs not know.
			row[i] = readCSVCell(c)
		}
		rows = append(rows, row)
	}
}

func TestAttentionIsAtomicAndChecksItsPath(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.csv")
	if err := os.WriteFile(path, []byte("older"), 0o644); err != nil {
		t.Fatal(err)
	}
	aw, err := CreateAttention(path, CSV, attentionHeader, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range attentionRecords() {
		aw.Write(r)
	}
	if got, _ := os.ReadFile(path); string(got) != "older" {
		t.Errorf("path changed before Commit: %q", got)
	}
	if aw.Rows() != 6 {
		t.Errorf("Rows() = %d, want 6", aw.Rows())
	}
	if err := aw.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if err := aw.Write(attentionRecords()[1]); err == nil {
		t.Error("Write after Abort succeeded")
	}
	assertDir(t, dir, []string{"a.csv"})
	if got, _ := os.ReadFile(path); string(got) != "older" {
		t.Errorf("path changed by Abort: %q", got)
	}

	for _, f := range []Format{JSONL, "xls"} {
		if _, err := CreateAttention(filepath.Join(dir, "b"), f, attentionHeader, 1); !errors.Is(err, ErrAttentionFormat) {
			t.Errorf("format %q: %v, want ErrAttentionFormat", f, err)
		}
	}
	_, err = CreateAttention(dir, CSV, attentionHeader, 1)
	if !errors.Is(err, ErrPathIsFolder) || !strings.Contains(err.Error(), "attention file "+dir+" is a folder") {
		t.Errorf("a folder: %v", err)
	}
	assertDir(t, dir, []string{"a.csv"})
}

func TestNeedsAttention(t *testing.T) {
	for _, s := range []importer.Status{importer.Invalid, importer.Duplicate, importer.Failed, importer.Unconfirmed, importer.Skipped} {
		if !NeedsAttention(s) {
			t.Errorf("%s does not need attention", s)
		}
	}
	for _, s := range []importer.Status{importer.Imported, importer.Valid, "deleted", ""} {
		if NeedsAttention(s) {
			t.Errorf("%q needs attention", s)
		}
	}
}

// FuzzAttentionCSV writes arbitrary cells to an attention file and reads
// them back as the importer does: every cell comes back as readBack says
// (our TAB and apostrophe gone, nothing else changed), and writing what was
// read gives the same file (no doubled apostrophe on a fix-and-reimport).
func FuzzAttentionCSV(f *testing.F) {
	for _, r := range nastyRecords() {
		f.Add(r.Name, "0"+r.Name, r.Name+"1")
	}
	f.Add("'+86 138", "\t075586013388", "'\t0012")
	f.Fuzz(func(t *testing.T, a, number, c string) {
		header := []string{"a", "number", "c"}
		write := func(cells []string) []byte {
			var buf bytes.Buffer
			cw := newCSVRowWriter(&buf, 1)
			if err := cw.writeRow(header, true); err != nil {
				t.Fatal(err)
			}
			if err := cw.writeRow(cells, false); err != nil {
				t.Fatal(err)
			}
			if err := cw.close(); err != nil {
				t.Fatal(err)
			}
			return buf.Bytes()
		}
		first := write([]string{a, number, c})
		rows := parseAttentionCSV(t, first)
		if len(rows) != 2 || !reflect.DeepEqual(rows[0], header) {
			t.Fatalf("read %q", rows)
		}
		want := []string{readBack(a, longDigitsAsText), readBack(number, numberAsText), readBack(c, longDigitsAsText)}
		if !reflect.DeepEqual(rows[1], want) {
			t.Fatalf("cells %q read back as %q, want %q", []string{a, number, c}, rows[1], want)
		}
		if again := write(rows[1]); !bytes.Equal(again, first) {
			t.Fatalf("written again differs:\n got %q\nwant %q", again, first)
		}
	})
}
