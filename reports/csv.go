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
// Formula injection: a cell that starts with = + - @ TAB CR or LF (OWASP's
// list, plus LF) would be run by a spreadsheet as a formula, so it is written
// with a leading apostrophe ('=cmd, '+86 138...). So that Reader can undo
// this exactly, a cell that starts with an apostrophe followed by one of
// those characters or by another apostrophe gets one more apostrophe too;
// any other cell is written as is ('quoted stays 'quoted).
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
	b = appendCSVField(b, r.Name)
	b = append(b, ',')
	b = appendCSVField(b, r.Number)
	b = append(b, ',')
	b = appendCSVField(b, r.Remark)
	b = append(b, ',')
	b = appendCSVField(b, r.AgentNumber)
	b = append(b, ',')
	b = appendCSVField(b, r.Normalized)
	b = append(b, ',')
	b = appendCSVField(b, string(r.Status))
	b = append(b, ',')
	b = appendCSVField(b, r.Reason)
	b = append(b, ',')
	if r.Batch != 0 {
		b = appendCSVInt(b, r.Batch)
	}
	b = append(b, ',')
	b = appendCSVField(b, r.RequestID)
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

// needsApostrophe reports whether the CSV writer prefixes s with an
// apostrophe; unneutralize is its exact inverse.
func needsApostrophe(s string) bool {
	if s == "" {
		return false
	}
	if isFormulaStart(s[0]) {
		return true
	}
	return s[0] == '\'' && len(s) > 1 && (s[1] == '\'' || isFormulaStart(s[1]))
}

// unneutralize removes the apostrophe the CSV writer added.
func unneutralize(s string) string {
	if len(s) > 1 && s[0] == '\'' && (s[1] == '\'' || isFormulaStart(s[1])) {
		return s[1:]
	}
	return s
}

// appendCSVField appends s as one CSV field, neutralized and quoted as
// needed.
func appendCSVField(b []byte, s string) []byte {
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
