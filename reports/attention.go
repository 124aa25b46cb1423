package reports

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/m7import/m7import/importer"
)

// AttentionColumns are the columns an attention file adds after the input's
// own: the row's number in the input, its status and the reason. An import
// recognises an attention file by these three last columns
// (../shared/spec/NOTES.md, "the attention file and re-importing it").
var AttentionColumns = []string{"row", "status", "reason"}

// NeedsAttention reports whether a row of status s belongs in the attention
// file: invalid, duplicate, failed, unconfirmed and skipped rows.
func NeedsAttention(s importer.Status) bool {
	switch s {
	case importer.Invalid, importer.Duplicate, importer.Failed, importer.Unconfirmed, importer.Skipped:
		return true
	}
	return false
}

// ErrAttentionFormat is returned for an attention file format other than
// CSV and XLSX.
var ErrAttentionFormat = errors.New("attention file format must be csv or xlsx")

// AttentionWriter writes the attention file: just the rows that need
// attention (see NeedsAttention), in the input's own columns, so that staff
// can fix them in Excel or WPS and import the file again. Its columns are
// the input's header cells in the input's order, then AttentionColumns.
// Rows are written in the order given (the input's order).
//
// CSV: a UTF-8 BOM, cells defused like the results report (CSVWriter), and a
// leading TAB before a digits-only cell of the number column and before any
// digits-only cell that a spreadsheet would change (a leading zero, or 11
// digits or more), so that every digit survives opening the file. Reading
// it back (the importer's job) drops that TAB and our apostrophe. XLSX: every
// cell is text; the header row is bold and frozen.
//
// The file is written atomically like File: Create checks the path at
// once, Commit renames the finished file onto it, Abort leaves the path as
// it was, and no temporary file remains after either.
type AttentionWriter struct {
	t            *target
	w            rowWriter
	width        int // input columns
	numberColumn int
	translate    func(string) string // Options.Translate, or nil
	row          []string
	rows         int
	done         bool
	err          error
}

// CreateAttention starts an attention file of format f (CSV or XLSX; see
// FormatFromPath) at path. header is the input's header row; its cells
// name every column kept (a row's cells beyond them are left out, a shorter
// row is padded). numberColumn is the index in header of the number column,
// or -1. A header that already ends with AttentionColumns (the input is an
// attention file) loses those three, so they are not repeated. Path errors
// are a *PathError, as for Create.
func CreateAttention(path string, f Format, header []string, numberColumn int) (*AttentionWriter, error) {
	return CreateAttentionWith(path, f, header, numberColumn, Options{})
}

// CreateAttentionWith is CreateAttention with options: Options.Translate
// rewrites the reason column (the status column stays as it is, so the
// file is recognised and re-imported the same in any language).
func CreateAttentionWith(path string, f Format, header []string, numberColumn int, o Options) (*AttentionWriter, error) {
	if f != CSV && f != XLSX {
		return nil, fmt.Errorf("attention file %s: format %q: %w", path, f, ErrAttentionFormat)
	}
	header = withoutAttentionColumns(header)
	if numberColumn >= len(header) {
		numberColumn = -1
	}
	t, err := createTarget(path, "attention file")
	if err != nil {
		return nil, err
	}
	aw := &AttentionWriter{t: t, width: len(header), numberColumn: numberColumn, translate: o.Translate,
		row: make([]string, len(header)+len(AttentionColumns))}
	if f == CSV {
		aw.w = newCSVRowWriter(t.tmp, numberColumn)
	} else {
		aw.w, err = newXLSXRowWriter(t.tmp)
		if err != nil {
			aw.Abort()
			return nil, t.notWritten("start", err)
		}
	}
	full := append(append(make([]string, 0, len(aw.row)), header...), AttentionColumns...)
	if err := aw.w.writeRow(full, true); err != nil {
		aw.Abort()
		return nil, t.notWritten("write header of", err)
	}
	return aw, nil
}

// withoutAttentionColumns returns header without a trailing copy of
// AttentionColumns.
func withoutAttentionColumns(header []string) []string {
	n := len(header) - len(AttentionColumns)
	if n < 0 {
		return header
	}
	for i, c := range AttentionColumns {
		if strings.TrimSpace(header[n+i]) != c {
			return header
		}
	}
	return header[:n]
}

// Path is the path the attention file is committed to.
func (aw *AttentionWriter) Path() string { return aw.t.path }

// Rows is the number of rows written so far (the header not counted).
func (aw *AttentionWriter) Rows() int { return aw.rows }

