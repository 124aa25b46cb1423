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
	// Sheet is the XLSX sheet to read; "" means the first visible sheet
	// with a number column.
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
	// Opened, when set, is called each time the file is opened: the count
	// of passes over the input that tests and audits check.
	Opened func(path string)
	// KeepRepeats keeps every valid row even when its number equals an
	// earlier valid row's (dedupe rule 2); otherwise such a row is a
	// Duplicate (api.Rule.DedupesInFile decides).
	KeepRepeats bool
	// TempDir is where temporary files may go ("" = os.TempDir()). The
	// reader currently needs none: it streams every part of the file.
	TempDir string
	// HeaderRow is the 1-based row that holds the header. 0 finds it: the
	// first of the first 20 non-blank rows with a recognisable number
	// column, so that title, note and export-time rows above the header
	// are skipped (and said so in Notes). Ignored with NoHeader.
	HeaderRow int
	// KeepCells makes every Record carry its row's cells as read
	// (Record.Cells), for the attention file, which repeats the input's
	// own columns. Off, the reader allocates nothing for them.
	KeepCells bool
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
// next call. digest is the SHA-256 of the file's bytes once next returned
// io.EOF.
type rowSource interface {
	next() (row int, cells []cell, err error)
	close() error
	digest() (string, error)
}

// unprotect undoes how m7import's own reports and attention files protect
// a cell, so that a file of ours read back gives the cell itself: a
// formula-defusing apostrophe before = + - @ TAB CR LF, and the tab before
// a run of digits that keeps spreadsheets from dropping a leading zero
// (see ../shared/spec/NOTES.md, "numbers in the CSV report"). It looks at
// one byte for nearly every cell and never allocates.
func unprotect(s string) string {
	if len(s) < 2 {
		return s
	}
	switch s[0] {
	case '\'':
		switch s[1] {
		case '=', '+', '-', '@', '\t', '\r', '\n':
			return s[1:]
		}
	case '\t':
		if allDigits(s[1:]) {
			return s[1:]
		}
	}
	return s
}

// Reader streams a lead file's rows as Records. A goroutine reads ahead
// and normalizes; Close stops it and must be called. A Reader is not safe
// for concurrent use.
type Reader struct {
	path      string
	in        *inputFile
	src       rowSource   // until the header is read
	xlsx      *xlsxSource // the same source, for a workbook
	pf        *prefetcher // after
	header    []string
	headerRow int
	cols      columnMap
	// fallback are the other phone columns (座机, 电话2), in order, whose
	// value stands in for an empty number cell; fallbackReason[i] says so.
	fallback       []int
	fallbackReason []string
	attention      bool
	attCols        int // columns before an attention file's row, status, reason
	keepCells      bool
	notes          []string
	ignored        []string
	norm           *Normalizer
	dedupe         bool
	seen           map[uint64]int32
	seenS          map[string]int32 // numbers too long for a uint64 key
	err            error            // sticky
	rows           int              // data rows returned
	sum            string           // SHA-256, once read to the end
}

// Open opens a lead file, detects its format from the extension (.csv,
// .txt, .tsv; .xlsx, .xlsm), finds its header row (and, in a workbook, the
// sheet) and maps its columns. Errors name the file; a file without a
// number column is refused with ErrNoNumberColumn, an unknown format with
// ErrUnsupportedFormat, a folder, named pipe or device with
// ErrNotRegularFile. The file is opened once: its bytes are parsed and
// hashed (see SHA256) through one handle, and Next checks at the end that
// the file did not change meanwhile (ErrFileChanged).
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
	if opts.HeaderRow < 0 {
		return nil, fmt.Errorf("read %s: %w: header row %d (want 1 or more, or 0 to find it)", path, ErrBadOption, opts.HeaderRow)
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv", ".txt", ".tsv", ".xlsx", ".xlsm":
	case ".xls", ".et":
		return nil, fmt.Errorf("read %s: %w: %s is the Excel 97-2003 binary format; open it in Excel or WPS and save as .xlsx or .csv (UTF-8)", path, ErrUnsupportedFormat, ext)
	default:
		if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
			return nil, regularFile(path, fi)
		}
		return nil, fmt.Errorf("read %s: %w %q: save the file as .xlsx or .csv", path, ErrUnsupportedFormat, ext)
	}
	in, err := openInput(path)
	if err == nil && opts.Opened != nil {
		opts.Opened(path)
	}
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path, in: in, norm: norm, dedupe: !opts.KeepRepeats, keepCells: opts.KeepCells}
	if ext == ".xlsx" || ext == ".xlsm" {
		r.xlsx, err = openXLSX(in, opts.Sheet, lim)
		if err == nil {
			r.src = r.xlsx
		}
	} else {
		r.src, err = openText(in, ext == ".tsv", opts.Encoding, lim)
	}
	if err != nil {
		in.close()
		return nil, err
	}
	if r.dedupe {
		// Size the set for the rows the file likely holds (about 30 bytes
		// a row), so that it does not rehash while growing.
		r.seen = make(map[uint64]int32, int(min(in.fi.Size()/30, 1<<21)))
	}
	if err := r.readHeader(opts); err != nil {
		r.src.close()
		in.close()
		return nil, err
	}
	r.pf = newPrefetcher(ctx, r.src, r.judge)
	return r, nil
}

