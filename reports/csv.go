package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/m7import/m7import/importer"
)

// bom is the UTF-8 byte order mark that makes Excel and WPS read a CSV file
// as UTF-8 instead of the system code page (GBK on Chinese Windows).
const bom = "\xEF\xBB\xBF"

// CSVWriter writes a CSV report: a UTF-8 BOM, the header line, then one line
// per record, LF-terminated (Excel, WPS and LibreOffice accept LF; Unix tools
// do not then see a stray CR in the last column). A field is quoted when it
// holds a comma, a double quote, CR or LF.
//
// Numbers as text: a cell of number, normalized_number or agent_number that
// holds digits only is written with a leading TAB (\t075586013388). Opened
// with default settings, Excel, WPS and LibreOffice then keep it as text, with
// every digit and its leading zero; bare, 075586013388 becomes 75586013388
// and 13800138000 is shown as 1.38E+10. Not ="…": that is a formula, which
// the defusing below exists to prevent (../shared/spec/NOTES.md, "numbers in
// the CSV report and spreadsheets"). A cell that already has that form (a
// TAB, then digits only, perhaps defused as '+TAB+digits) is written in it
// again, not defused.
//
// Formula injection: a cell that starts with = + - @ TAB CR or LF (OWASP's
// list, plus LF) would be run by a spreadsheet as a formula, so it is written
// with a leading apostrophe ('=cmd, '+86 138...). The defusing is idempotent:
// a cell that already starts with our apostrophe (an apostrophe followed by
// one of those characters) is written as is, so a report or attention file
// fixed in a spreadsheet and imported again never grows a second apostrophe
// ('+86 138 stays as it is). Reader removes our apostrophe and our TAB; the price is that a
// cell really holding '=x reads back as =x.
type CSVWriter struct {
	w      *bufio.Writer
	line   []byte
	closed bool
}

// NewCSVWriter returns a CSVWriter writing to w. The BOM and the header are
// buffered at once, so even a report with no rows has them after Close.
func NewCSVWriter(w io.Writer) *CSVWriter {
	cw := &CSVWriter{w: bufio.NewWriterSize(w, 64<<10), line: make([]byte, 0, 512)}
	line := append(cw.line[:0], bom...)
	for i, c := range Columns {
		if i > 0 {
			line = append(line, ',')
		}
		line = append(line, c...)
	}
	line = append(line, '\n')
	cw.w.Write(line) // a failure is sticky in bufio and surfaces at Write/Close
	cw.line = line[:0]
	return cw
}

// Write writes one record as a line. It does not allocate.
func (cw *CSVWriter) Write(r importer.Record) error {
	if cw.closed {
		return errClosed
	}
	b := cw.line[:0]
	b = appendCSVInt(b, r.Row)
	b = append(b, ',')
	b = appendCSVField(b, r.Name, false)
	b = append(b, ',')
	b = appendCSVField(b, r.Number, true)
	b = append(b, ',')
	b = appendCSVField(b, r.Remark, false)
	b = append(b, ',')
	b = appendCSVField(b, r.AgentNumber, true)
	b = append(b, ',')
	b = appendCSVField(b, r.Normalized, true)
	b = append(b, ',')
	b = appendCSVField(b, string(r.Status), false)
	b = append(b, ',')
	b = appendCSVField(b, r.Reason, false)
	b = append(b, ',')
	if r.Batch != 0 {
		b = appendCSVInt(b, r.Batch)
	}
	b = append(b, ',')
	b = appendCSVField(b, r.RequestID, false)
	b = append(b, '\n')
	cw.line = b
	if _, err := cw.w.Write(b); err != nil {
		return fmt.Errorf("write csv report row %d: %w", r.Row, err)
	}
	return nil
}

// Close flushes the report. It does not close the underlying writer.
func (cw *CSVWriter) Close() error {
	if cw.closed {
		return nil
	}
	cw.closed = true
	if err := cw.w.Flush(); err != nil {
		return fmt.Errorf("flush csv report: %w", err)
	}
	return nil
}

