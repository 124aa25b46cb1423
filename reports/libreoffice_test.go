package reports

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m7import/m7import/importer"
	"github.com/xuri/excelize/v2"
)

// requireTool returns the path of an external program a test needs. Without
// it the test skips, naming the Debian package, unless M7_REQUIRE_TEST_TOOLS
// is 1 (as .ci/run sets it), where it fails.
func requireTool(t *testing.T, name, debianPackage string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("M7_REQUIRE_TEST_TOOLS") == "1" {
		t.Fatalf("%s not found (M7_REQUIRE_TEST_TOOLS=1): install Debian package %s", name, debianPackage)
	}
	t.Skipf("%s not found: install Debian package %s", name, debianPackage)
	return ""
}

// convertWithLibreOffice converts each CSV file to XLSX with LibreOffice
// headless, default import settings, in a fresh profile, and returns the
// XLSX paths.
func convertWithLibreOffice(t *testing.T, files ...string) []string {
	t.Helper()
	soffice := requireTool(t, "soffice", "libreoffice-calc")
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{"-env:UserInstallation=file://" + filepath.Join(dir, "profile"),
		"--headless", "--norestore", "--convert-to", "xlsx", "--outdir", out}
	cmd := exec.CommandContext(ctx, soffice, append(args, files...)...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	cmd.WaitDelay = 10 * time.Second
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("soffice --convert-to xlsx: %v\n%s", err, msg)
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(out, strings.TrimSuffix(filepath.Base(f), ".csv")+".xlsx")
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("LibreOffice made no %s: %v\n%s", p, err, msg)
		}
		paths = append(paths, p)
	}
	return paths
}

// sheetCells returns every cell of the first sheet of an XLSX file, with
// its type, as rows of (value, type).
func sheetCells(t *testing.T, path string) ([][]string, func(col, row int) excelize.CellType) {
	t.Helper()
	xf, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { xf.Close() })
	sheet := xf.GetSheetList()[0]
	rows, err := xf.GetRows(sheet, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	typeOf := func(col, row int) excelize.CellType {
		name, err := excelize.CoordinatesToCellName(col+1, row+1)
		if err != nil {
			t.Fatal(err)
		}
		typ, err := xf.GetCellType(sheet, name)
		if err != nil {
			t.Fatal(err)
		}
		return typ
	}
	return rows, typeOf
}

func isTextCell(typ excelize.CellType) bool {
	return typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString
}

// TestCSVNumbersSurviveLibreOffice opens our CSV report and attention file
// with LibreOffice Calc, as a user would with default settings, and reads
// every number back with all its digits and its leading zeros, as text.
//
// What LibreOffice 7.4 shows: a cell written TAB + digits is a text cell
// whose text keeps the TAB (the XLSX holds "&#9;075586013388"); the TAB is
// invisible in the sheet, so the digits are compared with surrounding
// whitespace trimmed. A bare 075586013388 becomes the number 75586013388
// (checked below, so this test can fail). Our defused '+86 … stays text,
// apostrophe shown. (Headless conversion with default settings also reads
// the file in the system's 8-bit code page, not as UTF-8 despite the BOM, so
// Chinese cells are not compared here; opened in the GUI, the import dialog
// detects UTF-8.)
func TestCSVNumbersSurviveLibreOffice(t *testing.T) {
	dir := t.TempDir()
	recs := []importer.Record{
		{Row: 2, Name: "Zhang", Number: "13800138000", AgentNumber: "0012", Normalized: "13800138000", Status: importer.Imported, Batch: 1},
		{Row: 3, Name: "Li", Number: "075586013388", AgentNumber: "2000", Normalized: "075586013388", Status: importer.Imported, Batch: 1},
		{Row: 4, Name: "Wang", Number: "008613800138000", AgentNumber: "0012", Normalized: "13800138000", Status: importer.Duplicate, Reason: "same number as row 2"},
		{Row: 5, Name: "Zhao", Number: "'+86 138 0013 8001", AgentNumber: "0012", Normalized: "13800138001", Status: importer.Failed, Reason: "code 400", Batch: 2},
		{Row: 6, Name: "Qian", Number: "+86 138 0013 8002", AgentNumber: "0012", Normalized: "13800138002", Status: importer.Skipped},
	}
	report := filepath.Join(dir, "leads.results.csv")
	rf, err := Create(report, CSV)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Abort()
	attention := filepath.Join(dir, "leads.attention.csv")
	aw, err := CreateAttention(attention, CSV, []string{"name", "phone", "agent"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer aw.Abort()
	for _, r := range recs {
		r.Cells = []string{r.Name, r.Number, r.AgentNumber}
		if err := rf.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := aw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rf.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Commit(); err != nil {
		t.Fatal(err)
	}
	// The control: the same numbers written bare, as before this fix.
	control := filepath.Join(dir, "bare.csv")
	if err := os.WriteFile(control, []byte("number,agent\n075586013388,0012\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	xlsx := convertWithLibreOffice(t, report, attention, control)

	rows, typeOf := sheetCells(t, xlsx[0])
	if len(rows) != 1+len(recs) {
		t.Fatalf("LibreOffice reads %d rows of the report, want %d: %q", len(rows), 1+len(recs), rows)
	}
	check := func(file string, rows [][]string, typeOf func(int, int) excelize.CellType, row, col int, want string) {
		t.Helper()
		got := ""
		if col < len(rows[row]) {
			got = rows[row][col]
		}
		if needsApostrophe(want) {
			want = "'" + want // defused: the apostrophe shows
		}
		if strings.TrimSpace(got) != want {
			t.Errorf("%s row %d col %d: LibreOffice shows %q, want %q", file, row+1, col+1, got, want)
		}
		if want != "" && !isTextCell(typeOf(col, row)) {
			t.Errorf("%s row %d col %d (%q): type %v, want text", file, row+1, col+1, got, typeOf(col, row))
		}
	}
	for i, r := range recs {
		check("report", rows, typeOf, i+1, colNumber, r.Number)
		check("report", rows, typeOf, i+1, colAgentNumber, r.AgentNumber)
		check("report", rows, typeOf, i+1, colNormalized, r.Normalized)
	}

	rows, typeOf = sheetCells(t, xlsx[1])
	var attentionRecs []importer.Record
	for _, r := range recs {
		if NeedsAttention(r.Status) {
			attentionRecs = append(attentionRecs, r)
		}
	}
	if len(rows) != 1+len(attentionRecs) {
		t.Fatalf("LibreOffice reads %d rows of the attention file, want %d: %q", len(rows), 1+len(attentionRecs), rows)
	}
	for i, r := range attentionRecs {
		check("attention file", rows, typeOf, i+1, 1, r.Number)
		check("attention file", rows, typeOf, i+1, 2, r.AgentNumber)
	}

	rows, typeOf = sheetCells(t, xlsx[2])
	if len(rows) != 2 || len(rows[1]) != 2 || rows[1][0] != "75586013388" || isTextCell(typeOf(0, 1)) {
		t.Errorf("control: bare 075586013388 read by LibreOffice as %q (type %v); the test no longer shows what it should", rows, typeOf(0, 1))
	}
}
