package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// sampleSize is how much of a text file encoding and delimiter detection
// look at.
const sampleSize = 64 << 10

// maxRecordLines bounds the lines one CSV record may span: real multi-line
// remarks are short, while an unclosed quote swallows the rest of the file.
const maxRecordLines = 200

// textSource reads CSV/TSV rows: encoding detected or forced, delimiter
// detected, line and record lengths bounded.
type textSource struct {
	hr      *hashingReader
	csv     *csv.Reader
	lim     *lineLimiter
	cells   []cell
	utf8    bool // decoded text may hold invalid UTF-8 (no decoder in between)
	nextRow int  // first line after the last record
	// Encoding and Comma are what detection chose (for messages and tests).
	encoding string
	comma    rune
}

// openText reads a delimited text file from its open handle; every byte
// goes through the hash on its way to the parser. The caller closes in.
func openText(in *inputFile, tsv bool, enc string, lim limits) (*textSource, error) {
	path := in.path
	hr := newHashingReader(in.f)
	raw := bufio.NewReaderSize(hr, sampleSize)
	sample, err := raw.Peek(sampleSize)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	whole := len(sample) < sampleSize
	if len(sample) == 0 {
		return nil, fmt.Errorf("read %s: %w", path, ErrEmptyFile)
	}
	name, dec, bomLen, err := chooseEncoding(sample, whole, enc)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var text io.Reader = raw
	if bomLen > 0 {
		raw.Discard(bomLen)
	}
	if dec != nil {
		text = transform.NewReader(raw, dec.NewDecoder())
	}
	s := &textSource{hr: hr, encoding: name, utf8: dec == nil, nextRow: 1}
	s.lim = &lineLimiter{r: text, maxLine: lim.maxLine, maxRecord: lim.maxRecord}
	br := bufio.NewReaderSize(s.lim, sampleSize)
	s.comma = ','
	if tsv {
		s.comma = '\t'
	} else if head, _ := br.Peek(sampleSize); len(head) > 0 {
		s.comma = detectDelimiter(head)
	}
	s.csv = csv.NewReader(br)
	s.csv.Comma = s.comma
	s.csv.LazyQuotes = true
	s.csv.FieldsPerRecord = -1
	s.csv.ReuseRecord = true
	return s, nil
}

// chooseEncoding picks the decoder: a BOM decides; then valid UTF-8 on the
// sample (not counting a character cut at its end); then UTF-16 without a
// BOM when every other byte is NUL; else GB18030 (a superset of GBK).
// dec is nil for UTF-8.
func chooseEncoding(sample []byte, whole bool, forced string) (name string, dec encoding.Encoding, bomLen int, err error) {
	hasUTF8BOM := bytes.HasPrefix(sample, []byte{0xEF, 0xBB, 0xBF})
	le := bytes.HasPrefix(sample, []byte{0xFF, 0xFE})
	be := bytes.HasPrefix(sample, []byte{0xFE, 0xFF})
	switch strings.ToLower(strings.ReplaceAll(strings.TrimSpace(forced), "_", "-")) {
	case "", "auto":
	case "utf-8", "utf8":
		if hasUTF8BOM {
			bomLen = 3
		}
		return "utf-8", nil, bomLen, nil
	case "gbk", "gb18030", "gb2312", "cp936":
		return "gb18030", simplifiedchinese.GB18030, 0, nil
	case "utf-16", "utf16", "ucs-2", "unicode":
		if be {
			return "utf-16be", unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), 0, nil
		}
		return "utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), 0, nil
	case "utf-16le":
		return "utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), 0, nil
	case "utf-16be":
		return "utf-16be", unicode.UTF16(unicode.BigEndian, unicode.UseBOM), 0, nil
	default:
		return "", nil, 0, fmt.Errorf("encoding %q: %w (want utf-8, gbk, gb18030 or utf-16)", forced, ErrBadOption)
	}
	switch {
	case hasUTF8BOM:
		return "utf-8", nil, 3, nil
	case le:
		return "utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM), 0, nil
	case be:
		return "utf-16be", unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM), 0, nil
	}
	s := sample
	if !whole {
		// Do not count a multibyte character cut by the end of the sample.
		for i := 1; i <= utf8.UTFMax && i <= len(s); i++ {
			if c := s[len(s)-i]; c < 0x80 || c >= 0xC0 {
				if !utf8.FullRune(s[len(s)-i:]) {
					s = s[:len(s)-i]
				}
				break
			}
		}
	}
	if utf8.Valid(s) && bytes.IndexByte(s, 0) < 0 {
		return "utf-8", nil, 0, nil
	}
	var even, odd int
	for i, c := range sample {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	half := len(sample) / 2
	switch {
	case half > 0 && odd*10 > half*3 && even*20 < half:
		return "utf-16le", unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 0, nil
	case half > 0 && even*10 > half*3 && odd*20 < half:
		return "utf-16be", unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 0, nil
	}
	return "gb18030", simplifiedchinese.GB18030, 0, nil
}

