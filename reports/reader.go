package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/m7import/m7import/importer"
	"github.com/xuri/excelize/v2"
)

// ErrMalformed is wrapped by errors about a report that cannot be parsed.
var ErrMalformed = errors.New("malformed report")

// ErrHeader is wrapped by errors about a report whose header (CSV, XLSX) or
// first object (JSONL) lacks one of the Columns.
var ErrHeader = errors.New("not a results report: header lacks a column")

// Limits for XLSX reports read back. excelize's defaults would let a zip
// bomb inflate to 16 GB; a results report of 1M rows is about 0.5 GB of XML.
const (
	xlsxUnzipSizeLimit    = 4 << 30
	xlsxUnzipXMLSizeLimit = 64 << 20
)

// Reader reads a results report back, one record at a time, whatever its
// format. Columns are found by header name, so a report with extra columns
// (or reordered ones, after a spreadsheet round trip) still reads; blank
// lines and rows are skipped.
type Reader struct {
	format Format
	next   func() (importer.Record, error)
	close  func() error
}

// Open opens the report at path. The format is sniffed from the content
// (zip → XLSX, a leading '{' → JSONL, else CSV, with or without a BOM), not
// from the extension, so a renamed report still reads. The header is checked
// here.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open report: %w", err)
	}
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	format := sniff(head[:n])
	if format == XLSX {
		f.Close()
		xf, err := excelize.OpenFile(path, xlsxOptions())
		if err != nil {
			return nil, fmt.Errorf("open report %s: %w", path, err)
		}
		r, err := newXLSXReader(xf)
		if err != nil {
			xf.Close()
			return nil, fmt.Errorf("read report %s: %w", path, err)
		}
		return r, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	r, err := NewReader(f, format)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read report %s: %w", path, err)
	}
	r.close = f.Close
	return r, nil
}

// NewReader reads a report of the given format from r. An XLSX report is
// read whole into memory first (excelize needs random access); use Open for
// large files.
func NewReader(r io.Reader, f Format) (*Reader, error) {
	switch f {
	case CSV:
		return newCSVReader(r)
	case JSONL:
		return newJSONLReader(r)
	case XLSX:
		xf, err := excelize.OpenReader(r, xlsxOptions())
		if err != nil {
			return nil, fmt.Errorf("open xlsx report: %w", err)
		}
		return newXLSXReader(xf)
	}
	return nil, fmt.Errorf("report format %q: %w", f, ErrUnknownFormat)
}

// Format is the format of the report being read.
func (r *Reader) Format() Format { return r.format }

// Next returns the next record, or io.EOF after the last one.
func (r *Reader) Next() (importer.Record, error) { return r.next() }

// Close releases the file (and excelize's temporary files, for XLSX).
func (r *Reader) Close() error {
	if r.close == nil {
		return nil
	}
	c := r.close
	r.close = nil
	return c()
}

func xlsxOptions() excelize.Options {
	return excelize.Options{
		RawCellValue:      true,
		UnzipSizeLimit:    xlsxUnzipSizeLimit,
		UnzipXMLSizeLimit: xlsxUnzipXMLSizeLimit,
	}
}

func sniff(head []byte) Format {
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return XLSX
	}
	head = bytes.TrimPrefix(head, []byte(bom))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) > 0 && head[0] == '{' {
		return JSONL
	}
	return CSV
}

// columnIndex maps each of Columns to its position in header.
func columnIndex(header []string) ([numColumns]int, error) {
	var idx [numColumns]int
	var missing []string
	for i, c := range Columns {
		idx[i] = -1
		for j, h := range header {
			if strings.TrimSpace(h) == c {
				idx[i] = j
				break
			}
		}
		if idx[i] < 0 {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return idx, fmt.Errorf("missing %s: %w", strings.Join(missing, ", "), ErrHeader)
	}
	return idx, nil
}

// recordFromCells builds a record from a row's cells; unescape undoes the
// CSV writer's defusing and its TAB before numbers (nil for XLSX).
func recordFromCells(cells []string, idx *[numColumns]int, unescape func(string) string) (importer.Record, error) {
	get := func(col int) string {
		j := idx[col]
		if j >= len(cells) {
			return ""
		}
		if unescape != nil {
			return unescape(cells[j])
		}
		return cells[j]
	}
	var rec importer.Record
	row, err := strconv.Atoi(get(colRow))
	if err != nil {
		return rec, fmt.Errorf("row %q is not a number: %w", get(colRow), ErrMalformed)
	}
	rec.Row = row
	if b := get(colBatch); b != "" {
		if rec.Batch, err = strconv.Atoi(b); err != nil {
			return rec, fmt.Errorf("batch %q is not a number: %w", b, ErrMalformed)
		}
	}
	rec.Name = get(colName)
	rec.Number = get(colNumber)
	rec.Remark = get(colRemark)
	rec.AgentNumber = get(colAgentNumber)
	rec.Normalized = get(colNormalized)
	rec.Status = importer.Status(get(colStatus))
	rec.Reason = get(colReason)
	rec.RequestID = get(colRequestID)
	return rec, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if c != "" {
			return false
		}
	}
	return true
}

