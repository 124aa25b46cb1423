package importer

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// xlsxSource streams one worksheet of an XLSX package. It reads the
// workbook's structure (sheet names, visibility, relationships) with
// encoding/xml, loads the shared-strings table into one string, and walks
// the sheet XML with xmlScanner so that it sees each cell's type: a number
// cell's raw value, never its display format (see ../shared/notes).
type xlsxSource struct {
	zr     *zip.Reader
	rc     io.ReadCloser
	sc     *xmlScanner
	sst    sharedStrings
	lim    limits
	sheet  string
	sheets []sheetPart
	cur    int // index of the sheet being read in sheets

	// The whole file is hashed through the same handle beside the parse.
	hashStop chan struct{}
	hashDone chan hashResult
	hash     *hashResult

	row      int // current <row r>
	cells    []cell
	spans    [][2]int // per cell: offsets into rowBuf (start,end), or -1 start for sst/none
	rowBuf   []byte
	emitted  int64 // bytes of cell text handed out, bounded (one huge shared string in many cells)
	done     bool
	inSheet  bool
	maxEmits int64
}

// sharedStrings is the table as one string plus offsets: cells share its
// memory instead of copying.
type sharedStrings struct {
	text string
	off  []uint32 // len = count+1
}

func (t *sharedStrings) get(i int) (string, bool) {
	if i < 0 || i+1 >= len(t.off) {
		return "", false
	}
	return t.text[t.off[i]:t.off[i+1]], true
}

const maxSharedStrings = 1 << 24

// sheetPart is one sheet of the workbook, in the workbook's order.
type sheetPart struct {
	name   string
	hidden bool
	part   string // "" when its relationship names no part
	rid    string
}

// openXLSX reads the workbook's structure from the open handle and
// positions the reader at the chosen sheet's first row (sheet "" = the
// first visible one). The caller closes in.
func openXLSX(in *inputFile, sheet string, lim limits) (*xlsxSource, error) {
	p := in.path
	size := in.fi.Size()
	zr, err := zip.NewReader(in.f, size)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) {
			if isOLE(in.f) {
				return nil, fmt.Errorf("read %s: %w: this is a password-protected workbook or an Excel 97-2003 file named .xlsx; open it in Excel or WPS and save it as .xlsx without a password, or as .csv", p, ErrUnsupportedFormat)
			}
			return nil, fmt.Errorf("read %s: %w: not a readable XLSX (zip) package: %v", p, ErrCorruptFile, err)
		}
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	s := &xlsxSource{zr: zr, lim: lim, maxEmits: 8 << 30,
		hashStop: make(chan struct{}), hashDone: make(chan hashResult, 1)}
	go hashFile(in.f, size, s.hashStop, s.hashDone)
	if err := s.open(sheet); err != nil {
		s.close()
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return s, nil
}

// part finds a package part by name (OPC names are case-insensitive).
func (s *xlsxSource) part(name string) *zip.File {
	name = strings.TrimPrefix(name, "/")
	for _, f := range s.zr.File {
		if f.Name == name {
			return f
		}
	}
	for _, f := range s.zr.File {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// openPart opens a part for streaming after checking its declared size
// (archive/zip then fails a part that inflates beyond what it declared).
func openPart(f *zip.File, limit int64, what string) (io.ReadCloser, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s (%s) inflates to %d bytes, over the limit of %d: %w", what, f.Name, f.UncompressedSize64, limit, ErrTooLarge)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w: %v", what, f.Name, ErrCorruptFile, err)
	}
	return rc, nil
}

func (s *xlsxSource) readSmall(name, what string) ([]byte, error) {
	f := s.part(name)
	if f == nil {
		return nil, nil
	}
	rc, err := openPart(f, s.lim.maxSmallPart, what)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, s.lim.maxSmallPart+1))
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w: %v", what, f.Name, ErrCorruptFile, err)
	}
	return b, nil
}

