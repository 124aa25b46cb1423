package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Options tune how Open reads a file. The zero value reads the first
// visible sheet or an auto-detected text encoding, maps columns by header
// synonyms, and normalizes strictly for region CN.
type Options struct {
	// Sheet is the XLSX sheet to read; "" means the first visible sheet.
	Sheet string
	// Encoding of a text file: "" (auto-detect), utf-8, gbk, gb18030,
	// utf-16 (also utf-16le, utf-16be).
	Encoding string
	// Map overrides the header synonyms: field -> header text (or a 1-based
	// column number).
	Map map[Field]string
	// NoHeader reads every row as data, positionally as name, number,
	// remark, agentNumber.
	NoHeader bool
	// Region for numbers written without a country code; "" means CN.
	Region string
	// Policy decides which numbers are valid.
	Policy Policy
	// KeepRepeats keeps every valid row even when its number equals an
	// earlier valid row's (dedupe rule 2); otherwise such a row is a
	// Duplicate (api.Rule.DedupesInFile decides).
	KeepRepeats bool
	// TempDir is where temporary files may go ("" = os.TempDir()). The
	// reader currently needs none: it streams every part of the file.
	TempDir string
}

// limits bound what one file may make the reader hold or inflate. They are
// fields (not constants) so that tests can lower them.
type limits struct {
	maxLine       int   // bytes of one CSV line
	maxRecord     int   // bytes of one CSV record (quoted line breaks included)
	maxCell       int   // bytes of one XLSX cell's text (Excel: 32,767 characters)
	maxColumns    int   // columns in one row
	maxSheetXML   int64 // inflated bytes of a worksheet part
	maxSharedXML  int64 // inflated bytes of the shared-strings part
	maxSharedText int64 // bytes of text the shared-strings table may hold
	maxSmallPart  int64 // inflated bytes of workbook.xml and relationship parts
}

var defaultLimits = limits{
	maxLine:       1 << 20,
	maxRecord:     4 << 20,
	maxCell:       32767 * 4,
	maxColumns:    16384,
	maxSheetXML:   4 << 30,
	maxSharedXML:  1 << 30,
	maxSharedText: 256 << 20,
	maxSmallPart:  64 << 20,
}

// cell is one cell as a source read it. numeric marks an XLSX number cell,
// whose text is its raw stored value.
type cell struct {
	text    string
	numeric bool
	// joined marks a CSV cell whose continuation lines look like rows of
	// their own: a stray opening quote has probably swallowed them.
	joined bool
}

// rowSource yields a file's rows in order. The cells are valid until the
// next call.
type rowSource interface {
	next() (row int, cells []cell, err error)
	close() error
}

// Reader streams a lead file's rows as Records. A goroutine reads ahead
// and normalizes; Close stops it and must be called. A Reader is not safe
// for concurrent use.
type Reader struct {
	path   string
	src    rowSource   // until the header is read
	pf     *prefetcher // after
	header []string
	cols   columnMap
	norm   *Normalizer
	dedupe bool
	seen   map[uint64]int32
	seenS  map[string]int32 // numbers too long for a uint64 key
	err    error            // sticky
	rows   int              // data rows returned
}

// Open opens a lead file, detects its format from the extension (.csv,
// .txt, .tsv; .xlsx, .xlsm), reads its header and maps its columns. Errors
// name the file; a file without a number column is refused with
// ErrNoNumberColumn, an unknown format with ErrUnsupportedFormat.
func Open(ctx context.Context, path string, opts Options) (*Reader, error) {
	return openWithLimits(ctx, path, opts, defaultLimits)
}

func openWithLimits(ctx context.Context, path string, opts Options, lim limits) (*Reader, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	norm, err := NewNormalizer(opts.Region, opts.Policy)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var src rowSource
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv", ".txt", ".tsv":
		src, err = openText(path, ext == ".tsv", opts.Encoding, lim)
	case ".xlsx", ".xlsm":
		src, err = openXLSX(path, opts.Sheet, lim)
	case ".xls", ".et":
		return nil, fmt.Errorf("read %s: %w: %s is the Excel 97-2003 binary format; open it in Excel or WPS and save as .xlsx or .csv (UTF-8)", path, ErrUnsupportedFormat, ext)
	default:
		return nil, fmt.Errorf("read %s: %w %q: save the file as .xlsx or .csv", path, ErrUnsupportedFormat, ext)
	}
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path, src: src, norm: norm, dedupe: !opts.KeepRepeats}
	if r.dedupe {
		// Size the set for the rows the file likely holds (about 30 bytes
		// a row), so that it does not rehash while growing.
		hint := 0
		if fi, err := os.Stat(path); err == nil {
			hint = int(min(fi.Size()/30, 1<<21))
		}
		r.seen = make(map[uint64]int32, hint)
	}
	if err := r.readHeader(opts); err != nil {
		src.close()
		return nil, err
	}
	r.pf = newPrefetcher(ctx, src, r.judge)
	return r, nil
}

