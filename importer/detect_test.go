package importer

import (
	"errors"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// short is a record reduced to what header detection and fallback decide.
type short struct {
	Row                int
	Name, Number, Norm string
	Status             Status
	Reason             string
}

func shorts(recs []Record) []short {
	out := make([]short, len(recs))
	for i, r := range recs {
		out[i] = short{r.Row, r.Name, r.Number, r.Normalized, r.Status, r.Reason}
	}
	return out
}

func hasNote(notes []string, substr ...string) bool {
	for _, n := range notes {
		ok := true
		for _, s := range substr {
			ok = ok && strings.Contains(n, s)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestHeaderFoundBelowTitleAndExportRows(t *testing.T) {
	dir := t.TempDir()
	fx := textFixtures(t)
	tests := []struct {
		file      string
		opts      Options
		headerRow int
		number    string
		want      []short
		notes     [][]string
		ignored   []string
	}{
		{
			file: "leads-title-row.csv", headerRow: 2, number: "手机号(必填)",
			want: []short{
				{2 + 1, "张三", "13800138000", "13800138000", Valid, ""},
				{4, "李四", "13900139000", "13900139000", Valid, ""},
			},
			notes: [][]string{{"header found on row 2", `"2026年11月展会线索（市场部）"`}},
		},
		{
			file: "leads-crm-export.txt", headerRow: 4, number: "手机",
			want: []short{
				{5, "张三", "13800138000", "13800138000", Valid, ""},
				{6, "李四", "010-12345678", "01012345678", Valid, "number from column 座机 (手机 was empty)"},
				{7, "王五", "", "", Invalid, "missing number: fill in the number or delete the row"},
				{8, "赵六", "12345", "", Invalid, "not a valid China number; number from column 座机 (手机 was empty)"},
			},
			notes: [][]string{
				{"header found on row 4", `"导出时间: 2026-11-25 10:00:01"`, `"共 4 条记录"`},
				{"where 手机 is empty, the number is taken from 座机"},
			},
		},
		{
			file: "leads-mingzi.csv", headerRow: 1, number: "联系方式",
			want: []short{
				{2, "张三", "13800138000", "13800138000", Valid, ""},
				{3, "李四", "0755-86013388", "075586013388", Valid, "number from column 座机 (联系方式 was empty)"},
			},
			ignored: []string{"微信"},
		},
		{
			file: "leads-note-row.csv", headerRow: 2, number: "电话",
			want:  []short{{3, "张三", "13800138000", "13800138000", Valid, ""}},
			notes: [][]string{{"header found on row 2", "手机号必须为11位"}},
		},
		{
			file: "leads-title-row.csv", opts: Options{HeaderRow: 2}, headerRow: 2, number: "手机号(必填)",
			want: []short{
				{3, "张三", "13800138000", "13800138000", Valid, ""},
				{4, "李四", "13900139000", "13900139000", Valid, ""},
			},
			notes: [][]string{{"header on row 2 as asked"}},
		},
		{
			// --map chooses the landline; the mobile becomes its fallback.
			file: "leads-crm-export.txt", opts: Options{Map: map[Field]string{FieldNumber: "座机"}}, headerRow: 4, number: "座机",
			want: []short{
				{5, "张三", "13800138000", "13800138000", Valid, "number from column 手机 (座机 was empty)"},
				{6, "李四", "010-12345678", "01012345678", Valid, ""},
				{7, "王五", "", "", Invalid, "missing number: fill in the number or delete the row"},
				{8, "赵六", "12345", "", Invalid, "not a valid China number"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p := writeFixture(t, dir, tt.file, fx[tt.file])
			recs, r, err := readAll(t, p, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.HeaderRow() != tt.headerRow {
				t.Errorf("HeaderRow() = %d, want %d", r.HeaderRow(), tt.headerRow)
			}
			if got := r.Columns()[FieldNumber]; got != tt.number {
				t.Errorf("number column = %q, want %q", got, tt.number)
			}
			if got := shorts(recs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records:\n got %+v\nwant %+v", got, tt.want)
			}
			for _, n := range tt.notes {
				if !hasNote(r.Notes(), n...) {
					t.Errorf("no note with %q in %q", n, r.Notes())
				}
			}
			if tt.ignored != nil && !reflect.DeepEqual(r.Ignored(), tt.ignored) {
				t.Errorf("Ignored() = %q, want %q", r.Ignored(), tt.ignored)
			}
		})
	}
}

func TestHeaderRowOptionRefusesRowWithoutNumberColumn(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "t.csv", textFixtures(t)["leads-title-row.csv"])
	for _, tt := range []struct {
		row  int
		want string
	}{
		{1, `on row 1 (the header row asked for): "2026年11月展会线索（市场部）", "", "", ""; try --header-row N with the number of the row that holds the column names`},
		{3, "on row 3 (the header row asked for)"},
		{40, "row 40 (the header row asked for) is empty or beyond the end"},
	} {
		_, _, err := readAll(t, p, Options{HeaderRow: tt.row})
		if !errors.Is(err, ErrNoNumberColumn) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("HeaderRow %d: err = %v", tt.row, err)
		}
	}
	// NoHeader turns detection off: the title row is data.
	recs, _, err := readAll(t, p, Options{NoHeader: true, Map: map[Field]string{FieldNumber: "2"}})
	if err != nil || recs[0].Row != 1 || recs[0].Status != Invalid {
		t.Errorf("NoHeader: %+v, %v", recs, err)
	}
}

func TestNoHeaderSuggestedForAFileOfData(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "nh.csv", textFixtures(t)["leads-noheader.csv"])
	_, _, err := readAll(t, p, Options{})
	if !errors.Is(err, ErrNoNumberColumn) || !strings.Contains(err.Error(), "try --no-header --map number=2 if the file has no header row") {
		t.Errorf("err = %v", err)
	}
}

func TestHeaderOnlyAmongFirst20Rows(t *testing.T) {
	data := strings.Repeat("说明\n", 20) + "姓名,电话\n张三,13800138000\n"
	p := writeFixture(t, t.TempDir(), "late.csv", []byte(data))
	if _, _, err := readAll(t, p, Options{}); !errors.Is(err, ErrNoNumberColumn) {
		t.Errorf("header on row 21: err = %v", err)
	}
	recs, _, err := readAll(t, p, Options{HeaderRow: 21})
	if err != nil || len(recs) != 1 || recs[0].Row != 22 {
		t.Errorf("HeaderRow 21: %+v, %v", recs, err)
	}
}

func TestHeaderKey(t *testing.T) {
	for _, tt := range []struct {
		cell   string
		number bool
	}{
		{"手机号", true},
		{"手机号(必填)", true},
		{"手机号（必填）", true},
		{"【必填】手机号码", true},
		{"*手机号：", true},
		{"手机号:", true},
		{" 联系电话* ", true},
		{"ＰＨＯＮＥ", true},
		{"Phone No.", true},
		{"Mobile Phone", true},
		{"TEL", true},
		{"联系方式", true},
		{"手机号必须为11位", false},
		{"说明：请填写手机号", false},
		{"2026年11月展会线索（市场部）", false},
		{"导出时间: 2026-11-25", false},
		{"(手机)", false},
	} {
		if got := isNumberKey(headerKey(tt.cell)); got != tt.number {
			t.Errorf("%q: number column = %v, want %v (key %q)", tt.cell, got, tt.number, headerKey(tt.cell))
		}
	}
	for _, tt := range []struct {
		cell  string
		phone bool
	}{
		{"座机", true}, {"固话", true}, {"备用电话", true}, {"电话2", true}, {"其他电话", true},
		{"办公电话", true}, {"家庭电话", true}, {"Phone 2", true}, {"手机", true},
		{"微信", false}, {"2", false}, {"备注", false},
	} {
		if got := isPhoneKey(headerKey(tt.cell)); got != tt.phone {
			t.Errorf("%q: phone column = %v, want %v", tt.cell, got, tt.phone)
		}
	}
	names := map[string]Field{"名字": FieldName, "姓名": FieldName, "客户名称": FieldName, "Customer": FieldName, "Contact": FieldName, "Name": FieldName,
		"Cell": FieldNumber, "Cellphone": FieldNumber, "Telephone": FieldNumber, "移动电话": FieldNumber, "电话号码": FieldNumber, "客户电话": FieldNumber}
	for cell, f := range names {
		if got := synonyms[headerKey(cell)]; got != f {
			t.Errorf("%q maps to %q, want %q", cell, got, f)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"number=手机号", "number=手机号"},
		{"number=手机号(必填)", "'number=手机号(必填)'"},
		{"number=Phone No.", "'number=Phone No.'"},
		{"number=Customer's phone", `'number=Customer'\''s phone'`},
		{"", "''"},
		{"a$b`c", "'a$b`c'"},
	} {
		if got := ShellQuote(tt.in); got != tt.want {
			t.Errorf("ShellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestNoNumberColumnHintPastesIntoAShell runs the hint of the refusal
// through sh: what sh passes on must be the header itself.
func TestNoNumberColumnHintPastesIntoAShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on this machine")
	}
	dir := t.TempDir()
	hintRE := regexp.MustCompile(`try --map (.*)$`)
	for _, header := range []string{"联系号(手机)", "WeChat/Phone No.", "客户's 号码", "微信号"} {
		p := writeFixture(t, dir, "h.csv", []byte("客户,\""+header+"\"\n张三,13800138000\n"))
		_, _, err := readAll(t, p, Options{})
		if !errors.Is(err, ErrNoNumberColumn) {
			t.Fatalf("%q: err = %v", header, err)
		}
		m := hintRE.FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("%q: no hint in %v", header, err)
		}
		out, err := exec.Command(sh, "-c", "printf %s "+m[1]).Output()
		if err != nil || string(out) != "number="+header {
			t.Errorf("%q: hint %s gives %q in sh (%v)", header, m[1], out, err)
		}
	}
}

func TestRepeatedHeaderIsNamed(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "rep.csv", textFixtures(t)["leads-repeated-header.csv"])
	recs, r, err := readAll(t, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasNote(r.Notes(), `columns B and F are both headed "手机": using B`) {
		t.Errorf("Notes() = %q", r.Notes())
	}
	want := []short{
		{2, "张三", "13800138000", "13800138000", Valid, ""},
		{3, "李四", "13900139001", "13900139001", Valid, "number from column 手机 (F) (手机 (B) was empty)"},
	}
	if got := shorts(recs); !reflect.DeepEqual(got, want) {
		t.Errorf("records:\n got %+v\nwant %+v", got, want)
	}
}

func TestMappingSaysWhatFeedsEachField(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "m.csv", textFixtures(t)["leads-mingzi.csv"])
	_, r, err := readAll(t, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Match{
		{Field: FieldName, Header: "名字", Column: 0},
		{Field: FieldNumber, Header: "联系方式", Column: 1},
		{Field: FieldRemark, Header: "", Column: -1},
		{Field: FieldAgentNumber, Header: "", Column: -1},
	}
	if got := r.Mapping(); !reflect.DeepEqual(got, want) {
		t.Errorf("Mapping() = %+v", got)
	}
	if r.Sheet() != "" || r.Sheets() != nil {
		t.Errorf("text file: Sheet() = %q, Sheets() = %q", r.Sheet(), r.Sheets())
	}
}

func TestSheetChoice(t *testing.T) {
	dir := t.TempDir()
	fx := xlsxFixtures(t)
	t.Run("instructions sheet first", func(t *testing.T) {
		p := writeFixture(t, dir, "i.xlsx", fx["leads-instructions-first.xlsx"])
		recs, r, err := readAll(t, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []short{
			{3, "张三", "13800138000", "13800138000", Valid, ""},
			{4, "李四", "13900139000", "13900139000", Valid, ""},
		}
		if got := shorts(recs); !reflect.DeepEqual(got, want) {
			t.Errorf("records:\n got %+v\nwant %+v", got, want)
		}
		if r.Sheet() != "线索" || !reflect.DeepEqual(r.Sheets(), []string{"填写说明", "线索"}) || r.HeaderRow() != 2 {
			t.Errorf("Sheet() = %q, Sheets() = %q, HeaderRow() = %d", r.Sheet(), r.Sheets(), r.HeaderRow())
		}
		if !hasNote(r.Notes(), `sheet "线索" read`, `"填写说明"`) || !hasNote(r.Notes(), "header found on row 2") {
			t.Errorf("Notes() = %q", r.Notes())
		}
	})
	t.Run("hidden first sheet", func(t *testing.T) {
		p := writeFixture(t, dir, "h.xlsx", fx["leads-hidden-first.xlsx"])
		recs, r, err := readAll(t, p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Sheet() != "Leads" || len(recs) != 1 || recs[0].Name != "Alice" {
			t.Errorf("Sheet() = %q, records %+v", r.Sheet(), recs)
		}
	})
	t.Run("no sheet has a number column", func(t *testing.T) {
		p := writeFixture(t, dir, "n.xlsx", fx["leads-no-number-sheet.xlsx"])
		_, _, err := readAll(t, p, Options{})
		if !errors.Is(err, ErrNoNumberColumn) {
			t.Fatalf("err = %v", err)
		}
		for _, want := range []string{p, `"说明": "请在第二张表填写"`, `"客户": "客户", "微信号", "备注"`, `"备份" (hidden): has a number column ("手机")`, "try --sheet 备份"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	})
	t.Run("sheet asked for", func(t *testing.T) {
		p := writeFixture(t, dir, "i.xlsx", fx["leads-instructions-first.xlsx"])
		_, _, err := readAll(t, p, Options{Sheet: "填写说明"})
		if !errors.Is(err, ErrNoNumberColumn) || !strings.Contains(err.Error(), `sheet "填写说明"`) {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAttentionFileReadBack(t *testing.T) {
	p := writeFixture(t, t.TempDir(), "a.csv", textFixtures(t)["leads-attention.csv"])
	recs, r, err := readAll(t, p, Options{KeepCells: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsAttention() || !reflect.DeepEqual(r.Header(), []string{"姓名", "手机号码", "备注"}) {
		t.Errorf("IsAttention() = %v, Header() = %q", r.IsAttention(), r.Header())
	}
	for _, h := range r.Ignored() {
		if h == "row" || h == "status" || h == "reason" {
			t.Errorf("Ignored() = %q", r.Ignored())
		}
	}
	want := []Record{
		{Row: 2, Name: "张三", Number: "+86 138 0013 8000", Remark: "=备注", Normalized: "13800138000", Status: Valid,
			Cells: []string{"张三", "+86 138 0013 8000", "=备注"}, PriorRow: 12, PriorStatus: Invalid},
		{Row: 3, Name: "李四", Number: "075586013388", Normalized: "075586013388", Status: Valid,
			Cells: []string{"李四", "075586013388", ""}, PriorRow: 15, PriorStatus: Failed},
		{Row: 4, Name: "王五", Number: "13900139000", Normalized: "13900139000", Status: Valid,
			Cells: []string{"王五", "13900139000", ""}, PriorRow: 16, PriorStatus: Duplicate},
	}
	diffRecords(t, recs, want)
}

func TestKeepCells(t *testing.T) {
	dir := t.TempDir()
	p := writeFixture(t, dir, "m.csv", textFixtures(t)["leads-mingzi.csv"])
	recs, r, err := readAll(t, p, Options{KeepCells: true})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Header(), []string{"名字", "联系方式", "座机", "微信"}) ||
		!reflect.DeepEqual(recs[0].Cells, []string{"张三", "13800138000", "", "zs001"}) {
		t.Errorf("Header() = %q, Cells = %q", r.Header(), recs[0].Cells)
	}
	recs, _, _ = readAll(t, p, Options{})
	if recs[0].Cells != nil {
		t.Errorf("KeepCells off: Cells = %q", recs[0].Cells)
	}
	x := writeFixture(t, dir, "e.xlsx", xlsxFixtures(t)["leads-excelize.xlsx"])
	recs, _, err = readAll(t, x, Options{KeepCells: true})
	if err != nil || !reflect.DeepEqual(recs[0].Cells, []string{"张三", "13800138000", "vip", "8001"}) {
		t.Errorf("xlsx Cells = %q, %v", recs[0].Cells, err)
	}
}

func TestUnprotect(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"'=1+1", "=1+1"},
		{"'+86 138", "+86 138"},
		{"'-5", "-5"},
		{"'@x", "@x"},
		{"'\tx", "\tx"},
		{"'13800138000", "'13800138000"}, // not ours: the normalizer reads it
		{"'quoted'", "'quoted'"},
		{"\t075586013388", "075586013388"},
		{"\t0755 8601", "\t0755 8601"},
		{"\t", "\t"},
		{"'", "'"},
		{"", ""},
	} {
		if got := unprotect(tt.in); got != tt.want {
			t.Errorf("unprotect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// protectForTest protects a cell the way m7import's CSV reports do (see
// ../shared/spec/NOTES.md, "numbers in the CSV report"): an apostrophe
// before a formula start, a tab before digits only.
func protectForTest(s string) string {
	switch {
	case s == "":
		return s
	case strings.IndexByte("=+-@\t\r", s[0]) >= 0:
		return "'" + s
	case allDigits(s):
		return "\t" + s
	}
	return s
}

// TestAttentionFileRoundTrip writes the rows needing attention of a file
// in its own columns plus row, status and reason, as the tool does, reads
// that file back and gets the same cells, the original rows and statuses.
func TestAttentionFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := writeFixture(t, dir, "in.csv", []byte("2026年11月展会线索（市场部）,,,\n"+
		"姓名,手机号(必填),备注,来源\n"+
		"张三,+86 138 0013 8000,=HYPERLINK(\"x\"),展会\n"+
		"李四,075586013388,,\n"+
		"王五,1380013800,-,\n"+
		"赵六,+86 138 0013 8000,@vip,官网\n"))
	recs, r, err := readAll(t, in, Options{KeepCells: true})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.Join(append(slices.Clone(r.Header()), "row", "status", "reason"), ",") + "\n")
	var want []Record
	for _, rec := range recs {
		if rec.Status == Valid && rec.Row != 4 {
			continue // row 4 stands for a failed upload
		}
		status := rec.Status
		if status == Valid {
			status = Failed
		}
		line := make([]string, 0, len(rec.Cells)+3)
		for _, c := range append(slices.Clone(rec.Cells), strconv.Itoa(rec.Row), string(status), rec.Reason) {
			c = protectForTest(c)
			if strings.ContainsAny(c, "\",\n") {
				c = `"` + strings.ReplaceAll(c, `"`, `""`) + `"`
			}
			line = append(line, c)
		}
		b.WriteString(strings.Join(line, ",") + "\n")
		want = append(want, Record{Cells: rec.Cells, PriorRow: rec.Row, PriorStatus: status})
	}
	att := writeFixture(t, dir, "in.attention.csv", []byte(b.String()))
	back, r2, err := readAll(t, att, Options{KeepCells: true})
	if err != nil {
		t.Fatal(err)
	}
	if !r2.IsAttention() || !reflect.DeepEqual(r2.Header(), r.Header()) {
		t.Errorf("IsAttention() = %v, Header() = %q, want %q", r2.IsAttention(), r2.Header(), r.Header())
	}
	if len(back) != len(want) || len(want) != 3 {
		t.Fatalf("read back %d rows, wrote %d", len(back), len(want))
	}
	for i := range want {
		got := Record{Cells: back[i].Cells, PriorRow: back[i].PriorRow, PriorStatus: back[i].PriorStatus}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
}
