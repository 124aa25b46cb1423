package reports

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m7import/m7import/i18n"
	"github.com/m7import/m7import/importer"
)

// langRecords carry reasons as the importer and uploader write them.
func langRecords() []importer.Record {
	return []importer.Record{
		{Row: 2, Name: "张三", Number: "13800138000", Normalized: "13800138000", Status: importer.Imported, Batch: 1, RequestID: "req-1"},
		{Row: 3, Name: "李四", Number: "1380013800A", Status: importer.Invalid, Reason: "letters in number"},
		{Row: 4, Name: "王五", Number: "18612345678/13912345678", Status: importer.Invalid, Reason: "too long"},
		{Row: 5, Name: "赵六", Number: "13800138000", Normalized: "13800138000", Status: importer.Duplicate, Reason: "duplicate of row 2"},
		{Row: 6, Name: "钱七", Number: "13900139000", Normalized: "13900139000", Status: importer.Unconfirmed, Batch: 2,
			Reason: "outcome unknown: HTTP 500 code 500: internal error; not resent under rule 2 (it could import the rows twice)"},
		{Row: 7, Name: "孙八", Number: "13900139001", Normalized: "13900139001", Status: importer.Skipped, Reason: "not sent: the run stopped first"},
		{Row: 8, Name: "周九", Number: "13900139002", Normalized: "13900139002", Status: importer.Failed, Batch: 3, Reason: "code 400: 座席不存在"},
	}
}

func TestReportInChineseHasChineseReasonsAndEnglishStatuses(t *testing.T) {
	for _, f := range []Format{CSV, XLSX, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "r."+string(f))
			rf, err := CreateWith(path, f, Options{Translate: i18n.Reasons(i18n.Zh)})
			if err != nil {
				t.Fatal(err)
			}
			defer rf.Abort()
			for _, r := range langRecords() {
				if err := rf.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := rf.Commit(); err != nil {
				t.Fatal(err)
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for _, want := range langRecords() {
				got, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != want.Status {
					t.Errorf("row %d: status %q, want %q (statuses are never translated)", want.Row, got.Status, want.Status)
				}
				if zh := i18n.Reason(i18n.Zh, want.Reason); got.Reason != zh {
					t.Errorf("row %d: reason %q, want %q", want.Row, got.Reason, zh)
				}
				if want.Reason != "" && got.Reason == want.Reason {
					t.Errorf("row %d: reason %q left in English", want.Row, got.Reason)
				}
				if got.Number != want.Number || got.Name != want.Name {
					t.Errorf("row %d: cells changed: %+v", want.Row, got)
				}
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("after the last row: %v", err)
			}
		})
	}
}

// TestEnglishReportIsByteIdenticalToGolden: translating into English
// changes no byte of any format.
func TestEnglishReportIsByteIdenticalToGolden(t *testing.T) {
	for _, tc := range []struct {
		format Format
		file   string
	}{
		{CSV, "sample.csv"},
		{JSONL, "sample.jsonl"},
	} {
		want, err := os.ReadFile(filepath.Join("..", "testdata", "reports", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "r."+string(tc.format))
		rf, err := CreateWith(path, tc.format, Options{Translate: i18n.Reasons(i18n.En)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range sampleRecords() {
			if err := rf.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := rf.Commit(); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("%s in English differs from %s:\n got: %q\nwant: %q", tc.format, tc.file, got, want)
		}
	}
	var buf bytes.Buffer
	w, err := NewWriterWith(&buf, XLSX, Options{Translate: i18n.Reasons(i18n.En)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sampleRecords() {
		w.Write(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	sheet, err := zr.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(sheet)
	want, err := os.ReadFile(filepath.Join("..", "testdata", "reports", "sample.xlsx.sheet1.xml"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("XLSX sheet in English differs from its golden file (%v)", err)
	}
}

func TestAttentionFileInChinese(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.csv")
	header := []string{"姓名", "手机"}
	aw, err := CreateAttentionWith(path, CSV, header, 1, Options{Translate: i18n.Reasons(i18n.Zh)})
	if err != nil {
		t.Fatal(err)
	}
	defer aw.Abort()
	for _, r := range langRecords() {
		r.Cells = []string{r.Name, r.Number}
		if err := aw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := aw.Commit(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(data), bom))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rows[0], ","); got != "姓名,手机,row,status,reason" {
		t.Errorf("header %q: the attention columns must stay English to be recognised", got)
	}
	var want []importer.Record
	for _, r := range langRecords() {
		if NeedsAttention(r.Status) {
			want = append(want, r)
		}
	}
	if len(rows) != 1+len(want) {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(want))
	}
	for i, r := range want {
		row := rows[i+1]
		if row[3] != string(r.Status) {
			t.Errorf("row %d: status %q, want %q", r.Row, row[3], r.Status)
		}
		if zh := i18n.Reason(i18n.Zh, r.Reason); row[4] != zh || zh == r.Reason {
			t.Errorf("row %d: reason %q, want Chinese %q", r.Row, row[4], zh)
		}
	}
}

func TestTranslateNilWritesAsCreate(t *testing.T) {
	a := writeAll(t, CSV, langRecords())
	var buf bytes.Buffer
	w, err := NewWriterWith(&buf, CSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range langRecords() {
		w.Write(r)
	}
	w.Close()
	if !bytes.Equal(a, buf.Bytes()) {
		t.Error("Options{} changes the report")
	}
	if _, err := NewWriterWith(&buf, "ods", Options{Translate: strings.ToUpper}); err == nil {
		t.Error("an unknown format with Translate: no error")
	}
}
