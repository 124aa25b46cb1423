package leadgen

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
)

const (
	xlsxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`
	xlsxRootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	xlsxWorkbook = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView/></bookViews><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`
	xlsxWorkbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`
	xlsxStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="宋体"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
	xlsxSSTStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="`
)

// WriteXLSX writes a header and cfg.Rows generated rows to w as an XLSX
// workbook of one sheet, with a shared-strings table as Excel and WPS save
// (or inline strings with cfg.InlineStrings), some phone numbers and agent
// numbers as NUMERIC cells, and a correct <dimension>. The XML parts are
// written directly (excelize's writer is far slower for a million rows).
//
// The sheet and the shared-strings table are written in two passes over
// the same seed, so memory stays bounded: fixed strings (header, remarks,
// agents) share entries, and every other text cell gets its own entry
// (repeats are legal in the table; Excel would merge them).
func WriteXLSX(w io.Writer, cfg Config) error {
	if _, err := NewGenerator(cfg); err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxRootRels},
		{"xl/workbook.xml", xlsxWorkbook},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
		{"xl/styles.xml", xlsxStyles},
	} {
		pw, err := zw.Create(part.name)
		if err != nil {
			return fmt.Errorf("leadgen: write xlsx %s: %w", part.name, err)
		}
		if _, err := io.WriteString(pw, part.body); err != nil {
			return fmt.Errorf("leadgen: write xlsx %s: %w", part.name, err)
		}
	}
	fixed := fixedStrings()
	count, entries, err := writeSheet(zw, cfg, fixed)
	if err != nil {
		return err
	}
	if err := writeSST(zw, cfg, fixed, count, entries); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("leadgen: write xlsx: %w", err)
	}
	return nil
}

// fixedStrings are the shared-string entries every file starts with, by
// their index: the header, the remarks and the agent numbers.
type fixedTable struct {
	list  []string
	index map[string]int
}

func fixedStrings() fixedTable {
	t := fixedTable{index: map[string]int{}}
	for _, set := range [][]string{Header, remarks, oddRemarks, agents} {
		for _, s := range set {
			if _, ok := t.index[s]; !ok && s != "" {
				t.index[s] = len(t.list)
				t.list = append(t.list, s)
			}
		}
	}
	return t
}

// sheetWriter builds the sheet's XML.
type sheetWriter struct {
	b      []byte
	rowNum []byte
	fixed  fixedTable
	inline bool
	count  int // text cells written with a shared string
	next   int // next new shared-string index
}

func (s *sheetWriter) cell(col byte, v string, numeric bool) {
	if v == "" {
		return
	}
	s.b = append(s.b, `<c r="`...)
	s.b = append(s.b, col)
	s.b = append(s.b, s.rowNum...)
	switch {
	case numeric:
		s.b = append(s.b, `"><v>`...)
		s.b = append(s.b, v...)
		s.b = append(s.b, `</v></c>`...)
	case s.inline:
		s.b = append(s.b, `" t="inlineStr"><is>`...)
		s.b = appendT(s.b, v)
		s.b = append(s.b, `</is></c>`...)
	default:
		idx, ok := s.fixed.index[v]
		if !ok {
			idx = s.next
			s.next++
		}
		s.count++
		s.b = append(s.b, `" t="s"><v>`...)
		s.b = strconv.AppendInt(s.b, int64(idx), 10)
		s.b = append(s.b, `</v></c>`...)
	}
}