// detectDelimiter counts commas, tabs and semicolons outside quotes on the
// first line that holds any of them (a title or export-time line above the
// header usually holds none) and takes the most frequent (comma on a tie or
// none).
func detectDelimiter(head []byte) rune {
	counts := map[byte]int{}
	inQuote := false
	for i := 0; i < len(head); i++ {
		c := head[i]
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		if c == '\n' {
			if len(counts) > 0 {
				break
			}
			continue
		}
		if c == ',' || c == '\t' || c == ';' {
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{'\t', ';'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

func (s *textSource) next() (int, []cell, error) {
	rec, err := s.csv.Read()
	if err != nil {
		var tl *tooLongError
		if errors.As(err, &tl) {
			row := tl.line
			if tl.record {
				row = s.nextRow
			}
			return 0, nil, &RowError{Row: row, Err: err}
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return 0, nil, &RowError{Row: pe.StartLine, Err: pe.Err}
		}
		if err == io.EOF {
			return 0, nil, io.EOF
		}
		return 0, nil, &RowError{Row: s.nextRow, Err: err}
	}
	row, _ := s.csv.FieldPos(0)
	last := len(rec) - 1
	endLine, _ := s.csv.FieldPos(last)
	s.nextRow = endLine + strings.Count(rec[last], "\n") + 1
	s.lim.recordStart = s.csv.InputOffset()
	if s.nextRow-row > maxRecordLines {
		// With lazy quotes, a stray opening quote swallows the rows after
		// it into one field; refuse rather than lose them silently.
		return 0, nil, &RowError{Row: row, Err: fmt.Errorf("a quoted field runs over %d lines (an unclosed quote?): %w", s.nextRow-row, ErrTooLarge)}
	}
	if cap(s.cells) < len(rec) {
		s.cells = make([]cell, len(rec))
	}
	s.cells = s.cells[:len(rec)]
	for i, f := range rec {
		if s.utf8 && !utf8.ValidString(f) {
			f = strings.ToValidUTF8(f, "\uFFFD")
		}
		s.cells[i] = cell{text: unprotect(f), joined: looksJoined(f, s.csv.Comma)}
	}
	return row, s.cells, nil
}

// close releases nothing: the Reader owns the file.
func (s *textSource) close() error { return nil }

// digest is the SHA-256 of the file's bytes, once the parser read them all.
func (s *textSource) digest() (string, error) { return s.hr.sum() }

// looksJoined reports whether a multi-line cell continues with lines that
// each hold the delimiter and a run of at least 7 digits, as the rows after
// a stray opening quote do; a real multi-line remark seldom does.
func looksJoined(f string, comma rune) bool {
	i := strings.IndexByte(f, '\n')
	if i < 0 {
		return false
	}
	for _, line := range strings.Split(f[i+1:], "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if !strings.ContainsRune(line, comma) || !hasDigitRun(line, 7) {
			return false
		}
	}
	return true
}

func hasDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			if run++; run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// tooLongError is a line or record over the limit.
type tooLongError struct {
	line   int
	limit  int
	record bool
}

func (e *tooLongError) Error() string {
	if e.record {
		return fmt.Sprintf("record longer than %d bytes (an unclosed quote?): %v", e.limit, ErrTooLarge)
	}
	return fmt.Sprintf("line longer than %d bytes: %v", e.limit, ErrTooLarge)
}

func (e *tooLongError) Unwrap() error { return ErrTooLarge }

// lineLimiter fails the read once a line, or the record being read, grows
// past its limit, so that a file without line breaks (or with an unclosed
// quote) cannot make the CSV reader buffer it whole.
type lineLimiter struct {
	r           io.Reader
	maxLine     int
	maxRecord   int
	cur         int   // bytes since the last '\n'
	lines       int   // '\n' seen
	total       int64 // bytes delivered
	recordStart int64 // offset where the current record starts
	err         error
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	b := p[:n]
	for len(b) > 0 && l.err == nil {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.cur += len(b)
			break
		}
		if l.cur+i > l.maxLine {
			l.err = &tooLongError{line: l.lines + 1, limit: l.maxLine}
		}
		l.lines++
		l.cur = 0
		b = b[i+1:]
	}
	l.total += int64(n)
	if l.err == nil && l.cur > l.maxLine {
		l.err = &tooLongError{line: l.lines + 1, limit: l.maxLine}
	}
	if l.err == nil && l.total-l.recordStart > int64(l.maxRecord)+int64(sampleSize) {
		l.err = &tooLongError{record: true, limit: l.maxRecord}
	}
	if l.err != nil {
		return 0, l.err
	}
	return n, err
}