// readHeader finds the header row (unless NoHeader), in a workbook read
// without Options.Sheet the sheet too, and maps the columns.
func (r *Reader) readHeader(opts Options) error {
	if opts.NoHeader {
		cm, err := mapColumns(nil, opts.Map)
		if err != nil {
			return fmt.Errorf("read %s: %w", r.path, err)
		}
		r.cols = cm
		if cm.idx[1] < 0 {
			return noNumberColumn(r.path, "", nil, cm)
		}
		return nil
	}
	sc, err := scanHeader(r.src, opts)
	if err != nil {
		return r.wrapSheet(err)
	}
	if !sc.found && r.xlsx != nil && opts.Sheet == "" {
		if sc, err = r.chooseSheet(opts, sc); err != nil {
			return err
		}
	}
	if !sc.found {
		return r.headerError(opts, sc)
	}
	if x := r.xlsx; x != nil && opts.Sheet == "" && len(x.sheets) > 1 && len(r.notes) == 0 {
		r.notes = append(r.notes, fmt.Sprintf("sheet %q read: the first visible sheet (sheets: %s)", x.sheet, quoteList(x.sheetNames())))
	}
	r.useHeader(opts, sc)
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

// wrapSheet is wrap, naming the sheet of a workbook with several.
func (r *Reader) wrapSheet(err error) error {
	if r.xlsx != nil && len(r.xlsx.sheets) > 1 {
		return fmt.Errorf("read %s sheet %q: %w", r.path, r.xlsx.sheet, err)
	}
	return r.wrap(err)
}

// Header returns the header row's cells, trimmed (nil with NoHeader). For
// an attention file (see IsAttention) the row, status and reason columns
// are left out: the header is the original input's.
func (r *Reader) Header() []string { return r.header }

// HeaderRow is the row number of the header row (0 with NoHeader).
func (r *Reader) HeaderRow() int { return r.headerRow }

// Columns tells where each mapped field comes from: its header text or
// "column N". The import journal keeps it as part of the run's identity.
func (r *Reader) Columns() map[Field]string {
	m := make(map[Field]string, len(r.cols.source))
	for k, v := range r.cols.source {
		m[k] = v
	}
	return m
}

// Match says which column feeds a field.
type Match struct {
	// Field is the field fed.
	Field Field
	// Header is the column's header cell ("column N" when it has none or
	// the file has no header row); "" when no column feeds the field.
	Header string
	// Column is the column's 0-based index; -1 when no column feeds it.
	Column int
}

// Mapping lists every field, in the order name, number, remark,
// agentNumber, with the column that feeds it: what a person should see
// before anything is sent.
func (r *Reader) Mapping() []Match {
	m := make([]Match, len(fields))
	for i, f := range fields {
		m[i] = Match{Field: f, Header: r.cols.source[f], Column: r.cols.idx[i]}
	}
	return m
}

// Ignored lists the header cells of the columns no field reads (blank
// header cells left out). Phone columns that stand in for an empty number
// cell are not ignored (Notes names them); neither are an attention file's
// row, status and reason columns.
func (r *Reader) Ignored() []string { return r.ignored }

// Notes are sentences about what the reader detected and decided, for a
// person to read before the import: the header row found and the rows
// skipped above it, the sheet chosen, columns with the same header, the
// columns an empty number cell falls back to, an attention file.
func (r *Reader) Notes() []string { return r.notes }

// Sheets lists every sheet of a workbook, hidden ones too, in the
// workbook's order (nil for a text file).
func (r *Reader) Sheets() []string {
	if r.xlsx == nil {
		return nil
	}
	return r.xlsx.sheetNames()
}

// Encoding is the text encoding the file was read in (utf-8, utf-16le,
// utf-16be or gb18030, detected or as Options.Encoding forced it); "" for
// a workbook.
func (r *Reader) Encoding() string {
	if t, ok := r.src.(*textSource); ok {
		return t.encoding
	}
	return ""
}

// Sheet is the name of the sheet read ("" for a text file).
func (r *Reader) Sheet() string {
	if r.xlsx == nil {
		return ""
	}
	return r.xlsx.sheet
}

// IsAttention reports a file whose header ends in the columns row, status
// and reason: an attention file m7import wrote, read back after fixing.
// Those columns feed no field; each Record carries them as PriorRow and
// PriorStatus.
func (r *Reader) IsAttention() bool { return r.attention }

// SHA256 is the hex SHA-256 of the file's bytes, computed from the bytes
// this Reader read (no second read). It is known once Next returned
// io.EOF; before that it is an error.
func (r *Reader) SHA256() (string, error) {
	if r.sum == "" {
		return "", fmt.Errorf("read %s: the file's hash is known only once it was read to the end", r.path)
	}
	return r.sum, nil
}

// Close stops the read-ahead goroutine and releases the file. It may be
// called more than once.
func (r *Reader) Close() error {
	err := r.pf.close()
	if r.in != nil {
		r.in.close()
		r.in = nil
	}
	return err
}

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
			r.err = r.finish(err)
			return Record{}, r.err
		}
		if v.num.blank {
			continue
		}
		r.rows++
		return r.record(v), nil
	}
}

