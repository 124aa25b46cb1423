package importer

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// headerSearchRows is how many non-blank rows header detection looks at
// (see ../shared/spec/NOTES.md, "header-row detection").
const headerSearchRows = 20

// headerScan is what the first rows of a sheet (or a text file) showed.
type headerScan struct {
	found     bool
	row       int
	header    []string // trimmed cells of the header row
	cm        columnMap
	attention bool
	skipped   []string // first cells of the non-blank rows above the header
	// sample is the row most like a header when none was found (the first
	// with two or more cells), for the refusal.
	sample    []string
	sampleRow int
	sampleCM  columnMap
	mapErr    error // an override naming no cell of sample
	empty     bool  // no non-blank row at all
}

// scanHeader reads rows from src until the header: the row
// opts.HeaderRow, or else the first of the first headerSearchRows
// non-blank rows with a recognisable number column (a header cell that is a
// number synonym, see headerKey; or the column opts.Map names). The rows
// after it are left for the data.
func scanHeader(src rowSource, opts Options) (headerScan, error) {
	sc := headerScan{empty: true}
	seen := 0
	for {
		row, cells, err := src.next()
		if err == io.EOF {
			return sc, nil
		}
		if err != nil {
			return sc, err
		}
		if opts.HeaderRow > 0 && row > opts.HeaderRow {
			return sc, nil
		}
		if blank(cells) {
			continue
		}
		sc.empty = false
		seen++
		header := make([]string, len(cells))
		for i, c := range cells {
			header[i] = strings.Clone(trimCell(c.text))
		}
		if opts.HeaderRow == 0 || row == opts.HeaderRow {
			names, att := splitAttention(header)
			cm, err := mapColumns(names, opts.Map)
			if err == nil && cm.idx[1] >= 0 {
				sc.found, sc.row, sc.header, sc.cm, sc.attention = true, row, names, cm, att
				return sc, nil
			}
			if sc.sample == nil || filled(header) >= 2 && filled(sc.sample) < 2 {
				sc.sample, sc.sampleRow, sc.sampleCM, sc.mapErr = names, row, cm, err
			}
			if opts.HeaderRow > 0 {
				return sc, nil
			}
		}
		sc.skipped = append(sc.skipped, firstCell(header))
		if opts.HeaderRow == 0 && seen >= headerSearchRows {
			return sc, nil
		}
	}
}

// splitAttention recognises an attention file's header: the input's own
// header cells, then row, status and reason. It returns the cells before
// those three.
func splitAttention(header []string) ([]string, bool) {
	n := len(header)
	for n > 0 && header[n-1] == "" {
		n--
	}
	if n >= 4 && header[n-3] == "row" && header[n-2] == "status" && header[n-1] == "reason" {
		return header[:n-3], true
	}
	return header, false
}

func filled(cells []string) int {
	n := 0
	for _, c := range cells {
		if c != "" {
			n++
		}
	}
	return n
}

// firstCell is a row's first non-empty cell, shortened for a message.
func firstCell(cells []string) string {
	for _, c := range cells {
		if c != "" {
			return shorten(c, 40)
		}
	}
	return ""
}

func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// chooseSheet looks for the header in the visible sheets after the first
// (whose scan is first), and reads the first that has one. When none has,
// the refusal lists every sheet with its first cells.
func (r *Reader) chooseSheet(opts Options, first headerScan) (headerScan, error) {
	x := r.xlsx
	start := x.cur
	scans := make([]*headerScan, len(x.sheets))
	scans[start] = &first
	for i := start + 1; i < len(x.sheets); i++ {
		if x.sheets[i].hidden {
			continue
		}
		sc, err := r.scanSheet(i, opts)
		if err != nil {
			return sc, err
		}
		if sc.found {
			r.notes = append(r.notes, fmt.Sprintf("sheet %q read: it is the first visible sheet with a number column (%s before it %s none)",
				x.sheets[i].name, quoteList(sheetsBetween(x, start, i)), hasHave(start, i, x)))
			return sc, nil
		}
		scans[i] = &sc
	}
	if first.mapErr != nil {
		return first, fmt.Errorf("read %s sheet %q: %w", r.path, x.sheets[start].name, first.mapErr)
	}
	allEmpty := true
	for _, sc := range scans {
		allEmpty = allEmpty && (sc == nil || sc.empty)
	}
	if allEmpty {
		return first, fmt.Errorf("read %s: %w: no header row in any visible sheet", r.path, ErrEmptyFile)
	}
	// None: look at the hidden sheets too, so that the refusal can list
	// every sheet.
	for i := range x.sheets {
		if scans[i] != nil {
			continue
		}
		sc, err := r.scanSheet(i, opts)
		if err != nil {
			sc = headerScan{empty: true}
		}
		scans[i] = &sc
	}
	return first, r.noSheetError(scans)
}

func sheetsBetween(x *xlsxSource, start, end int) []string {
	var names []string
	for i := start; i < end; i++ {
		if !x.sheets[i].hidden {
			names = append(names, x.sheets[i].name)
		}
	}
	return names
}

func hasHave(start, end int, x *xlsxSource) string {
	if len(sheetsBetween(x, start, end)) == 1 {
		return "has"
	}
	return "have"
}

func (r *Reader) scanSheet(i int, opts Options) (headerScan, error) {
	if err := r.xlsx.useSheet(i); err != nil {
		return headerScan{}, fmt.Errorf("read %s: %w", r.path, err)
	}
	sc, err := scanHeader(r.xlsx, opts)
	if err != nil {
		return sc, r.wrapSheet(err)
	}
	return sc, nil
}

