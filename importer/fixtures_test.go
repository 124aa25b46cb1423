package importer

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

var update = flag.Bool("update", false, "rewrite the fixtures in ../testdata/importer")

// leadsCSV is the reference lead list: every normalization case, a blank
// row, a record with quoted line breaks and an in-file duplicate.
const leadsCSV = "姓名,手机号码,备注,座席工号\n" + // 1
	"张三,13800138000,vip,8001\n" + // 2 valid
	"李四,+86 138-0013-8001,,8002\n" + // 3 valid
	",,,\n" + // 4 blank
	"王五,1.38001E+10,lost digits,\n" + // 5 digits lost
	"赵六, 13800138000 ,dup,\n" + // 6 duplicate of 2
	"\"多行\n名字\",010-12345678,\"第一行\n第二行\",\n" + // 7-9 valid landline
	"钱七,1380013800A,,\n" + // 10 letters
	"孙八,,,\n" + // 11 missing number
	"周九,１３８００１３８００２,,\n" + // 12 full-width
	"吴十,'13800138003,,8003\n" + // 13 leading apostrophe
	"郑一,13800138004.0,,\n" + // 14 trailing .0
	"王二,1380013800,,\n" + // 15 a digit missing
	"冯三,+1 202-555-0123,,\n" + // 16 another country
	"陈四,400-800-1234,,\n" + // 17 shared cost
	"   ,  ,\u3000,\n" + // 18 blank (white space only)
	"褚五,010-12345678转8,,\n" // 19 extension

// leadsWant is the outcome of leadsCSV's rows under Strict, rule 1.
var leadsWant = []Record{
	{Row: 2, Name: "张三", Number: "13800138000", Remark: "vip", AgentNumber: "8001", Normalized: "13800138000", Status: Valid},
	{Row: 3, Name: "李四", Number: "+86 138-0013-8001", AgentNumber: "8002", Normalized: "13800138001", Status: Valid},
	{Row: 5, Name: "王五", Number: "1.38001E+10", Remark: "lost digits", Status: Invalid, Reason: ErrDigitsLost.Error()},
	{Row: 6, Name: "赵六", Number: " 13800138000 ", Remark: "dup", Normalized: "13800138000", Status: Duplicate, Reason: "duplicate of row 2"},
	{Row: 7, Name: "多行\n名字", Number: "010-12345678", Remark: "第一行\n第二行", Normalized: "01012345678", Status: Valid},
	{Row: 10, Name: "钱七", Number: "1380013800A", Status: Invalid, Reason: "letters in number: keep only the digits (an O for a 0? an l for a 1?)"},
	{Row: 11, Name: "孙八", Status: Invalid, Reason: "missing number: fill in the number or delete the row"},
	{Row: 12, Name: "周九", Number: "１３８００１３８００２", Normalized: "13800138002", Status: Valid},
	{Row: 13, Name: "吴十", Number: "'13800138003", AgentNumber: "8003", Normalized: "13800138003", Status: Valid},
	{Row: 14, Name: "郑一", Number: "13800138004.0", Normalized: "13800138004", Status: Valid},
	{Row: 15, Name: "王二", Number: "1380013800", Status: Invalid, Reason: "10 digits starting with 1: a digit may be missing"},
	{Row: 16, Name: "冯三", Number: "+1 202-555-0123", Status: Invalid, Reason: "+1 number: not a China number; use --region or --number-policy loose"},
	{Row: 17, Name: "陈四", Number: "400-800-1234", Normalized: "4008001234", Status: Valid},
	{Row: 19, Name: "褚五", Number: "010-12345678转8", Status: Invalid, Reason: "extension not supported: keep the number without its extension (转 8, ext. 8); an extension cannot be dialled"},
}

