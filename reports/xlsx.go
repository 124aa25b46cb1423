package reports

import (
	"archive/zip"
	"bufio"
	"compress/flate"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/m7import/m7import/importer"
)

// XLSXWriter writes an XLSX report, streaming, in bounded memory. It writes
// the workbook's XML parts itself instead of using excelize's StreamWriter:
// that one leaves a stale <dimension ref="A1"/> that makes openpyxl
// (read-only mode) see no rows (excelize issue #1463), and it is several
// times slower. The sheet has no <dimension> element at all (it is optional,
// and the row count is not known when the sheet starts); Excel, WPS,
// LibreOffice, excelize and openpyxl then read every row.
//
// Every cell is an inline string (text): a phone number keeps its leading
// zeros and never becomes 1.38E+10. Empty cells carry no value (all but the
// last are omitted). The header row
// is bold and frozen. Characters XML 1.0 cannot carry are written as
// _xHHHH_ escapes (the OOXML convention), and a literal _xHHHH_ in a cell is
// protected as _x005F_xHHHH_, so excelize and Excel read the text back as
// written (openpyxl 3.0 leaves such escapes in inline strings undecoded;
// they only occur for control characters and literal "_xHHHH_" text).
// Invalid UTF-8 is written as U+FFFD.
type XLSXWriter struct {
	zw     *zip.Writer
	w      *bufio.Writer // over the sheet part's compressor
	row    int           // sheet row number of the last row written
	line   []byte
	num    []byte
	closed bool
}

const (
	xlsxContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`
	xlsxRootRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	// The workbook part is xlsxWorkbookStart + sheet name + xlsxWorkbookEnd.
	xlsxWorkbookStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><bookViews><workbookView/></bookViews><sheets><sheet name="`
	xlsxWorkbookEnd  = `" sheetId="1" r:id="rId1"/></sheets></workbook>`
	xlsxWorkbookRels = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`
	// Style 1 is the bold header.
	xlsxStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font><font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
	// The sheet part starts with xlsxSheetStart, then a <cols> element (or
	// none), then <sheetData>: the header row is frozen.
	xlsxSheetStart = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>`
	xlsxResultsCols    = `<cols><col min="1" max="1" width="8" customWidth="1"/><col min="2" max="6" width="18" customWidth="1"/><col min="7" max="7" width="12" customWidth="1"/><col min="8" max="8" width="40" customWidth="1"/><col min="9" max="9" width="8" customWidth="1"/><col min="10" max="10" width="36" customWidth="1"/></cols>`
	xlsxSheetDataStart = `<sheetData>`
	xlsxSheetEnd       = `</sheetData></worksheet>`
)

// NewXLSXWriter starts an XLSX report on w and writes its header row. The
// workbook is complete only after Close.
func NewXLSXWriter(w io.Writer) (*XLSXWriter, error) {
	zw, sw, err := startXLSX(w, "results", xlsxResultsCols)
	if err != nil {
		return nil, err
	}
	xw := &XLSXWriter{zw: zw, w: sw, line: make([]byte, 0, 1024)}
	b := append(xw.line[:0], `<row r="1">`...)
	for i, c := range Columns {
		b = appendXLSXCell(b, i, []byte("1"), c, true)
	}
	b = append(b, `</row>`...)
	xw.line = b
	if _, err := xw.w.Write(b); err != nil {
		return nil, fmt.Errorf("write xlsx report header: %w", err)
	}
	xw.row = 1
	return xw, nil
}

// startXLSX writes every part of a one-sheet workbook but the sheet's rows:
// it returns the zip and a buffered writer positioned inside <sheetData>.
// Finish with finishXLSX.
func startXLSX(w io.Writer, sheetName, cols string) (*zip.Writer, *bufio.Writer, error) {
	zw := zip.NewWriter(w)
	// BestSpeed: level 6 (the default) triples the cost of a large report
	// for a file about 20% smaller.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	workbook := string(appendXMLAttr([]byte(xlsxWorkbookStart), sheetName)) + xlsxWorkbookEnd
	for _, part := range []struct{ name, body string }{
		{"[Content_Types].xml", xlsxContentTypes},
		{"_rels/.rels", xlsxRootRels},
		{"xl/workbook.xml", workbook},
		{"xl/_rels/workbook.xml.rels", xlsxWorkbookRels},
		{"xl/styles.xml", xlsxStyles},
	} {
		pw, err := zw.Create(part.name)
		if err != nil {
			return nil, nil, fmt.Errorf("write xlsx part %s: %w", part.name, err)
		}
		if _, err := io.WriteString(pw, part.body); err != nil {
			return nil, nil, fmt.Errorf("write xlsx part %s: %w", part.name, err)
		}
	}
	sw, err := zw.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		return nil, nil, fmt.Errorf("write xlsx sheet: %w", err)
	}
	bw := bufio.NewWriterSize(sw, 64<<10)
	bw.WriteString(xlsxSheetStart)
	bw.WriteString(cols)
	bw.WriteString(xlsxSheetDataStart) // a failure is sticky in bufio and surfaces later
	return zw, bw, nil
}