// appendCSVInt appends n; a negative number (never a real row) is
// neutralized like any cell starting with '-'.
func appendCSVInt(b []byte, n int) []byte {
	if n < 0 {
		b = append(b, '\'')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// isFormulaStart reports whether a cell starting with c would be taken as
// a formula (or, for TAB/CR/LF, hide one) by a spreadsheet.
func isFormulaStart(c byte) bool {
	switch c {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return true
	}
	return false
}

// isDefused reports whether s starts with our defusing apostrophe: an
// apostrophe followed by a formula start.
func isDefused(s string) bool {
	return len(s) > 1 && s[0] == '\'' && isFormulaStart(s[1])
}

// needsApostrophe reports whether the CSV writer prefixes s with an
// apostrophe: s would start a formula, and is not defused already.
func needsApostrophe(s string) bool {
	return s != "" && isFormulaStart(s[0])
}

// unneutralize removes our defusing apostrophe, if s has one.
func unneutralize(s string) string {
	if isDefused(s) {
		return s[1:]
	}
	return s
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// keptDigits returns d when s is d, TAB + d or '+TAB + d for digits-only d
// with asText(d): a number the writer keeps as text, given bare, in the
// writer's form (a cell read back without dropping the TAB), or in that form
// behind an apostrophe. All three are written TAB + d and read back as d.
func keptDigits(s string, asText func(digits string) bool) (string, bool) {
	if asText == nil {
		return "", false
	}
	d := s
	if len(d) > 1 && d[0] == '\'' && d[1] == '\t' {
		d = d[2:]
	} else if len(d) > 0 && d[0] == '\t' {
		d = d[1:]
	}
	if isDigits(d) && asText(d) {
		return d, true
	}
	return "", false
}

// readCSVCell undoes appendCSVCell, whatever the column: a TAB before
// digits only is dropped, and so is our defusing apostrophe. It is the one
// rule any reader of our CSV files needs (an importer reading an attention
// file back does not know which columns were written as numbers). For every
// cell s and column rule asText, writing readCSVCell(appendCSVCell(s)) again
// gives the same cell: a fix and re-import round trip changes nothing.
func readCSVCell(s string) string {
	if len(s) > 1 && s[0] == '\t' && isDigits(s[1:]) {
		return s[1:]
	}
	return unneutralize(s)
}

// numberAsText says which digits-only cells of a number column are kept as
// text: all of them.
func numberAsText(string) bool { return true }

// longDigitsAsText says which digits-only cells of any other column of an
// attention file are kept as text: those a spreadsheet would change (a
// leading zero dropped, 11 or more digits shown as 1.38E+10 or rounded
// beyond 15).
func longDigitsAsText(d string) bool { return d[0] == '0' || len(d) >= 11 }

// appendCSVField appends s as one CSV field, neutralized and quoted as
// needed; number says the cell is in a number column (see CSVWriter).
func appendCSVField(b []byte, s string, number bool) []byte {
	if number {
		return appendCSVCell(b, s, numberAsText)
	}
	return appendCSVCell(b, s, nil)
}

// appendCSVCell appends s as one CSV field. A number kept as text (see
// keptDigits) is written TAB + digits; other cells are defused and quoted as
// needed.
func appendCSVCell(b []byte, s string, asText func(digits string) bool) []byte {
	if d, ok := keptDigits(s, asText); ok {
		b = append(b, '\t')
		return append(b, d...)
	}
	quote := needsQuotes(s)
	if quote {
		b = append(b, '"')
	}
	if needsApostrophe(s) {
		b = append(b, '\'')
	}
	if !quote {
		return append(b, s...)
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, s[start:i+1]...)
			b = append(b, '"')
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// needsQuotes reports whether s holds a comma, a double quote, CR or LF.
// All four are <= ',', so digits, letters and UTF-8 bytes cost one
// comparison. (An 8-bytes-at-a-time variant measured slower on report
// cells, which are short.)
func needsQuotes(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ',' && (c == ',' || c == '"' || c == '\n' || c == '\r') {
			return true
		}
	}
	return false
}

// csvParser reads RFC 4180 records exactly: unlike encoding/csv it keeps a
// CR inside a quoted field (a cell holding "a\r\nb" reads back as written).
// Records end with LF or CRLF. A quote inside an unquoted field is taken
// literally, as Excel does.
type csvParser struct {
	r      *bufio.Reader
	line   int // physical line the next record starts on (1-based)
	field  []byte
	fields []string
}

func newCSVParser(r io.Reader) *csvParser {
	return &csvParser{r: bufio.NewReaderSize(r, 64<<10), line: 1}
}

// skipBOM drops a leading UTF-8 BOM, if any.
func (p *csvParser) skipBOM() error {
	b, err := p.r.Peek(3)
	if err == nil && string(b) == bom {
		_, err = p.r.Discard(3)
		return err
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// read returns the next record's fields (valid until the next call) and the
// line it starts on; io.EOF when there are no more records.
func (p *csvParser) read() ([]string, int, error) {
	start := p.line
	p.fields = p.fields[:0]
	c, err := p.r.ReadByte()
	if err == io.EOF {
		return nil, start, io.EOF
	}
	if err != nil {
		return nil, start, err
	}
	p.r.UnreadByte()
	for {
		p.field = p.field[:0]
		c, err = p.r.ReadByte()
		if err != nil && err != io.EOF {
			return nil, start, err
		}
		if err == nil && c == '"' {
			// Quoted field.
			for {
				c, err = p.r.ReadByte()
				if err == io.EOF {
					return nil, start, fmt.Errorf("line %d: quoted field not closed: %w", start, ErrMalformed)
				}
				if err != nil {
					return nil, start, err
				}
				if c == '\n' {
					p.line++
				}
				if c != '"' {
					p.field = append(p.field, c)
					continue
				}
				c, err = p.r.ReadByte()
				if err == nil && c == '"' {
					p.field = append(p.field, '"')
					continue
				}
				break // closing quote
			}
			if err == nil && c == '\r' {
				c, err = p.r.ReadByte()
				if err == nil && c != '\n' {
					return nil, start, fmt.Errorf("line %d: bare CR after quoted field: %w", p.line, ErrMalformed)
				}
			}
			if err != nil && err != io.EOF {
				return nil, start, err
			}
			if err == nil && c != ',' && c != '\n' {
				return nil, start, fmt.Errorf("line %d: %q after closing quote: %w", p.line, c, ErrMalformed)
			}
		} else {
			// Unquoted field: up to a comma, LF or EOF; a CR before LF ends the line.
			for err == nil && c != ',' && c != '\n' {
				p.field = append(p.field, c)
				c, err = p.r.ReadByte()
			}
			if err != nil && err != io.EOF {
				return nil, start, err
			}
			// A CR that ends the line (CRLF, or the file) is not data.
			if n := len(p.field); n > 0 && p.field[n-1] == '\r' && (err == io.EOF || c == '\n') {
				p.field = p.field[:n-1]
			}
		}
		p.fields = append(p.fields, string(p.field))
		if err == io.EOF {
			p.line++
			return p.fields, start, nil
		}
		if c == '\n' {
			p.line++
			return p.fields, start, nil
		}
		// c == ',': next field
	}
}