// noSheetError refuses a workbook none of whose visible sheets has a number
// column, listing each sheet with its first header cells and a hint.
func (r *Reader) noSheetError(scans []*headerScan) error {
	x := r.xlsx
	var list []string
	hint := ""
	for i, sh := range x.sheets {
		sc := scans[i]
		desc := strconv.Quote(sh.name)
		if sh.hidden {
			desc += " (hidden)"
		}
		switch {
		case sc.found:
			desc += ": has a number column (" + strconv.Quote(sc.cm.source[FieldNumber]) + ")"
			if hint == "" {
				hint = "--sheet " + ShellQuote(sh.name)
			}
		case sc.empty || sc.sample == nil:
			desc += ": empty"
		default:
			cells := sc.sample
			if len(cells) > 6 {
				cells = cells[:6]
			}
			desc += ": " + quoteList(cells)
			if len(sc.sample) > 6 {
				desc += ", …"
			}
		}
		list = append(list, desc)
	}
	if hint == "" {
		for i, sh := range x.sheets {
			if sc := scans[i]; !sh.hidden && sc.sample != nil {
				if h, phone := mapHint(sc.sample, sc.sampleCM); phone || hint == "" {
					hint = "--sheet " + ShellQuote(sh.name) + " " + h
					if phone {
						break
					}
				}
			}
		}
	}
	if hint == "" {
		hint = "--sheet NAME --map number=COLUMN"
	}
	return fmt.Errorf("read %s: %w in any sheet: sheets %s; try %s", r.path, ErrNoNumberColumn, strings.Join(list, "; "), hint)
}

// headerError refuses a file (or the one sheet asked for) in whose first
// rows no header with a number column was found.
func (r *Reader) headerError(opts Options, sc headerScan) error {
	path := r.path
	if r.xlsx != nil && len(r.xlsx.sheets) > 1 {
		path = fmt.Sprintf("%s sheet %q", r.path, r.xlsx.sheet)
	}
	switch {
	case sc.empty:
		return fmt.Errorf("read %s: %w: no header row", path, ErrEmptyFile)
	case opts.HeaderRow > 0 && sc.sample == nil:
		return fmt.Errorf("read %s: %w: row %d (the header row asked for) is empty or beyond the end", path, ErrNoNumberColumn, opts.HeaderRow)
	case sc.mapErr != nil:
		return fmt.Errorf("read %s: %w", path, sc.mapErr)
	}
	where := ""
	switch {
	case opts.HeaderRow > 0:
		where = fmt.Sprintf(" on row %d (the header row asked for)", sc.sampleRow)
	case sc.sampleRow != 1:
		where = fmt.Sprintf(" on row %d", sc.sampleRow)
	}
	return noNumberColumn(path, where, sc.sample, sc.sampleCM)
}

// useHeader adopts the header found: the mapping, the phone columns that
// stand in for an empty number cell, the ignored columns and the notes.
func (r *Reader) useHeader(opts Options, sc headerScan) {
	names := sc.header
	r.header, r.headerRow, r.cols = names, sc.row, sc.cm
	r.attention, r.attCols = sc.attention, len(names)
	if len(sc.skipped) > 0 {
		how := "found"
		if opts.HeaderRow > 0 {
			how = "on row " + strconv.Itoa(opts.HeaderRow) + " as asked"
		}
		q := make([]string, len(sc.skipped))
		for i, s := range sc.skipped {
			q[i] = strconv.Quote(s)
		}
		if len(q) > 5 {
			q = append(q[:5], fmt.Sprintf("… (%d more)", len(sc.skipped)-5))
		}
		r.notes = append(r.notes, fmt.Sprintf("header %s on row %d; rows above it skipped: %s", how, sc.row, strings.Join(q, ", ")))
	}
	folded := make([]string, len(names))
	count := make(map[string]int, len(names))
	for i, h := range names {
		folded[i] = foldHeader(h)
		count[folded[i]]++
	}
	label := func(i int) string {
		l := headerLabel(names, i)
		if names[i] != "" && count[folded[i]] > 1 {
			l += " (" + columnLetters(i) + ")"
		}
		return l
	}
	// A second column headed like a mapped one is read by nobody: say so.
	for _, col := range r.cols.idx {
		if col < 0 || col >= len(names) || names[col] == "" || count[folded[col]] == 1 {
			continue
		}
		for j := col + 1; j < len(names); j++ {
			if !r.cols.mapped(j) && folded[j] == folded[col] {
				r.notes = append(r.notes, fmt.Sprintf("columns %s and %s are both headed %q: using %s",
					columnLetters(col), columnLetters(j), names[col], columnLetters(col)))
			}
		}
	}
	num := r.cols.idx[1]
	var others []string
	for j, h := range names {
		switch {
		case r.cols.mapped(j) || h == "":
		case num >= 0 && isPhoneKey(headerKey(h)):
			r.fallback = append(r.fallback, j)
			r.fallbackReason = append(r.fallbackReason,
				fmt.Sprintf("number from column %s (%s was empty)", label(j), label(num)))
			others = append(others, label(j))
		default:
			r.ignored = append(r.ignored, h)
		}
	}
	if len(others) > 5 {
		others = append(others[:5], fmt.Sprintf("%d more", len(others)-5))
	}
	if len(others) > 0 {
		r.notes = append(r.notes, fmt.Sprintf("where %s is empty, the number is taken from %s (the first with a value)", label(num), strings.Join(others, ", then ")))
	}
	if r.attention {
		r.notes = append(r.notes, "an attention file: its row, status and reason columns are read as the earlier run's row and status, not as data")
	}
}

// columnLetters is a 0-based column's spreadsheet letters (0 → A).
func columnLetters(col int) string {
	n := cellName(col, 1)
	return n[:len(n)-1]
}