// finish turns the error that ended the rows into what Next returns: at
// the end, a check that the file held still and its hash; before it, a
// change to the file explains a parse error better than the error itself.
func (r *Reader) finish(err error) error {
	if err != io.EOF {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			if cerr := r.in.checkUnchanged(); errors.Is(cerr, ErrFileChanged) {
				return cerr
			}
		}
		return r.wrap(err)
	}
	if err := r.in.checkUnchanged(); err != nil {
		return err
	}
	sum, err := r.src.digest()
	if err != nil {
		return fmt.Errorf("read %s: hash: %w", r.path, err)
	}
	r.sum = sum
	if r.rows == 0 {
		// A header and nothing else is refused like an empty file: an
		// import of no rows is always a mistake.
		return fmt.Errorf("read %s: %w: no data rows", r.path, ErrEmptyFile)
	}
	return io.EOF
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

// cellString is a cell as Record.Cells holds it: the text as read, a
// whole-number cell as its digits.
func cellString(c cell) string {
	if c.numeric {
		if d, ok := numericDigits(c.text); ok {
			return d
		}
	}
	return c.text
}

// judge runs on the prefetcher's judging goroutine: it tells blank rows and normalizes
// the number cell (or, when it is empty, the first other phone cell with a
// value).
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
	if len(r.fallback) > 0 && trimCell(num.text) == "" {
		for i, j := range r.fallback {
			if j < len(cells) && trimCell(cells[j].text) != "" {
				num, res.from = cells[j], i+1
				break
			}
		}
	}
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
	if r.attention {
		r.prior(&rec, cells)
	}
	if r.keepCells {
		n := len(cells)
		if r.attention {
			n = min(n, r.attCols)
		}
		rec.Cells = make([]string, n)
		for i := range n {
			rec.Cells[i] = cellString(cells[i])
		}
	}
	from := ""
	if v.num.from > 0 {
		rec.Number = cells[r.fallback[v.num.from-1]].text
		from = r.fallbackReason[v.num.from-1]
	}
	if v.num.err != nil {
		rec.Status, rec.Reason = Invalid, v.num.err.Error()
		if from != "" {
			rec.Reason += "; " + from
		}
		return rec
	}
	norm := v.num.norm
	rec.Normalized, rec.Status, rec.Reason = norm, Valid, from
	if r.dedupe {
		if first, dup := r.firstRow(norm, row); dup {
			rec.Status, rec.Reason = Duplicate, "duplicate of row "+strconv.Itoa(first)
		}
	}
	return rec
}

// prior reads an attention file's row and status columns into rec.
func (r *Reader) prior(rec *Record, cells []cell) {
	if i := r.attCols; i < len(cells) {
		rec.PriorRow, _ = strconv.Atoi(fieldText(cells[i]))
	}
	if i := r.attCols + 1; i < len(cells) {
		rec.PriorStatus = Status(fieldText(cells[i]))
	}
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
