// Package reports writes one outcome per input row to a results report (CSV,
// XLSX or JSONL), streaming and in input order, and reads such reports back
// (for rollback). It also writes the attention file (CreateAttention): the
// rows that need attention in the input's own columns, to fix and import
// again.
//
// The columns are fixed (see Columns). Decisions a reader of a report should
// know:
//   - batch is an empty cell (CSV, XLSX) when the row was never sent
//     (Record.Batch == 0); JSONL writes 0, which reads back the same.
//   - CSV starts with a UTF-8 BOM so Excel and WPS show Chinese correctly,
//     writes digits-only numbers with a leading TAB so spreadsheets keep them
//     as text (all digits, leading zeros), and defuses cells that a
//     spreadsheet would run as formulas with an apostrophe, never twice (see
//     CSVWriter). Reader drops that TAB and apostrophe.
//   - XLSX cells are all text (inline strings): a phone number keeps its
//     leading zeros and is never turned into 1.38E+10. A typed text cell is
//     never run as a formula, so XLSX (and JSONL) cells are not neutralized.
//     The sheet has no <dimension> (see XLSXWriter).
//   - A report is written to its path atomically (Create, File.Commit), with
//     the mode 0644 filtered by the umask; Create checks the path before
//     anything is sent.
//   - Nothing here checks Status: any string (imported, deleted, ...) is
//     written and read as is, so other commands reuse these writers.
package reports

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/m7import/m7import/importer"
)

// Columns are the report's columns, exactly and in this order (issue 5).
var Columns = []string{
	"row", "name", "number", "remark", "agent_number",
	"normalized_number", "status", "reason", "batch", "request_id",
}

// Column indexes into Columns, used by the writers and readers.
const (
	colRow = iota
	colName
	colNumber
	colRemark
	colAgentNumber
	colNormalized
	colStatus
	colReason
	colBatch
	colRequestID
	numColumns
)

// Format is a report file format.
type Format string

// The report formats.
const (
	CSV   Format = "csv"
	XLSX  Format = "xlsx"
	JSONL Format = "jsonl"
)

// ErrUnknownFormat is returned for a format name or file extension that is
// not one of the report formats.
var ErrUnknownFormat = errors.New("unknown report format (want csv, xlsx or jsonl)")

// ParseFormat parses a format name as given to --report-format ("csv",
// "xlsx", "jsonl"; case-insensitive, surrounding space ignored).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "csv":
		return CSV, nil
	case "xlsx":
		return XLSX, nil
	case "jsonl":
		return JSONL, nil
	}
	return "", fmt.Errorf("report format %q: %w", s, ErrUnknownFormat)
}

// FormatFromPath returns the format a report path's extension names
// (.csv, .xlsx, .jsonl; case-insensitive). Any other extension is an error
// wrapping ErrUnknownFormat.
func FormatFromPath(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv":
		return CSV, nil
	case ".xlsx":
		return XLSX, nil
	case ".jsonl":
		return JSONL, nil
	}
	return "", fmt.Errorf("report %s: extension %q: %w", path, ext, ErrUnknownFormat)
}

// Writer writes a report one row at a time. Close finishes the report
// (flushes, writes trailers); it does not close the io.Writer a writer was
// made with. A Writer is not safe for concurrent use.
type Writer interface {
	Write(importer.Record) error
	Close() error
}

// Options are the choices a writer of any format takes. The zero value
// writes records as they are.
type Options struct {
	// Translate, when set, rewrites each record's Reason on the way out:
	// i18n.Reasons(lang) writes reasons in the user's language. Statuses
	// are never translated (scripts rely on them), and nothing else in the
	// record is touched.
	Translate func(string) string
}

// NewWriter returns a writer of format f over w.
func NewWriter(w io.Writer, f Format) (Writer, error) {
	return NewWriterWith(w, f, Options{})
}

// NewWriterWith returns a writer of format f over w that applies o.
func NewWriterWith(w io.Writer, f Format, o Options) (Writer, error) {
	wr, err := newWriter(w, f)
	if err != nil || o.Translate == nil {
		return wr, err
	}
	return &translating{w: wr, tr: o.Translate}, nil
}

// translating rewrites each record's reason before its writer sees it.
type translating struct {
	w  Writer
	tr func(string) string
}

func (t *translating) Write(r importer.Record) error {
	if r.Reason != "" {
		r.Reason = t.tr(r.Reason)
	}
	return t.w.Write(r)
}

func (t *translating) Close() error { return t.w.Close() }

func newWriter(w io.Writer, f Format) (Writer, error) {
	switch f {
	case CSV:
		return NewCSVWriter(w), nil
	case JSONL:
		return NewJSONLWriter(w), nil
	case XLSX:
		return NewXLSXWriter(w)
	}
	return nil, fmt.Errorf("report format %q: %w", f, ErrUnknownFormat)
}

// errClosed is returned by Write after Close.
var errClosed = errors.New("report writer already closed")