func writeSheet(zw *zip.Writer, cfg Config, fixed fixedTable) (count, entries int, err error) {
	g, err := NewGenerator(cfg)
	if err != nil {
		return 0, 0, err
	}
	pw, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return 0, 0, fmt.Errorf("leadgen: write xlsx sheet: %w", err)
	}
	bw := bufio.NewWriterSize(pw, 64<<10)
	bw.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><dimension ref="A1:D`)
	bw.WriteString(strconv.Itoa(cfg.Rows + 1))
	bw.WriteString(`"/><sheetViews><sheetView tabSelected="1" workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/><cols><col min="1" max="1" width="12" customWidth="1"/><col min="2" max="2" width="20" customWidth="1"/><col min="3" max="3" width="24" customWidth="1"/><col min="4" max="4" width="10" customWidth="1"/></cols><sheetData>`)
	s := &sheetWriter{b: make([]byte, 0, 512), fixed: fixed, inline: cfg.InlineStrings, next: len(fixed.list)}
	writeRow := func(n int, cells func()) error {
		s.rowNum = strconv.AppendInt(s.rowNum[:0], int64(n), 10)
		s.b = append(s.b[:0], `<row r="`...)
		s.b = append(s.b, s.rowNum...)
		s.b = append(s.b, `" spans="1:4">`...)
		cells()
		s.b = append(s.b, `</row>`...)
		_, err := bw.Write(s.b)
		return err
	}
	writeRow(1, func() {
		for i, h := range Header {
			s.cell(byte('A'+i), h, false)
		}
	})
	for n := 2; ; n++ {
		row, ok := g.Next()
		if !ok {
			break
		}
		err := writeRow(n, func() {
			s.cell('A', row.Name, false)
			if row.NumberNumeric && row.POIDouble {
				s.cell('B', poiDouble(row.Number), true)
			} else {
				s.cell('B', row.Number, row.NumberNumeric)
			}
			s.cell('C', row.Remark, false)
			s.cell('D', row.Agent, row.AgentNumeric)
		})
		if err != nil {
			return 0, 0, fmt.Errorf("leadgen: write xlsx sheet: %w", err)
		}
	}
	bw.WriteString(`</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`)
	if err := bw.Flush(); err != nil {
		return 0, 0, fmt.Errorf("leadgen: write xlsx sheet: %w", err)
	}
	return s.count, s.next, nil
}

// writeSST writes the shared-strings table: the fixed strings, then, from a
// second generator on the same seed, every other text cell in sheet order.
func writeSST(zw *zip.Writer, cfg Config, fixed fixedTable, count, entries int) error {
	if cfg.InlineStrings {
		count, entries = 0, len(fixed.list)
	}
	pw, err := zw.Create("xl/sharedStrings.xml")
	if err != nil {
		return fmt.Errorf("leadgen: write xlsx shared strings: %w", err)
	}
	bw := bufio.NewWriterSize(pw, 64<<10)
	b := append(make([]byte, 0, 512), xlsxSSTStart...)
	b = strconv.AppendInt(b, int64(count), 10)
	b = append(b, `" uniqueCount="`...)
	b = strconv.AppendInt(b, int64(entries), 10)
	b = append(b, `">`...)
	add := func(v string) {
		b = append(b, `<si>`...)
		b = appendT(b, v)
		b = append(b, `</si>`...)
	}
	for _, v := range fixed.list {
		add(v)
	}
	bw.Write(b)
	if !cfg.InlineStrings {
		g, err := NewGenerator(cfg)
		if err != nil {
			return err
		}
		text := func(v string, numeric bool) {
			if v == "" || numeric {
				return
			}
			if _, ok := fixed.index[v]; !ok {
				add(v)
			}
		}
		for {
			row, ok := g.Next()
			if !ok {
				break
			}
			b = b[:0]
			text(row.Name, false)
			text(row.Number, row.NumberNumeric)
			text(row.Remark, false)
			text(row.Agent, row.AgentNumeric)
			if _, err := bw.Write(b); err != nil {
				return fmt.Errorf("leadgen: write xlsx shared strings: %w", err)
			}
		}
	}
	bw.WriteString(`</sst>`)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("leadgen: write xlsx shared strings: %w", err)
	}
	return nil
}

// appendT appends <t>v</t>, XML-escaped, keeping edge spaces.
func appendT(b []byte, v string) []byte {
	if v[0] == ' ' || v[len(v)-1] == ' ' || v[0] == '\n' || v[len(v)-1] == '\n' {
		b = append(b, `<t xml:space="preserve">`...)
	} else {
		b = append(b, `<t>`...)
	}
	start := 0
	for i := 0; i < len(v); i++ {
		var esc string
		switch v[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		default:
			continue
		}
		b = append(b, v[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	b = append(b, v[start:]...)
	return append(b, `</t>`...)
}