func mustEncode(t testing.TB, b []byte, enc interface{ Bytes([]byte) ([]byte, error) }) []byte {
	t.Helper()
	out, err := enc.Bytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// textFixtures are leadsCSV in each encoding and delimiter the reader
// detects, by file name.
func textFixtures(t testing.TB) map[string][]byte {
	utf8 := []byte(leadsCSV)
	return map[string][]byte{
		"leads-utf8.csv":      utf8,
		"leads-utf8-bom.csv":  append([]byte{0xEF, 0xBB, 0xBF}, utf8...),
		"leads-gbk.csv":       mustEncode(t, utf8, simplifiedchinese.GBK.NewEncoder()),
		"leads-utf16le.txt":   mustEncode(t, utf8, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder()),
		"leads-utf16be.csv":   mustEncode(t, utf8, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewEncoder()),
		"leads.tsv":           bytes.ReplaceAll(utf8, []byte(","), []byte("\t")),
		"leads-semicolon.csv": bytes.ReplaceAll(utf8, []byte(","), []byte(";")),
		"leads-english.csv": []byte("Name, Phone Number ,Note,Agent\n" +
			"Alice,13800138000,,1001\nBob,13800138000,,\n"),
		"leads-noheader.csv": []byte("张三,13800138000,vip,8001\n李四,010-12345678,,\n"),
		"leads-nonumber.csv": []byte("客户,微信号,备注\n张三,13800138000,\n"),
		"leads-ragged.csv":   []byte("姓名,电话\n张三,13800138000,extra,more,cells\n李四\n王五,13800138001\n"),
		"leads-lazyquote.csv": []byte("姓名,电话,备注\n张\"三,13800138000,say \"hi\"\n" +
			"李四,13800138001,\"quoted\"\n"),
		"leads-two-number-columns.csv": []byte("姓名,手机,联系电话\n张三,13800138000,010-12345678\n"),
		// Excel saves a title row padded with delimiters.
		"leads-title-row.csv": []byte("2026年11月展会线索（市场部）,,,\n" +
			"姓名,手机号(必填),备注,座席工号\n" +
			"张三,13800138000,展会,8001\n" +
			"李四,13900139000,,\n"),
		// A CRM export: an export-time line, a count, a blank line, then
		// the header; 手机 empty where only a landline is known.
		"leads-crm-export.txt": []byte("导出时间: 2026-11-25 10:00:01\n" + // 1
			"共 4 条记录\n" + // 2
			"\n" + // 3
			"客户名称\t手机\t座机\t备注\n" + // 4
			"张三\t13800138000\t\t\n" + // 5
			"李四\t\t010-12345678\t只有座机\n" + // 6
			"王五\t\t\t没有电话\n" + // 7
			"赵六\t\t12345\t座机太短\n"), // 8
		"leads-mingzi.csv": []byte("名字,联系方式,座机,微信\n" +
			"张三,13800138000,,zs001\n" +
			"李四,,0755-86013388,\n"),
		"leads-repeated-header.csv": []byte("姓名,手机,备注,座席,微信,手机\n" +
			"张三,13800138000,,,,13900139000\n" +
			"李四,,,,,13900139001\n"),
		// A note row that mentions the column is not the header.
		"leads-note-row.csv": []byte("填写说明：手机号必须为11位,\n" +
			"姓名,电话\n" +
			"张三,13800138000\n"),
		// An attention file as m7import writes it: the input's columns,
		// then row, status and reason, cells protected for spreadsheets.
		"leads-attention.csv": []byte("\uFEFF姓名,手机号码,备注,row,status,reason\n" +
			"张三,'+86 138 0013 8000,'=备注,12,invalid,not a valid number\n" +
			"李四,\t075586013388,,15,failed,HTTP 502\n" +
			"王五,13900139000,,16,duplicate,duplicate of row 3\n"),
	}
}

// writeFixture writes a fixture into dir and returns its path.
func writeFixture(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestGenerateFixtures rewrites the small fixtures checked in under
// testdata/importer when run with -update; the tests themselves build the
// same files in a temporary directory.
func TestGenerateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to rewrite ../testdata/importer")
	}
	dir := filepath.Join("..", "testdata", "importer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range textFixtures(t) {
		writeFixture(t, dir, name, data)
	}
	for name, data := range xlsxFixtures(t) {
		writeFixture(t, dir, name, data)
	}
}

func nil2gbk() interface{ Bytes([]byte) ([]byte, error) } { return simplifiedchinese.GBK.NewEncoder() }