func newCSVReader(r io.Reader) (*Reader, error) {
	p := newCSVParser(r)
	if err := p.skipBOM(); err != nil {
		return nil, fmt.Errorf("read csv report: %w", err)
	}
	var header []string
	for {
		cells, _, err := p.read()
		if err == io.EOF {
			return nil, fmt.Errorf("csv report is empty: %w", ErrHeader)
		}
		if err != nil {
			return nil, fmt.Errorf("read csv report header: %w", err)
		}
		if !blank(cells) {
			header = append([]string(nil), cells...)
			break
		}
	}
	idx, err := columnIndex(header)
	if err != nil {
		return nil, fmt.Errorf("csv report header: %w", err)
	}
	rd := &Reader{format: CSV}
	rd.next = func() (importer.Record, error) {
		for {
			cells, line, err := p.read()
			if err == io.EOF {
				return importer.Record{}, io.EOF
			}
			if err != nil {
				return importer.Record{}, fmt.Errorf("read csv report: %w", err)
			}
			if blank(cells) {
				continue
			}
			rec, err := recordFromCells(cells, &idx, readCSVCell)
			if err != nil {
				return rec, fmt.Errorf("read csv report line %d: %w", line, err)
			}
			return rec, nil
		}
	}
	return rd, nil
}

func newXLSXReader(xf *excelize.File) (*Reader, error) {
	sheets := xf.GetSheetList()
	if len(sheets) == 0 {
		return nil, fmt.Errorf("xlsx report has no sheet: %w", ErrMalformed)
	}
	rows, err := xf.Rows(sheets[0])
	if err != nil {
		return nil, fmt.Errorf("read xlsx report sheet %q: %w", sheets[0], err)
	}
	closeAll := func() error {
		err := rows.Close()
		if cerr := xf.Close(); err == nil {
			err = cerr
		}
		return err
	}
	line := 0
	nextCells := func() ([]string, error) {
		for rows.Next() {
			line++
			cells, err := rows.Columns()
			if err != nil {
				return nil, fmt.Errorf("read xlsx report row %d: %w", line, err)
			}
			if !blank(cells) {
				return cells, nil
			}
		}
		if err := rows.Error(); err != nil {
			return nil, fmt.Errorf("read xlsx report: %w", err)
		}
		return nil, io.EOF
	}
	header, err := nextCells()
	if err == io.EOF {
		closeAll()
		return nil, fmt.Errorf("xlsx report is empty: %w", ErrHeader)
	}
	if err != nil {
		closeAll()
		return nil, err
	}
	idx, err := columnIndex(header)
	if err != nil {
		closeAll()
		return nil, fmt.Errorf("xlsx report header: %w", err)
	}
	rd := &Reader{format: XLSX, close: closeAll}
	rd.next = func() (importer.Record, error) {
		cells, err := nextCells()
		if err != nil {
			return importer.Record{}, err
		}
		rec, err := recordFromCells(cells, &idx, nil)
		if err != nil {
			return rec, fmt.Errorf("read xlsx report row %d: %w", line, err)
		}
		return rec, nil
	}
	return rd, nil
}

// jsonRecord is one JSONL report line. Pointers tell a missing key from a
// zero value; batch may be a number or null.
type jsonRecord struct {
	Row         *int    `json:"row"`
	Name        string  `json:"name"`
	Number      string  `json:"number"`
	Remark      string  `json:"remark"`
	AgentNumber string  `json:"agent_number"`
	Normalized  string  `json:"normalized_number"`
	Status      *string `json:"status"`
	Reason      string  `json:"reason"`
	Batch       *int    `json:"batch"`
	RequestID   string  `json:"request_id"`
}

func newJSONLReader(r io.Reader) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line := 0
	// nextLine returns the next non-blank line and its number.
	nextLine := func() ([]byte, error) {
		for {
			b, err := br.ReadBytes('\n')
			if err != nil && err != io.EOF {
				return nil, fmt.Errorf("read jsonl report: %w", err)
			}
			if len(b) == 0 && err == io.EOF {
				return nil, io.EOF
			}
			line++
			if line == 1 {
				b = bytes.TrimPrefix(b, []byte(bom))
			}
			if len(bytes.TrimSpace(b)) > 0 {
				return b, nil
			}
		}
	}
	// The first object plays the header's part: all Columns must be there.
	// A JSONL report of no rows is an empty file: that is not an error.
	pending, err := nextLine()
	if err == io.EOF {
		return &Reader{format: JSONL, next: func() (importer.Record, error) { return importer.Record{}, io.EOF }}, nil
	}
	if err != nil {
		return nil, err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(pending, &keys); err != nil {
		return nil, fmt.Errorf("read jsonl report line %d: %v: %w", line, err, ErrMalformed)
	}
	var missing []string
	for _, c := range Columns {
		if _, ok := keys[c]; !ok {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("jsonl report line %d: missing %s: %w", line, strings.Join(missing, ", "), ErrHeader)
	}
	rd := &Reader{format: JSONL}
	rd.next = func() (importer.Record, error) {
		b := pending
		pending = nil
		if b == nil {
			var err error
			if b, err = nextLine(); err != nil {
				return importer.Record{}, err
			}
		}
		var jr jsonRecord
		if err := json.Unmarshal(b, &jr); err != nil {
			return importer.Record{}, fmt.Errorf("read jsonl report line %d: %v: %w", line, err, ErrMalformed)
		}
		if jr.Row == nil || jr.Status == nil {
			return importer.Record{}, fmt.Errorf("read jsonl report line %d: no row or status: %w", line, ErrMalformed)
		}
		rec := importer.Record{
			Row: *jr.Row, Name: jr.Name, Number: jr.Number, Remark: jr.Remark,
			AgentNumber: jr.AgentNumber, Normalized: jr.Normalized,
			Status: importer.Status(*jr.Status), Reason: jr.Reason, RequestID: jr.RequestID,
		}
		if jr.Batch != nil {
			rec.Batch = *jr.Batch
		}
		return rec, nil
	}
	return rd, nil
}