// finishXLSX ends the sheet started by startXLSX and writes the zip
// directory.
func finishXLSX(zw *zip.Writer, sw *bufio.Writer) error {
	sw.WriteString(xlsxSheetEnd)
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("write xlsx sheet: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish xlsx: %w", err)
	}
	return nil
}

// Write writes one record as a sheet row. It does not allocate.
func (xw *XLSXWriter) Write(r importer.Record) error {
	if xw.closed {
		return errClosed
	}
	xw.row++
	rn := strconv.AppendInt(xw.num[:0], int64(xw.row), 10)
	xw.num = rn
	b := append(xw.line[:0], `<row r="`...)
	b = append(b, rn...)
	b = append(b, `">`...)
	var scratch [20]byte
	b = appendXLSXCell(b, colRow, rn, string(strconv.AppendInt(scratch[:0], int64(r.Row), 10)), false)
	b = appendXLSXCell(b, colName, rn, r.Name, false)
	b = appendXLSXCell(b, colNumber, rn, r.Number, false)
	b = appendXLSXCell(b, colRemark, rn, r.Remark, false)
	b = appendXLSXCell(b, colAgentNumber, rn, r.AgentNumber, false)
	b = appendXLSXCell(b, colNormalized, rn, r.Normalized, false)
	b = appendXLSXCell(b, colStatus, rn, string(r.Status), false)
	b = appendXLSXCell(b, colReason, rn, r.Reason, false)
	if r.Batch != 0 {
		b = appendXLSXCell(b, colBatch, rn, string(strconv.AppendInt(scratch[:0], int64(r.Batch), 10)), false)
	}
	if r.RequestID != "" {
		b = appendXLSXCell(b, colRequestID, rn, r.RequestID, false)
	} else {
		// A valueless last cell, so that readers that size rows by their
		// cells (openpyxl in read-only mode, without <dimension>) see ten.
		b = append(b, `<c r="J`...)
		b = append(b, rn...)
		b = append(b, `"/>`...)
	}
	b = append(b, `</row>`...)
	xw.line = b
	if _, err := xw.w.Write(b); err != nil {
		return fmt.Errorf("write xlsx report row %d: %w", r.Row, err)
	}
	return nil
}

// Close ends the sheet and writes the zip directory. It does not close the
// underlying writer.
func (xw *XLSXWriter) Close() error {
	if xw.closed {
		return nil
	}
	xw.closed = true
	if err := finishXLSX(xw.zw, xw.w); err != nil {
		return fmt.Errorf("xlsx report: %w", err)
	}
	return nil
}

// appendXLSXCell appends an inline-string cell at column col (0-based) of
// row rowNum; an empty value writes nothing.
func appendXLSXCell(b []byte, col int, rowNum []byte, v string, bold bool) []byte {
	if v == "" {
		return b
	}
	b = append(b, `<c r="`...)
	b = appendColumnName(b, col)
	b = append(b, rowNum...)
	if bold {
		b = append(b, `" s="1`...)
	}
	b = append(b, `" t="inlineStr"><is><t`...)
	if isXMLSpace(v[0]) || isXMLSpace(v[len(v)-1]) {
		b = append(b, ` xml:space="preserve"`...)
	}
	b = append(b, '>')
	b = appendXMLText(b, v)
	return append(b, `</t></is></c>`...)
}

// appendColumnName appends the spreadsheet name of column col (0-based):
// A … Z, AA … ZZ, AAA ….
func appendColumnName(b []byte, col int) []byte {
	var name [8]byte
	i := len(name)
	for n := col + 1; n > 0 && i > 0; n = (n - 1) / 26 {
		i--
		name[i] = byte('A' + (n-1)%26)
	}
	return append(b, name[i:]...)
}

// appendXMLAttr appends s as XML text fit for a double-quoted attribute.
func appendXMLAttr(b []byte, s string) []byte {
	for _, r := range s {
		switch r {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '"':
			b = append(b, "&quot;"...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// appendXMLText appends s as XML character data in OOXML's ST_Xstring form.
func appendXMLText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
			case r == 0xFFFE || r == 0xFFFF:
				b = append(b, s[start:i]...)
				b = appendBstrEscape(b, r)
			default:
				i += size
				continue
			}
			i += size
			start = i
			continue
		}
		var esc string
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '\r':
			// A literal CR would be normalized away by every XML parser.
			esc = "&#13;"
		case c == '_' && isBstrEscape(s[i:]):
			esc = "_x005F_"
		case c < 0x20 && c != '\t' && c != '\n':
			b = append(b, s[start:i]...)
			b = appendBstrEscape(b, rune(c))
			i++
			start = i
			continue
		default:
			i++
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		i++
		start = i
	}
	return append(b, s[start:]...)
}

// isBstrEscape reports whether s starts with _xHHHH_, which readers decode.
func isBstrEscape(s string) bool {
	if len(s) < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_' {
		return false
	}
	for _, c := range []byte(s[2:6]) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func appendBstrEscape(b []byte, r rune) []byte {
	const hexUpper = "0123456789ABCDEF"
	return append(b, '_', 'x', hexUpper[r>>12&0xF], hexUpper[r>>8&0xF], hexUpper[r>>4&0xF], hexUpper[r&0xF], '_')
}
