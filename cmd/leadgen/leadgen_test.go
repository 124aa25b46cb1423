package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m7import/m7import/internal/leadgen"
	"github.com/xuri/excelize/v2"
)

// sampleArgs are the documented command that produced testdata/sample/leads.csv.
var sampleArgs = []string{"-rows", "4500", "-seed", "7", "-format", "csv"}

func TestSampleIsReproducible(t *testing.T) {
	out := filepath.Join(t.TempDir(), "leads.csv")
	var stderr bytes.Buffer
	if code := run(append(sampleArgs, "-out", out), &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sample", "leads.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("regenerated sample differs from testdata/sample/leads.csv: rerun\n  go run ./cmd/leadgen -rows 4500 -seed 7 -format csv -out testdata/sample/leads.csv")
	}
}

// TestSampleMakesThreeBatches: the demo imports the sample in batches of
// 2000, and should show several batches plus invalid and duplicate rows.
func TestSampleMakesThreeBatches(t *testing.T) {
	g, err := leadgen.NewGenerator(leadgen.Config{Rows: 4500, Seed: 7, InvalidPct: 3, DupPct: 2, LandlinePct: 8, NumericPct: 30})
	if err != nil {
		t.Fatal(err)
	}
	counts := map[leadgen.Kind]int{}
	for {
		r, ok := g.Next()
		if !ok {
			break
		}
		counts[r.Kind]++
	}
	valid := counts[leadgen.Mobile] + counts[leadgen.Landline]
	if valid <= 4000 || valid > 6000 {
		t.Errorf("%d valid rows: not 3 batches of 2000", valid)
	}
	if counts[leadgen.Invalid] == 0 || counts[leadgen.Duplicate] == 0 {
		t.Errorf("counts %v: want some invalid and duplicate rows", counts)
	}
	t.Logf("sample: %v valid=%d", counts, valid)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		args     []string
		code     int
		stderr   string
		checkOut func(t *testing.T, stdout []byte)
	}{
		{name: "help", args: []string{"-h"}, code: 0, stderr: "examples:"},
		{name: "no out", args: []string{"-rows", "3"}, code: 2, stderr: "-out is required"},
		{name: "bad format", args: []string{"-out", filepath.Join(dir, "x.xls")}, code: 2, stderr: `want csv, tsv or xlsx`},
		{name: "bad encoding", args: []string{"-out", "-", "-format", "csv", "-encoding", "latin1"}, code: 2, stderr: "encoding"},
		{name: "stray arg", args: []string{"-out", "-", "-format", "csv", "extra"}, code: 2, stderr: "unexpected argument"},
		{name: "unwritable", args: []string{"-out", filepath.Join(dir, "no", "such", "x.csv")}, code: 1, stderr: "create output"},
		{name: "stdout tsv", args: []string{"-rows", "3", "-format", "tsv", "-out", "-"}, code: 0, checkOut: func(t *testing.T, out []byte) {
			if !strings.HasPrefix(string(out), "姓名\t手机号码\t备注\t座席工号\r\n") || strings.Count(string(out), "\r\n") < 4 {
				t.Errorf("stdout %q", out)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit %d, want %d (stderr %s)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.stderr)
			}
			if tc.checkOut != nil {
				tc.checkOut(t, stdout.Bytes())
			}
		})
	}
}

func TestRunXLSXByExtension(t *testing.T) {
	out := filepath.Join(t.TempDir(), "leads.xlsx")
	var stderr bytes.Buffer
	if code := run([]string{"-rows", "50", "-out", out, "-shared-strings=false"}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	f, err := excelize.OpenFile(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("Sheet1")
	if err != nil || len(rows) != 51 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
}