type xmlRels struct {
	Rels []struct {
		ID     string `xml:"Id,attr"`
		Type   string `xml:"Type,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"Relationship"`
}

type xmlWorkbook struct {
	Sheets []struct {
		Name  string     `xml:"name,attr"`
		State string     `xml:"state,attr"`
		Attrs []xml.Attr `xml:",any,attr"`
	} `xml:"sheets>sheet"`
}

func (s *xlsxSource) rels(name string) (xmlRels, error) {
	var r xmlRels
	b, err := s.readSmall(name, "relationships")
	if err != nil || b == nil {
		return r, err
	}
	if err := xml.Unmarshal(b, &r); err != nil {
		return r, fmt.Errorf("relationships %s: %w: %v", name, ErrCorruptFile, err)
	}
	return r, nil
}

func resolve(base, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(target, "/")
	}
	return path.Join(path.Dir(base), target)
}

func relsPath(part string) string {
	return path.Join(path.Dir(part), "_rels", path.Base(part)+".rels")
}

func (s *xlsxSource) open(sheet string) error {
	wbPath := "xl/workbook.xml"
	root, err := s.rels("_rels/.rels")
	if err != nil {
		return err
	}
	for _, r := range root.Rels {
		if strings.HasSuffix(r.Type, "/officeDocument") {
			wbPath = resolve("", r.Target)
		}
	}
	wbXML, err := s.readSmall(wbPath, "workbook")
	if err != nil {
		return err
	}
	if wbXML == nil {
		return fmt.Errorf("%w: no workbook part (%s): not an XLSX spreadsheet", ErrCorruptFile, wbPath)
	}
	var wb xmlWorkbook
	if err := xml.Unmarshal(wbXML, &wb); err != nil {
		return fmt.Errorf("workbook: %w: %v", ErrCorruptFile, err)
	}
	if len(wb.Sheets) == 0 {
		return fmt.Errorf("%w: the workbook has no sheet", ErrEmptyFile)
	}
	wbRels, err := s.rels(relsPath(wbPath))
	if err != nil {
		return err
	}
	targets := map[string]string{}
	sstPath := ""
	for _, r := range wbRels.Rels {
		targets[r.ID] = resolve(wbPath, r.Target)
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			sstPath = resolve(wbPath, r.Target)
		}
	}
	for _, sh := range wb.Sheets {
		sp := sheetPart{name: sh.Name, hidden: sh.State == "hidden" || sh.State == "veryHidden"}
		for _, a := range sh.Attrs {
			if a.Name.Local == "id" && a.Name.Space != "" {
				sp.rid = a.Value
			}
		}
		sp.part = targets[sp.rid]
		s.sheets = append(s.sheets, sp)
	}
	chosen := -1
	for i, sh := range s.sheets {
		switch {
		case sheet != "" && sh.name == sheet:
			chosen = i
		case sheet == "" && chosen < 0 && !sh.hidden:
			chosen = i
		}
	}
	if chosen < 0 && sheet != "" {
		for i, sh := range s.sheets {
			if strings.EqualFold(strings.TrimSpace(sh.name), strings.TrimSpace(sheet)) {
				chosen = i
				break
			}
		}
	}
	if chosen < 0 {
		if sheet == "" {
			return fmt.Errorf("%w: every sheet is hidden (sheets: %s); choose one with --sheet", ErrSheetNotFound, quoteList(s.sheetNames()))
		}
		return fmt.Errorf("%w: %q (sheets: %s)", ErrSheetNotFound, sheet, quoteList(s.sheetNames()))
	}
	if sstPath == "" {
		sstPath = path.Join(path.Dir(wbPath), "sharedStrings.xml")
	}
	if f := s.part(sstPath); f != nil {
		if err := s.loadSharedStrings(f); err != nil {
			return err
		}
	}
	return s.useSheet(chosen)
}

// sheetNames lists every sheet, hidden ones too, in the workbook's order.
func (s *xlsxSource) sheetNames() []string {
	names := make([]string, len(s.sheets))
	for i, sh := range s.sheets {
		names[i] = sh.name
	}
	return names
}