// Write writes rec if it needs attention and ignores it otherwise. The
// input's cells come from rec.Cells; a record without them (a reader that
// did not keep them) still gets its number, in the number column. An error
// wraps ErrReportNotWritten.
func (aw *AttentionWriter) Write(rec importer.Record) error {
	if aw.done {
		return errClosed
	}
	if !NeedsAttention(rec.Status) {
		return nil
	}
	row := aw.row
	n := copy(row[:aw.width], rec.Cells)
	clear(row[n:aw.width])
	if rec.Cells == nil && aw.numberColumn >= 0 {
		row[aw.numberColumn] = rec.Number
	}
	row[aw.width] = strconv.Itoa(rec.Row)
	row[aw.width+1] = string(rec.Status)
	row[aw.width+2] = rec.Reason
	if aw.translate != nil && rec.Reason != "" {
		row[aw.width+2] = aw.translate(rec.Reason)
	}
	if err := aw.w.writeRow(row, false); err != nil {
		return aw.t.notWritten(fmt.Sprintf("write row %d to", rec.Row), err)
	}
	aw.rows++
	return nil
}

// Commit finishes the file and atomically replaces path with it. A second
// Commit returns the first one's result. An error wraps ErrReportNotWritten;
// the temporary file is gone either way.
func (aw *AttentionWriter) Commit() error {
	if aw.done {
		return aw.err
	}
	aw.done = true
	if err := aw.w.close(); err != nil {
		aw.t.abort()
		aw.err = aw.t.notWritten("write", err)
		return aw.err
	}
	aw.err = aw.t.commit()
	return aw.err
}

// Abort discards the file: the temporary file is removed and path is left
// as it was. After Commit it does nothing.
func (aw *AttentionWriter) Abort() error {
	if aw.done {
		return nil
	}
	aw.done = true
	aw.err = errAborted
	return aw.t.abort()
}

// rowWriter writes rows of cells of any width: the attention file's
// formats.
type rowWriter interface {
	writeRow(cells []string, header bool) error
	close() error
}

// csvRowWriter writes the attention file's CSV form.
type csvRowWriter struct {
	w            *bufio.Writer
	numberColumn int
	line         []byte
}

func newCSVRowWriter(w io.Writer, numberColumn int) *csvRowWriter {
	cw := &csvRowWriter{w: bufio.NewWriterSize(w, 64<<10), numberColumn: numberColumn}
	cw.w.WriteString(bom) // a failure is sticky in bufio and surfaces later
	return cw
}

// attentionAsText says which digits-only cells of column col of an
// attention file's row are written as text (see AttentionWriter).
func attentionAsText(col, numberColumn int, header bool) func(string) bool {
	if col == numberColumn && !header {
		return numberAsText
	}
	return longDigitsAsText
}

func (cw *csvRowWriter) writeRow(cells []string, header bool) error {
	b := cw.line[:0]
	for i, c := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVCell(b, c, attentionAsText(i, cw.numberColumn, header))
	}
	b = append(b, '\n')
	cw.line = b
	_, err := cw.w.Write(b)
	return err
}

func (cw *csvRowWriter) close() error { return cw.w.Flush() }

// xlsxRowWriter writes the attention file's XLSX form: text cells.
type xlsxRowWriter struct {
	zw   *zip.Writer
	w    *bufio.Writer
	row  int
	line []byte
	num  []byte
}

func newXLSXRowWriter(w io.Writer) (*xlsxRowWriter, error) {
	zw, sw, err := startXLSX(w, "attention", "")
	if err != nil {
		return nil, err
	}
	return &xlsxRowWriter{zw: zw, w: sw}, nil
}

func (xw *xlsxRowWriter) writeRow(cells []string, header bool) error {
	xw.row++
	rn := strconv.AppendInt(xw.num[:0], int64(xw.row), 10)
	xw.num = rn
	b := append(xw.line[:0], `<row r="`...)
	b = append(b, rn...)
	b = append(b, `">`...)
	for i, c := range cells {
		b = appendXLSXCell(b, i, rn, c, header)
	}
	if last := len(cells) - 1; last >= 0 && cells[last] == "" {
		// A valueless last cell, so that readers that size rows by their
		// cells (openpyxl in read-only mode, without <dimension>) see all.
		b = append(b, `<c r="`...)
		b = appendColumnName(b, last)
		b = append(b, rn...)
		b = append(b, `"/>`...)
	}
	b = append(b, `</row>`...)
	xw.line = b
	_, err := xw.w.Write(b)
	return err
}

func (xw *xlsxRowWriter) close() error { return finishXLSX(xw.zw, xw.w) }