// readHeader takes the first non-blank row as the header (unless NoHeader)
// and maps the columns.
func (r *Reader) readHeader(opts Options) error {
	if opts.NoHeader {
		cm, err := mapColumns(nil, opts.Map)
		if err != nil {
			return fmt.Errorf("read %s: %w", r.path, err)
		}
		r.cols = cm
		if cm.idx[1] < 0 {
			return noNumberColumn(r.path, nil, cm)
		}
		return nil
	}
	for {
		_, cells, err := r.src.next()
		if err == io.EOF {
			return fmt.Errorf("read %s: %w: no header row", r.path, ErrEmptyFile)
		}
		if err != nil {
			return r.wrap(err)
		}
		if blank(cells) {
			continue
		}
		r.header = make([]string, len(cells))
		for i, c := range cells {
			r.header[i] = strings.Clone(trimCell(c.text))
		}
		break
	}
	cm, err := mapColumns(r.header, opts.Map)
	if err != nil {
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	r.cols = cm
	if cm.idx[1] < 0 {
		return noNumberColumn(r.path, r.header, cm)
	}
	return nil
}

// wrap names the file in a reading error. A *RowError already starts with
// "row N", so the message reads "read FILE row N: ...".
func (r *Reader) wrap(err error) error {
	var re *RowError
	if errors.As(err, &re) {
		return fmt.Errorf("read %s %w", r.path, err)
	}
	return fmt.Errorf("read %s: %w", r.path, err)
}

// Header returns the header row's cells, trimmed (nil with NoHeader).
func (r *Reader) Header() []string { return r.header }

// Columns tells where each mapped field comes from: its header text or
// "column N". The import journal keeps it as part of the run's identity.
func (r *Reader) Columns() map[Field]string {
	m := make(map[Field]string, len(r.cols.source))
	for k, v := range r.cols.source {
		m[k] = v
	}
	return m
}

// Close stops the read-ahead goroutine and releases the file. It may be
// called more than once.
func (r *Reader) Close() error { return r.pf.close() }

func blank(cells []cell) bool {
	for _, c := range cells {
		if c.text != "" && trimCell(c.text) != "" {
			return false
		}
	}
	return true
}

// Next returns the next non-blank row with its outcome so far (Valid,
// Invalid or Duplicate, and a Reason), or io.EOF after the last row. A file
// with a header but no data row ends in ErrEmptyFile instead of io.EOF. Any
// other error names the file (and the row where there is one) and ends the
// reading.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	for {
		v, err := r.pf.next()
		if err != nil {
			if err != io.EOF {
				err = r.wrap(err)
			} else if r.rows == 0 {
				// A header and nothing else is refused like an empty file:
				// an import of no rows is always a mistake.
				err = fmt.Errorf("read %s: %w: no data rows", r.path, ErrEmptyFile)
			}
			r.err = err
			return Record{}, err
		}
		if v.num.blank {
			continue
		}
		r.rows++
		return r.record(v), nil
	}
}

func (r *Reader) cellAt(cells []cell, f int) cell {
	i := r.cols.idx[f]
	if i < 0 || i >= len(cells) {
		return cell{}
	}
	return cells[i]
}

// text is a non-number field's value: trimmed text, a numeric cell's
// integer digits when it is whole.
func fieldText(c cell) string {
	if c.numeric {
		if d, ok := numericDigits(c.text); ok {
			return d
		}
		return trimCell(c.text)
	}
	return trimCell(c.text)
}

// judge runs on the prefetcher's judging goroutine: it tells blank rows and normalizes
// the number cell.
func (r *Reader) judge(cells []cell) numResult {
	if blank(cells) {
		return numResult{blank: true}
	}
	for _, c := range cells {
		if c.joined {
			// Never send a row built from several: its number may be
			// another row's. The reason says what to fix.
			return numResult{err: ErrJoinedRows}
		}
	}
	num := r.cellAt(cells, 1)
	var res numResult
	if num.numeric {
		res.norm, res.err = r.norm.NormalizeNumeric(num.text)
	} else {
		res.norm, res.err = r.norm.Normalize(num.text)
	}
	return res
}

func (r *Reader) record(v rowView) Record {
	cells, row := v.cells, v.row
	rec := Record{
		Row:         row,
		Name:        fieldText(r.cellAt(cells, 0)),
		Number:      r.cellAt(cells, 1).text,
		Remark:      fieldText(r.cellAt(cells, 2)),
		AgentNumber: fieldText(r.cellAt(cells, 3)),
	}
	if v.num.err != nil {
		rec.Status, rec.Reason = Invalid, v.num.err.Error()
		return rec
	}
	norm := v.num.norm
	rec.Normalized, rec.Status = norm, Valid
	if r.dedupe {
		if first, dup := r.firstRow(norm, row); dup {
			rec.Status, rec.Reason = Duplicate, "duplicate of row "+strconv.Itoa(first)
		}
	}
	return rec
}

// firstRow records row as the first with number n, or returns the earlier
// row. Numbers are held as integers: the digits after a marker digit (1, or
// 2 for a leading '+'), so that leading zeros count.
func (r *Reader) firstRow(n string, row int) (int, bool) {
	if key, ok := dedupeKey(n); ok {
		if first, dup := r.seen[key]; dup {
			return int(first), true
		}
		r.seen[key] = int32(row)
		return 0, false
	}
	if r.seenS == nil {
		r.seenS = map[string]int32{}
	}
	if first, dup := r.seenS[n]; dup {
		return int(first), true
	}
	r.seenS[strings.Clone(n)] = int32(row)
	return 0, false
}

func dedupeKey(n string) (uint64, bool) {
	key := uint64(1)
	if strings.HasPrefix(n, "+") {
		key, n = 2, n[1:]
	}
	if len(n) == 0 || len(n) > 18 {
		return 0, false
	}
	for i := 0; i < len(n); i++ {
		c := n[i] - '0'
		if c > 9 {
			return 0, false
		}
		key = key*10 + uint64(c)
	}
	return key, true
}