// useSheet positions the reader at the first row of sheet i.
func (s *xlsxSource) useSheet(i int) error {
	if s.rc != nil {
		s.rc.Close()
		s.rc = nil
	}
	sh := s.sheets[i]
	s.cur, s.sheet = i, sh.name
	s.row, s.done, s.inSheet = 0, false, false
	if sh.part == "" {
		return fmt.Errorf("sheet %q: %w: no part for relationship %q", sh.name, ErrCorruptFile, sh.rid)
	}
	f := s.part(sh.part)
	if f == nil {
		return fmt.Errorf("sheet %q: %w: part %s is missing", sh.name, ErrCorruptFile, sh.part)
	}
	rc, err := openPart(f, s.lim.maxSheetXML, "sheet "+strconv.Quote(sh.name))
	if err != nil {
		return err
	}
	s.rc = rc
	s.sc = newXMLScanner(s.rc, s.lim.maxCell*6+64)
	return nil
}

// loadSharedStrings reads the table, refusing one that holds more text or
// strings than the limits allow.
func (s *xlsxSource) loadSharedStrings(f *zip.File) error {
	rc, err := openPart(f, s.lim.maxSharedXML, "shared strings")
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := newXMLScanner(rc, s.lim.maxCell*6+64)
	var (
		b      strings.Builder
		off    = []uint32{0}
		cur    []byte
		inSI   bool
		inT    bool
		skip   int // depth inside <rPh> (phonetic runs are not part of the text)
		total  int64
		maxTxt = s.lim.maxSharedText
	)
	for {
		err := sc.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("shared strings: %w", corrupt(err))
		}
		switch sc.kind {
		case tokStart, tokSelfClose:
			switch string(sc.name) {
			case "si":
				if sc.kind == tokSelfClose {
					off = append(off, uint32(b.Len()))
					continue
				}
				inSI, cur = true, cur[:0]
			case "t":
				inT = sc.kind == tokStart && inSI && skip == 0
			case "rPh":
				if sc.kind == tokStart {
					skip++
				}
			}
		case tokEnd:
			switch string(sc.name) {
			case "si":
				if !inSI {
					continue
				}
				inSI = false
				cur = unescapeOOXML(cur, 0)
				total += int64(len(cur))
				if total > maxTxt {
					return fmt.Errorf("shared strings hold more than %d bytes of text: %w", maxTxt, ErrTooLarge)
				}
				if len(off) > maxSharedStrings {
					return fmt.Errorf("shared strings: more than %d strings: %w", maxSharedStrings, ErrTooLarge)
				}
				b.Write(cur)
				off = append(off, uint32(b.Len()))
			case "t":
				inT = false
			case "rPh":
				if skip > 0 {
					skip--
				}
			}
		case tokText:
			if inT {
				if sc.cdata {
					cur = append(cur, sc.text...)
				} else {
					cur = appendText(cur, sc.text)
				}
				if len(cur) > s.lim.maxCell {
					return fmt.Errorf("shared string %d longer than Excel's 32,767 characters: %w", len(off)-1, ErrTooLarge)
				}
			}
		}
	}
	s.sst = sharedStrings{text: b.String(), off: off}
	return nil
}

// corrupt classifies a scanner or inflate error.
func corrupt(err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrCorruptFile) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrCorruptFile, err)
}

// colIndex turns a cell reference's letters ("C5" -> 2) into a column
// index; ok is false without letters.
func colIndex(ref []byte) (int, bool) {
	n := 0
	i := 0
	for ; i < len(ref); i++ {
		c := ref[i] | 0x20
		if c < 'a' || c > 'z' {
			break
		}
		n = n*26 + int(c-'a'+1)
		if n > 1<<20 {
			return 0, false
		}
	}
	return n - 1, i > 0
}

