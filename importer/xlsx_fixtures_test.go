package importer

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// xsheet is one worksheet of a hand-built package: its <sheetData> content.
type xsheet struct {
	name, state string
	data        string
	prefix      string // element prefix, e.g. "x:" as the OpenXML SDK writes
}

// buildXLSX writes a minimal SpreadsheetML package with archive/zip, the way
// Excel lays it out; sst holds the <si> elements' inner XML.
func buildXLSX(t testing.TB, sheets []xsheet, sst []string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	const hdr = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	ct := hdr + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>`
	for i := range sheets {
		ct += fmt.Sprintf(`<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`, i+1)
	}
	put("[Content_Types].xml", ct+`</Types>`)
	put("_rels/.rels", hdr+`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	wb := hdr + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>`
	rels := hdr + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">`
	for i, s := range sheets {
		state := ""
		if s.state != "" {
			state = ` state="` + s.state + `"`
		}
		wb += fmt.Sprintf(`<sheet name="%s" sheetId="%d"%s r:id="rId%d"/>`, s.name, i+1, state, i+10)
		rels += fmt.Sprintf(`<Relationship Id="rId%d" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet%d.xml"/>`, i+10, i+1)
	}
	put("xl/workbook.xml", wb+`</sheets></workbook>`)
	if sst != nil {
		rels += `<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
		put("xl/sharedStrings.xml", hdr+fmt.Sprintf(`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d"><si>`, len(sst), len(sst))+strings.Join(sst, "</si><si>")+`</si></sst>`)
	}
	put("xl/_rels/workbook.xml.rels", rels+`</Relationships>`)
	for i, s := range sheets {
		p := s.prefix
		ns := `xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
		if p != "" {
			ns = `xmlns:` + strings.TrimSuffix(p, ":") + `="http://schemas.openxmlformats.org/spreadsheetml/2006/main"`
		}
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), hdr+`<`+p+`worksheet `+ns+`><`+p+`dimension ref="A1"/><`+p+`sheetData>`+s.data+`</`+p+`sheetData></`+p+`worksheet>`)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// leadsSST is the shared-strings table of leads.xlsx.
var leadsSST = []string{
	`<t>姓名</t>`, `<t>手机号码</t>`, `<t>备注</t>`, `<t>座席工号</t>`, // 0-3
	`<t>张三</t>`, `<t>李四</t>`, `<t>1.38001E+10</t>`, `<t>00000105438</t>`, // 4-7
	`<r><t>赵</t></r><r><rPr><b/></rPr><t>六</t></r><rPh sb="0" eb="1"><t>ZHAO</t></rPh>`, // 8
	`<t xml:space="preserve"> 138 0013 8005 </t>`,                                       // 9
	`<t xml:space="preserve">  </t>`,                                                    // 10
}

// leadsSheet exercises every cell type, gaps in rows and columns, cells
// without references, escapes and a blank row.
const leadsSheet = `<row r="1" spans="1:4"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c><c r="D1" t="s"><v>3</v></c></row>` +
	`<row r="2"><c r="A2" t="s"><v>4</v></c><c r="B2" s="1"><v>13800138000</v></c><c r="C2" t="inlineStr"><is><r><t>vip</t></r><r><t>_x000D_!</t></r></is></c><c r="D2"><v>8001</v></c></row>` +
	`<row r="3"><c r="A3" t="s"><v>5</v></c><c r="B3" t="n"><v>1.3800138001E10</v></c><c r="D3"><v>8002.0</v></c></row>` +
	`<row r="5"><c t="inlineStr"><is><t>王五</t></is></c><c t="s"><v>6</v></c></row>` +
	`<row r="6"><c r="B6"><v>13800138000.0</v></c></row>` +
	`<row r="7"><c r="A7" t="s"><v>10</v></c><c r="B7"/><c r="C7" t="inlineStr"><is><t></t></is></c></row>` +
	`<row r="8"><c r="A8" t="str"><f>"x"</f><v>公式</v></c><c r="B8" t="str"><f>CONCAT("010-","12345678")</f><v>010-12345678</v></c></row>` +
	`<row r="9"><c r="B9" t="s"><v>7</v></c></row>` +
	`<row r="10"><c r="B10" t="b"><v>1</v></c></row>` +
	`<row r="11"><c r="B11" t="e"><v>#N/A</v></c></row>` +
	`<row r="12"><c r="F12" t="inlineStr"><is><t>x</t></is></c></row>` +
	`<row r="13"><c r="B13"><v>1.38001380005E10</v></c></row>` +
	`<row r="14"><c r="A14" t="s"><v>8</v></c><c r="B14" t="s"><v>9</v></c></row>` +
	`<row r="15"><c r="A15" t="inlineStr"><is><t>A&amp;B &#x4E00;&#19968;</t></is></c><c r="B15"><v>8613800138006</v></c><c r="C15" t="inlineStr"><is><t><![CDATA[<raw>]]></t></is></c></row>` +
	`<row r="16"/>` +
	`<row><c r="B17"><v>13800138007</v></c></row>`

var leadsXLSXWant = []Record{
	{Row: 2, Name: "张三", Number: "13800138000", Remark: "vip\r!", AgentNumber: "8001", Normalized: "13800138000", Status: Valid},
	{Row: 3, Name: "李四", Number: "1.3800138001E10", AgentNumber: "8002", Normalized: "13800138001", Status: Valid},
	{Row: 5, Name: "王五", Number: "1.38001E+10", Status: Invalid, Reason: ErrDigitsLost.Error()},
	{Row: 6, Number: "13800138000.0", Normalized: "13800138000", Status: Duplicate, Reason: "duplicate of row 2"},
	{Row: 8, Name: "公式", Number: "010-12345678", Normalized: "01012345678", Status: Valid},
	{Row: 9, Number: "00000105438", Status: Invalid, Reason: "not a valid China number"},
	{Row: 10, Number: "TRUE", Status: Invalid, Reason: "not a phone number: put the phone number in this cell"},
	{Row: 11, Number: "#N/A", Status: Invalid, Reason: "not a phone number: put the phone number in this cell"},
	{Row: 12, Status: Invalid, Reason: "missing number: fill in the number or delete the row"},
	{Row: 13, Number: "1.38001380005E10", Status: Invalid, Reason: "numeric cell 1.38001380005E10 is not a whole number"},
	{Row: 14, Name: "赵六", Number: " 138 0013 8005 ", Normalized: "13800138005", Status: Valid},
	{Row: 15, Name: "A&B 一一", Number: "8613800138006", Remark: "<raw>", Normalized: "13800138006", Status: Valid},
	{Row: 17, Number: "13800138007", Normalized: "13800138007", Status: Valid},
}

// excelizeXLSX writes a workbook with excelize, as other parts of m7import
// (and many tools) do: numbers as number cells, text as shared strings.
func excelizeXLSX(t testing.TB) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{
		{"客户姓名", "电话", "说明", "工号"},
		{"张三", 13800138000, "vip", 8001},
		{"李四", "010-12345678", nil, "8002"},
		{"王五", 13800138000, nil, nil},
	}
	for i, r := range rows {
		cellRef, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cellRef, &r); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// xlsxFixtures are the XLSX fixtures by file name.
func xlsxFixtures(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"leads.xlsx": buildXLSX(t, []xsheet{
			{name: "隐藏", state: "hidden", data: `<row r="1"><c r="A1" t="inlineStr"><is><t>not this one</t></is></c></row>`},
			{name: "Leads", data: leadsSheet},
		}, leadsSST),
		"leads-excelize.xlsx": excelizeXLSX(t),
		"leads-instructions-first.xlsx": workbook(t, []wsheet{
			{name: "填写说明", rows: [][]any{{"填写说明"}, {"1. 手机号必须为11位"}, {"2. 不要修改表头"}}},
			{name: "线索", rows: [][]any{{"2026年11月展会线索（市场部）"}, {"姓名", "手机号码", "备注"}, {"张三", 13800138000, "vip"}, {"李四", "13900139000", nil}}},
		}),
		"leads-hidden-first.xlsx": workbook(t, []wsheet{
			{name: "旧数据", hidden: true, rows: [][]any{{"姓名", "电话"}, {"旧", 13700137000}}},
			{name: "Leads", rows: [][]any{{"Name", "Mobile"}, {"Alice", 13800138000}}},
		}),
		"leads-no-number-sheet.xlsx": workbook(t, []wsheet{
			{name: "说明", rows: [][]any{{"请在第二张表填写"}}},
			{name: "客户", rows: [][]any{{"客户", "微信号", "备注"}, {"张三", "13800138000", nil}}},
			{name: "备份", hidden: true, rows: [][]any{{"姓名", "手机"}, {"张三", "13800138000"}}},
		}),
		"leads-prefixed.xlsx": buildXLSX(t, []xsheet{{name: "Sheet1", prefix: "x:", data: `<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>phone</x:t></x:is></x:c></x:row><x:row r="2"><x:c r="A2"><x:v>13800138000</x:v></x:c></x:row>`}}, nil),
	}
}

// wsheet is one sheet for workbook.
type wsheet struct {
	name   string
	hidden bool
	rows   [][]any
}

// workbook writes sheets with excelize, in order.
func workbook(t testing.TB, sheets []wsheet) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, sh := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", sh.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(sh.name); err != nil {
			t.Fatal(err)
		}
		for r, row := range sh.rows {
			ref, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := f.SetSheetRow(sh.name, ref, &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, sh := range sheets {
		if !sh.hidden {
			idx, _ := f.GetSheetIndex(sh.name)
			f.SetActiveSheet(idx)
			break
		}
	}
	for _, sh := range sheets {
		if sh.hidden {
			if err := f.SetSheetVisible(sh.name, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func newZipWriter(w interface{ Write([]byte) (int, error) }) *zip.Writer { return zip.NewWriter(w) }
