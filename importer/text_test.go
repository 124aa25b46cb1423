package importer

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// readAll reads every record of path.
func readAll(t testing.TB, path string, opts Options) ([]Record, *Reader, error) {
	t.Helper()
	r, err := Open(context.Background(), path, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r, nil
		}
		if err != nil {
			return recs, r, err
		}
		recs = append(recs, rec)
	}
}

func diffRecords(t *testing.T, got, want []Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d records, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestReadTextEncodingsAndDelimiters(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"leads-utf8.csv", "leads-utf8-bom.csv", "leads-gbk.csv",
		"leads-utf16le.txt", "leads-utf16be.csv", "leads.tsv", "leads-semicolon.csv"} {
		t.Run(name, func(t *testing.T) {
			p := writeFixture(t, dir, name, textFixtures(t)[name])
			recs, r, err := readAll(t, p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			diffRecords(t, recs, leadsWant)
			want := map[Field]string{FieldName: "姓名", FieldNumber: "手机号码", FieldRemark: "备注", FieldAgentNumber: "座席工号"}
			for f, h := range want {
				if r.Columns()[f] != h {
					t.Errorf("Columns()[%s] = %q, want %q", f, r.Columns()[f], h)
				}
			}
		})
	}
}

func TestReadTextForcedEncoding(t *testing.T) {
	dir := t.TempDir()
	p := writeFixture(t, dir, "gbk.csv", textFixtures(t)["leads-gbk.csv"])
	recs, _, err := readAll(t, p, Options{Encoding: "gbk"})
	if err != nil {
		t.Fatal(err)
	}
	diffRecords(t, recs, leadsWant)
	if _, _, err := readAll(t, p, Options{Encoding: "latin9"}); !errors.Is(err, ErrBadOption) {
		t.Errorf("encoding latin9: err = %v", err)
	}
}

func TestReadTextRule2KeepsDuplicates(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "a.csv", []byte(leadsCSV))
	recs, _, err := readAll(t, p, Options{KeepRepeats: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Status == Duplicate {
			t.Errorf("rule 2: row %d is a duplicate", r.Row)
		}
	}
}

func TestReadTextHeaders(t *testing.T) {
	dir := t.TempDir()
	fx := textFixtures(t)
	t.Run("english", func(t *testing.T) {
		recs, r, err := readAll(t, writeFixture(t, dir, "en.csv", fx["leads-english.csv"]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		diffRecords(t, recs, []Record{
			{Row: 2, Name: "Alice", Number: "13800138000", AgentNumber: "1001", Normalized: "13800138000", Status: Valid},
			{Row: 3, Name: "Bob", Number: "13800138000", Normalized: "13800138000", Status: Duplicate, Reason: "duplicate of row 2"},
		})
		if got := r.Columns()[FieldNumber]; got != "Phone Number" {
			t.Errorf("number column = %q", got)
		}
	})
	t.Run("no header", func(t *testing.T) {
		recs, r, err := readAll(t, writeFixture(t, dir, "nh.csv", fx["leads-noheader.csv"]), Options{NoHeader: true})
		if err != nil {
			t.Fatal(err)
		}
		diffRecords(t, recs, []Record{
			{Row: 1, Name: "张三", Number: "13800138000", Remark: "vip", AgentNumber: "8001", Normalized: "13800138000", Status: Valid},
			{Row: 2, Name: "李四", Number: "010-12345678", Normalized: "01012345678", Status: Valid},
		})
		if got := r.Columns()[FieldNumber]; got != "column 2" {
			t.Errorf("number column = %q", got)
		}
	})
	t.Run("no number column", func(t *testing.T) {
		_, _, err := readAll(t, writeFixture(t, dir, "nn.csv", fx["leads-nonumber.csv"]), Options{})
		if !errors.Is(err, ErrNoNumberColumn) || !strings.Contains(err.Error(), `"微信号"`) ||
			!strings.Contains(err.Error(), "--map number=微信号") || !strings.Contains(err.Error(), "nn.csv") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("map", func(t *testing.T) {
		m, err := ParseMap("Number=微信号, name=客户")
		if err != nil {
			t.Fatal(err)
		}
		recs, r, err := readAll(t, writeFixture(t, dir, "nn.csv", fx["leads-nonumber.csv"]), Options{Map: m})
		if err != nil {
			t.Fatal(err)
		}
		diffRecords(t, recs, []Record{{Row: 2, Name: "张三", Number: "13800138000", Normalized: "13800138000", Status: Valid}})
		if r.Columns()[FieldName] != "客户" || r.Columns()[FieldRemark] != "备注" {
			t.Errorf("Columns() = %v", r.Columns())
		}
	})
	t.Run("map to missing header", func(t *testing.T) {
		_, _, err := readAll(t, writeFixture(t, dir, "nn.csv", fx["leads-nonumber.csv"]), Options{Map: map[Field]string{FieldNumber: "电话号"}})
		if !errors.Is(err, ErrBadOption) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("first number synonym wins", func(t *testing.T) {
		recs, r, err := readAll(t, writeFixture(t, dir, "two.csv", fx["leads-two-number-columns.csv"]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Columns()[FieldNumber] != "手机" || recs[0].Normalized != "13800138000" {
			t.Errorf("Columns() = %v, recs = %+v", r.Columns(), recs)
		}
	})
	t.Run("ragged", func(t *testing.T) {
		recs, _, err := readAll(t, writeFixture(t, dir, "rg.csv", fx["leads-ragged.csv"]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		diffRecords(t, recs, []Record{
			{Row: 2, Name: "张三", Number: "13800138000", Normalized: "13800138000", Status: Valid},
			{Row: 3, Name: "李四", Status: Invalid, Reason: "missing number: fill in the number or delete the row"},
			{Row: 4, Name: "王五", Number: "13800138001", Normalized: "13800138001", Status: Valid},
		})
	})
	t.Run("lazy quotes", func(t *testing.T) {
		recs, _, err := readAll(t, writeFixture(t, dir, "lq.csv", fx["leads-lazyquote.csv"]), Options{})
		if err != nil {
			t.Fatal(err)
		}
		diffRecords(t, recs, []Record{
			{Row: 2, Name: "张\"三", Number: "13800138000", Remark: "say \"hi\"", Normalized: "13800138000", Status: Valid},
			{Row: 3, Name: "李四", Number: "13800138001", Remark: "quoted", Normalized: "13800138001", Status: Valid},
		})
	})
}

func TestParseMap(t *testing.T) {
	m, err := ParseMap("number=联系方式,AGENT=工号,agent_number=x")
	if err == nil {
		t.Errorf("agent given twice: m = %v", m)
	}
	m, err = ParseMap("agentNumber=工号,remark=Memo")
	if err != nil || m[FieldAgentNumber] != "工号" || m[FieldRemark] != "Memo" {
		t.Errorf("ParseMap = %v, %v", m, err)
	}
	for _, bad := range []string{"number", "foo=bar", "number="} {
		if _, err := ParseMap(bad); !errors.Is(err, ErrBadOption) {
			t.Errorf("ParseMap(%q) err = %v", bad, err)
		}
	}
}

func TestReadTextBadInput(t *testing.T) {
	dir := t.TempDir()
	t.Run("empty", func(t *testing.T) {
		_, _, err := readAll(t, writeFixture(t, dir, "empty.csv", nil), Options{})
		if !errors.Is(err, ErrEmptyFile) || !strings.Contains(err.Error(), "empty.csv") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("blank lines only", func(t *testing.T) {
		_, _, err := readAll(t, writeFixture(t, dir, "blank.csv", []byte("\n\n , ,\n")), Options{})
		if !errors.Is(err, ErrEmptyFile) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("header only", func(t *testing.T) {
		recs, _, err := readAll(t, writeFixture(t, dir, "h.csv", []byte("姓名,电话\n,\n")), Options{})
		if !errors.Is(err, ErrEmptyFile) || len(recs) != 0 || !strings.Contains(err.Error(), "h.csv") {
			t.Errorf("recs = %v, err = %v", recs, err)
		}
	})
	t.Run("xls", func(t *testing.T) {
		_, _, err := readAll(t, writeFixture(t, dir, "old.xls", []byte{0xD0, 0xCF, 0x11, 0xE0}), Options{})
		if !errors.Is(err, ErrUnsupportedFormat) || !strings.Contains(err.Error(), ".xlsx or .csv") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, _, err := readAll(t, filepath.Join(dir, "nope.csv"), Options{})
		if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope.csv") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("long line", func(t *testing.T) {
		data := "姓名,电话\n张三,13800138000\n李四," + strings.Repeat("1", 3<<20) + "\n"
		recs, _, err := readAll(t, writeFixture(t, dir, "long.csv", []byte(data)), Options{})
		var re *RowError
		if !errors.Is(err, ErrTooLarge) || !errors.As(err, &re) || re.Row != 3 || len(recs) != 1 ||
			!strings.Contains(err.Error(), "long.csv row 3") {
			t.Errorf("recs = %d, err = %v", len(recs), err)
		}
	})
	t.Run("unclosed quote", func(t *testing.T) {
		data := "姓名,电话\n张三,13800138000\n\"李四,13800138001\n" + strings.Repeat("王五,13800138002\n", 400000)
		p := writeFixture(t, dir, "quote.csv", []byte(data))
		lim := defaultLimits
		lim.maxRecord = 1 << 20
		r, err := openWithLimits(context.Background(), p, Options{}, lim)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var rows []int
		for {
			rec, err := r.Next()
			if err != nil {
				var re *RowError
				if !errors.Is(err, ErrTooLarge) || !errors.As(err, &re) || re.Row != 3 {
					t.Errorf("rows %v, err = %v", rows, err)
				}
				break
			}
			rows = append(rows, rec.Row)
		}
	})
	t.Run("stray opening quote", func(t *testing.T) {
		data := "姓名,电话\n张三,13800138000\n\"李四,13800138001\n" + strings.Repeat("王五,13800138002\n", 300)
		recs, _, err := readAll(t, writeFixture(t, dir, "stray.csv", []byte(data)), Options{KeepRepeats: true})
		var re *RowError
		if !errors.As(err, &re) || re.Row != 3 || len(recs) != 1 || !strings.Contains(err.Error(), "unclosed quote") {
			t.Errorf("recs = %d, err = %v", len(recs), err)
		}
	})
	t.Run("invalid utf-8 stays readable", func(t *testing.T) {
		data := []byte("姓名,电话\n\xff\xfe\xfd,13800138000\n")
		recs, _, err := readAll(t, writeFixture(t, dir, "bad.csv", data), Options{Encoding: "utf-8"})
		if err != nil || len(recs) != 1 || recs[0].Status != Valid || recs[0].Name != "\uFFFD" {
			t.Errorf("recs = %+v, err = %v", recs, err)
		}
	})
}

func TestReadTextGBKDetectedBeyondASCIISample(t *testing.T) {
	// A GBK file whose first 64 KiB are ASCII would be read as UTF-8; the
	// decoder then shows U+FFFD rather than failing. Here Chinese starts at
	// the header, as in real exports.
	data := mustEncode(t, []byte("姓名,电话\n"+strings.Repeat("张三,13800138000\n", 5000)), nil2gbk())
	recs, _, err := readAll(t, writeFixture(t, t.TempDir(), "big-gbk.csv", data), Options{KeepRepeats: true})
	if err != nil || len(recs) != 5000 || recs[4999].Name != "张三" || recs[4999].Row != 5001 {
		t.Fatalf("n = %d, err = %v", len(recs), err)
	}
}

// TestCheckedInFixtures reads the fixtures under testdata/importer: the
// generated ones must give the reference outcomes, the hand-made one (CRLF
// line ends, a BOM, quotes doubled inside quotes, full-width text) its own.
func TestCheckedInFixtures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "importer")
	for _, name := range []string{"leads-utf8.csv", "leads-gbk.csv", "leads-utf16le.txt", "leads-utf16be.csv", "leads.tsv", "leads-semicolon.csv"} {
		recs, _, err := readAll(t, filepath.Join(dir, name), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		diffRecords(t, recs, leadsWant)
	}
	recs, _, err := readAll(t, filepath.Join(dir, "leads.xlsx"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	diffRecords(t, recs, leadsXLSXWant)
	recs, r, err := readAll(t, filepath.Join(dir, "handmade-crlf.csv"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	diffRecords(t, recs, []Record{
		{Row: 2, Name: "王, 小明", Number: "138 0013 8000", Remark: `说"VIP"`, AgentNumber: "8001", Normalized: "13800138000", Status: Valid},
		{Row: 3, Name: "李雷", Number: "＋８６ １３９ ００１３ ９０００", Normalized: "13900139000", Status: Valid},
		{Row: 5, Name: "韩梅梅", Number: "0755-8888 1234", Remark: "跟进\n两次", AgentNumber: "8002", Normalized: "075588881234", Status: Valid},
		{Row: 7, Name: "张三", Number: "1.38E+10", Status: Invalid, Reason: ErrDigitsLost.Error()},
	})
	if r.Columns()[FieldAgentNumber] != "坐席" || r.Columns()[FieldRemark] != "备注说明" {
		t.Errorf("Columns() = %v", r.Columns())
	}
}

func TestReadStopsWhenContextEnds(t *testing.T) {
	data := "姓名,电话\n" + strings.Repeat("张三,13800138000\n", 20000)
	p := writeFixture(t, t.TempDir(), "ctx.csv", []byte(data))
	ctx, cancel := context.WithCancel(context.Background())
	r, err := Open(ctx, p, Options{KeepRepeats: true})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	n := 0
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		n++
	}
	if !errors.Is(err, context.Canceled) || n >= 20000 || !strings.Contains(err.Error(), "ctx.csv") {
		t.Errorf("after %d rows: err = %v", n, err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStrayQuoteJoiningRowsIsNeverSent(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		status []Status
	}{
		{"stray quote in the remark swallows the next rows",
			"姓名,手机号码,备注\n张三,13800138000,\"回访\n李四,13900139000,ok\n王五,13700137000,\n", []Status{Invalid}},
		{"a real multi-line remark is kept",
			"姓名,手机号码,备注\n张三,13800138000,\"第一行\n第二行, 不是号码\"\n李四,13900139000,\n", []Status{Valid, Valid}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.csv")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := Open(context.Background(), path, Options{Region: "CN"})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var got []Status
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rec.Status)
				if rec.Status == Invalid && !strings.Contains(rec.Reason, "unclosed quote") {
					t.Errorf("row %d reason %q", rec.Row, rec.Reason)
				}
			}
			if !slices.Equal(got, tt.status) {
				t.Fatalf("statuses %v, want %v", got, tt.status)
			}
		})
	}
}

func TestReaderSaysWhichEncodingItRead(t *testing.T) {
	tests := map[string]string{
		"leads-utf8.csv":     "utf-8",
		"leads-utf8-bom.csv": "utf-8",
		"leads-gbk.csv":      "gb18030",
		"leads-utf16le.txt":  "utf-16le",
		"leads-utf16be.csv":  "utf-16be",
		"leads.xlsx":         "",
	}
	for name, want := range tests {
		r, err := Open(context.Background(), filepath.Join("..", "testdata", "importer", name), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Encoding(); got != want {
			t.Errorf("%s: encoding %q, want %q", name, got, want)
		}
		r.Close()
	}
}
