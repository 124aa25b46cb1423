package importer

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestReadXLSXCellTypes(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "leads.xlsx", xlsxFixtures(t)["leads.xlsx"])
	recs, r, err := readAll(t, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	diffRecords(t, recs, leadsXLSXWant)
	if got := strings.Join(r.Header(), ","); got != "姓名,手机号码,备注,座席工号" {
		t.Errorf("Header() = %q", got)
	}
}

func TestReadXLSXSheets(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "leads.xlsx", xlsxFixtures(t)["leads.xlsx"])
	if _, _, err := readAll(t, p, Options{Sheet: "Leads"}); err != nil {
		t.Errorf("--sheet Leads: %v", err)
	}
	_, _, err := readAll(t, p, Options{Sheet: "隐藏"})
	if !errors.Is(err, ErrNoNumberColumn) {
		t.Errorf("hidden sheet by name: err = %v", err)
	}
	_, _, err = readAll(t, p, Options{Sheet: "Nope"})
	if !errors.Is(err, ErrSheetNotFound) || !strings.Contains(err.Error(), `"隐藏", "Leads"`) || !strings.Contains(err.Error(), "leads.xlsx") {
		t.Errorf("missing sheet: err = %v", err)
	}
}

func TestReadXLSXWriters(t *testing.T) {
	dir := t.TempDir()
	fx := xlsxFixtures(t)
	recs, _, err := readAll(t, writeFixture(t, dir, "e.xlsx", fx["leads-excelize.xlsx"]), Options{})
	if err != nil {
		t.Fatal(err)
	}
	diffRecords(t, recs, []Record{
		{Row: 2, Name: "张三", Number: "13800138000", Remark: "vip", AgentNumber: "8001", Normalized: "13800138000", Status: Valid},
		{Row: 3, Name: "李四", Number: "010-12345678", AgentNumber: "8002", Normalized: "01012345678", Status: Valid},
		{Row: 4, Name: "王五", Number: "13800138000", Normalized: "13800138000", Status: Duplicate, Reason: "duplicate of row 2"},
	})
	recs, _, err = readAll(t, writeFixture(t, dir, "x.xlsx", fx["leads-prefixed.xlsx"]), Options{})
	if err != nil || len(recs) != 1 || recs[0].Normalized != "13800138000" {
		t.Errorf("prefixed: %+v, %v", recs, err)
	}
}

func TestReadXLSXBadInput(t *testing.T) {
	dir := t.TempDir()
	good := xlsxFixtures(t)["leads.xlsx"]
	check := func(t *testing.T, name string, data []byte, lim limits, want error) {
		t.Helper()
		p := writeFixture(t, dir, name, data)
		r, err := openWithLimits(context.Background(), p, Options{}, lim)
		if err == nil {
			for err == nil {
				_, err = r.Next()
			}
			r.Close()
		}
		if !errors.Is(err, want) || !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v; want %v naming %s", err, want, name)
		}
	}
	t.Run("truncated", func(t *testing.T) { check(t, "trunc.xlsx", good[:len(good)/2], defaultLimits, ErrCorruptFile) })
	t.Run("encrypted", func(t *testing.T) {
		check(t, "secret.xlsx", []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest"), defaultLimits, ErrUnsupportedFormat)
	})
	t.Run("header only", func(t *testing.T) {
		check(t, "hdr.xlsx", buildXLSX(t, []xsheet{{name: "S", data: `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>`}}, nil), defaultLimits, ErrEmptyFile)
	})
	t.Run("not a zip", func(t *testing.T) { check(t, "text.xlsx", []byte("姓名,电话\n"), defaultLimits, ErrCorruptFile) })
	t.Run("empty", func(t *testing.T) { check(t, "empty.xlsx", nil, defaultLimits, ErrCorruptFile) })
	t.Run("no workbook", func(t *testing.T) {
		check(t, "nowb.xlsx", buildZip(t, map[string]string{"a.txt": "x"}), defaultLimits, ErrCorruptFile)
	})
	t.Run("zip bomb", func(t *testing.T) {
		big := `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>` + strings.Repeat(`<row><c><v>1</v></c></row>`, 100000)
		lim := defaultLimits
		lim.maxSheetXML = 1 << 20
		check(t, "bomb.xlsx", buildXLSX(t, []xsheet{{name: "S", data: big}}, nil), lim, ErrTooLarge)
	})
	t.Run("huge shared strings", func(t *testing.T) {
		lim := defaultLimits
		lim.maxSharedText = 1 << 20
		sst := []string{"<t>phone</t>"}
		for range 300 {
			sst = append(sst, "<t>"+strings.Repeat("长", 2000)+"</t>")
		}
		check(t, "sst.xlsx", buildXLSX(t, []xsheet{{name: "S", data: `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`}}, sst), lim, ErrTooLarge)
	})
	t.Run("one huge shared string", func(t *testing.T) {
		sst := []string{"<t>phone</t>", "<t>" + strings.Repeat("x", 200000) + "</t>"}
		check(t, "one.xlsx", buildXLSX(t, []xsheet{{name: "S", data: `<row r="1"><c r="A1" t="s"><v>0</v></c></row>`}}, sst), defaultLimits, ErrTooLarge)
	})
	t.Run("bad shared string index", func(t *testing.T) {
		data := `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2" t="s"><v>99</v></c></row>`
		check(t, "idx.xlsx", buildXLSX(t, []xsheet{{name: "S", data: data}}, []string{"<t>a</t>"}), defaultLimits, ErrCorruptFile)
	})
	t.Run("doctype", func(t *testing.T) {
		data := `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><!DOCTYPE x [<!ENTITY a "aaaa">]>`
		check(t, "dtd.xlsx", buildXLSX(t, []xsheet{{name: "S", data: data}}, nil), defaultLimits, ErrCorruptFile)
	})
	t.Run("unterminated sheet", func(t *testing.T) {
		data := `<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2"><v>1380013`
		check(t, "unterm.xlsx", buildXLSX(t, []xsheet{{name: "S", data: data}}, nil), defaultLimits, ErrCorruptFile)
	})
	t.Run("all hidden", func(t *testing.T) {
		check(t, "hidden.xlsx", buildXLSX(t, []xsheet{{name: "S", state: "hidden", data: ""}}, nil), defaultLimits, ErrSheetNotFound)
	})
	t.Run("empty sheet", func(t *testing.T) {
		check(t, "emptysheet.xlsx", buildXLSX(t, []xsheet{{name: "S", data: ""}}, nil), defaultLimits, ErrEmptyFile)
	})
}

func buildZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b strings.Builder
	zw := newZipWriter(&b)
	for n, c := range files {
		w, _ := zw.Create(n)
		w.Write([]byte(c))
	}
	zw.Close()
	return []byte(b.String())
}

func TestCellName(t *testing.T) {
	for in, want := range map[[2]int]string{{0, 1}: "A1", {25, 2}: "Z2", {26, 3}: "AA3", {16383, 9}: "XFD9"} {
		if got := cellName(in[0], in[1]); got != want {
			t.Errorf("cellName(%v) = %q, want %q", in, got, want)
		}
		if c, ok := colIndex([]byte(want)); !ok || c != in[0] {
			t.Errorf("colIndex(%q) = %d, %v", want, c, ok)
		}
	}
}