func atoiBytes(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// next returns the next row (blank ones too; the Reader skips them).
func (s *xlsxSource) next() (int, []cell, error) {
	if s.done {
		return 0, nil, io.EOF
	}
	sc := s.sc
	var (
		inRow               bool
		col                 = -1
		cellType            []byte
		typ                 byte // 'n' number, 's' shared, 'i' inline, 'b' bool, 't' other text
		inV, inT, inIS, inF bool
		skip                int
		hasValue            bool
		start               int
		typBuf              [16]byte
	)
	s.rowBuf = s.rowBuf[:0]
	s.spans = s.spans[:0]
	s.cells = s.cells[:0]
	rowErr := func(err error) error {
		return &RowError{Row: s.row, Column: "cell " + cellName(max(col, 0), s.row), Err: err}
	}
	for {
		err := sc.next()
		if err == io.EOF {
			s.done = true
			if inRow || s.inSheet {
				return 0, nil, rowErr(fmt.Errorf("%w: the sheet ends inside a row", ErrCorruptFile))
			}
			return 0, nil, io.EOF
		}
		if err != nil {
			if inRow || s.row > 0 {
				return 0, nil, rowErr(corrupt(err))
			}
			return 0, nil, fmt.Errorf("sheet %q: %w", s.sheet, corrupt(err))
		}
		switch sc.kind {
		case tokStart, tokSelfClose:
			self := sc.kind == tokSelfClose
			switch string(sc.name) {
			case "sheetData":
				s.inSheet = !self
			case "row":
				if !s.inSheet {
					continue
				}
				r, ok := atoiBytes(attr(sc.attrs, "r"))
				if !ok {
					r = s.row + 1
				}
				s.row = r
				if self {
					return s.row, nil, nil
				}
				inRow, col = true, -1
			case "c":
				if !inRow {
					continue
				}
				c, ok := colIndex(attr(sc.attrs, "r"))
				if !ok {
					c = col + 1
				}
				if c >= s.lim.maxColumns {
					return 0, nil, rowErr(fmt.Errorf("cell beyond column %d: %w", s.lim.maxColumns, ErrCorruptFile))
				}
				col = c
				cellType = append(typBuf[:0], attr(sc.attrs, "t")...)
				switch string(cellType) {
				case "", "n":
					typ = 'n'
				case "s":
					typ = 's'
				case "inlineStr":
					typ = 'i'
				case "b":
					typ = 'b'
				default:
					typ = 't'
				}
				hasValue, start = false, len(s.rowBuf)
				if self {
					s.setCell(col, -1, -1, "", false)
				}
			case "v":
				inV = !self && inRow && skip == 0
			case "is":
				inIS = !self && inRow
			case "t":
				inT = !self && inIS && skip == 0
			case "f":
				inF = !self
			case "rPh":
				if !self {
					skip++
				}
			}
		case tokEnd:
			switch string(sc.name) {
			case "v":
				inV = false
			case "t":
				inT = false
			case "is":
				inIS = false
			case "f":
				inF = false
			case "rPh":
				if skip > 0 {
					skip--
				}
			case "c":
				if !inRow || col < 0 {
					continue
				}
				if err := s.finishCell(col, typ, hasValue, start); err != nil {
					return 0, nil, rowErr(err)
				}
			case "row":
				if !inRow {
					continue
				}
				return s.row, s.finishRow(), nil
			case "sheetData":
				s.done = true
				if inRow {
					return 0, nil, rowErr(fmt.Errorf("%w: row %d is not closed", ErrCorruptFile, s.row))
				}
				return 0, nil, io.EOF
			}
		case tokText:
			if inF || !inRow || !(inV || inT) {
				continue
			}
			if typ == 'i' && inV && inIS {
				continue
			}
			hasValue = true
			if sc.cdata {
				s.rowBuf = append(s.rowBuf, sc.text...)
			} else {
				s.rowBuf = appendText(s.rowBuf, sc.text)
			}
			if len(s.rowBuf)-start > s.lim.maxCell {
				return 0, nil, rowErr(fmt.Errorf("cell longer than Excel's 32,767 characters: %w", ErrTooLarge))
			}
		}
	}
}

// setCell places a cell at col: text either rowBuf[a:b] (a >= 0) or str.
func (s *xlsxSource) setCell(col, a, b int, str string, numeric bool) {
	for len(s.cells) <= col {
		s.cells = append(s.cells, cell{})
		s.spans = append(s.spans, [2]int{-1, -1})
	}
	s.cells[col] = cell{text: str, numeric: numeric}
	s.spans[col] = [2]int{a, b}
}

// finishCell turns the text collected for a cell into its value by type.
func (s *xlsxSource) finishCell(col int, typ byte, hasValue bool, start int) error {
	if !hasValue {
		s.rowBuf = s.rowBuf[:start]
		s.setCell(col, -1, -1, "", false)
		return nil
	}
	raw := s.rowBuf[start:]
	switch typ {
	case 's':
		i, ok := atoiBytes(bytes.TrimSpace(raw))
		str, ok2 := s.sst.get(i)
		if !ok || !ok2 {
			return fmt.Errorf("%w: shared string index %q out of range (table holds %d)", ErrCorruptFile, raw, max(len(s.sst.off)-1, 0))
		}
		s.rowBuf = s.rowBuf[:start]
		s.emitted += int64(len(str))
		if s.emitted > s.maxEmits {
			return fmt.Errorf("the sheet's cells expand to more than %d bytes of text: %w", s.maxEmits, ErrTooLarge)
		}
		s.setCell(col, -1, -1, str, false)
	case 'b':
		v := string(bytes.TrimSpace(raw))
		s.rowBuf = s.rowBuf[:start]
		switch v {
		case "1":
			s.setCell(col, -1, -1, "TRUE", false)
		case "0":
			s.setCell(col, -1, -1, "FALSE", false)
		default:
			s.setCell(col, -1, -1, "", false)
			s.rowBuf = append(s.rowBuf[:start], v...)
			s.setCell(col, start, len(s.rowBuf), "", false)
		}
	case 'n':
		t := bytes.TrimSpace(raw)
		n := copy(s.rowBuf[start:], t)
		s.rowBuf = s.rowBuf[:start+n]
		s.setCell(col, start, start+n, "", n > 0)
	default:
		s.rowBuf = unescapeOOXML(s.rowBuf, start)
		s.setCell(col, start, len(s.rowBuf), "", false)
	}
	return nil
}

// finishRow makes the row's strings: one allocation for all its cells.
func (s *xlsxSource) finishRow() []cell {
	if len(s.rowBuf) > 0 {
		all := string(s.rowBuf)
		for i, sp := range s.spans {
			if sp[0] >= 0 {
				s.cells[i].text = all[sp[0]:sp[1]]
			}
		}
	}
	for i := range s.cells {
		if !s.cells[i].numeric {
			s.cells[i].text = unprotect(s.cells[i].text)
		}
	}
	return s.cells
}

// close stops the hashing and releases the sheet; the Reader owns the
// file.
func (s *xlsxSource) close() error {
	if s.rc != nil {
		s.rc.Close()
		s.rc = nil
	}
	if s.hashStop != nil {
		close(s.hashStop)
		s.hashStop = nil
		if s.hash == nil {
			r := <-s.hashDone
			s.hash = &r
		}
	}
	return nil
}

// digest is the SHA-256 of the whole file, hashed through the open handle.
func (s *xlsxSource) digest() (string, error) {
	if s.hash == nil {
		r := <-s.hashDone
		s.hash = &r
	}
	return s.hash.sum, s.hash.err
}

// cellName is a cell's A1-style reference.
func cellName(col, row int) string {
	var b []byte
	for col++; col > 0; col = (col - 1) / 26 {
		b = append([]byte{byte('A' + (col-1)%26)}, b...)
	}
	return string(b) + strconv.Itoa(row)
}

// isOLE reports a Compound File (the container of .xls files and of
// password-protected .xlsx files).
func isOLE(f io.ReaderAt) bool {
	var b [8]byte
	_, err := f.ReadAt(b[:], 0)
	return err == nil && string(b[:]) == "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"
}
