package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlScanner is a small, allocation-free tokenizer for the SpreadsheetML
// parts the reader streams (worksheets, the shared-strings table). It
// knows start, end and self-closing tags, text, CDATA, comments and
// processing instructions; it refuses a DOCTYPE (no entity can expand) and
// any token longer than maxToken, so memory stays bounded whatever the
// input. Tokens point into its buffer and are valid until the next call.
type xmlScanner struct {
	r        io.Reader
	buf      []byte
	pos, end int
	eof      bool
	rerr     error
	maxToken int

	// the current token
	kind  tokKind
	name  []byte // local name, prefix removed
	attrs []byte // raw attributes of a start tag
	text  []byte // raw text (entities not decoded) or CDATA content
	cdata bool
}

type tokKind int

const (
	tokStart tokKind = iota + 1
	tokEnd
	tokSelfClose
	tokText
)

var errXMLSyntax = errors.New("malformed XML")

func newXMLScanner(r io.Reader, maxToken int) *xmlScanner {
	return &xmlScanner{r: r, buf: make([]byte, 256<<10), maxToken: maxToken}
}

// fill reads more input, keeping buf[pos:end]. It reports false at the end
// of input (or on a read error, kept in rerr).
func (s *xmlScanner) fill() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= s.maxToken+1024 {
			return false
		}
		nb := make([]byte, min(2*len(s.buf), s.maxToken+1024))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// tooLong reports a token over the limit.
func (s *xmlScanner) tooLong() error {
	return fmt.Errorf("XML token longer than %d bytes: %w", s.maxToken, ErrTooLarge)
}

func (s *xmlScanner) endErr() error {
	if s.rerr != nil {
		return s.rerr
	}
	return io.EOF
}

// next reads the next token; io.EOF at the end of input.
func (s *xmlScanner) next() error {
	for {
		if s.pos >= s.end && !s.fill() {
			return s.endErr()
		}
		if s.buf[s.pos] != '<' {
			i := bytes.IndexByte(s.buf[s.pos:s.end], '<')
			for i < 0 {
				if s.end-s.pos > s.maxToken {
					return s.tooLong()
				}
				if !s.fill() {
					if s.rerr != nil {
						return s.rerr
					}
					i = s.end - s.pos
					break
				}
				i = bytes.IndexByte(s.buf[s.pos:s.end], '<')
			}
			s.kind, s.text, s.cdata = tokText, s.buf[s.pos:s.pos+i], false
			s.pos += i
			return nil
		}
		// A markup construct: find its end.
		if s.end-s.pos < 9 {
			s.fill()
		}
		rest := s.buf[s.pos:s.end]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := s.skipPast([]byte("-->")); err != nil {
				return err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			j, err := s.find([]byte("]]>"), 9)
			if err != nil {
				return err
			}
			s.kind, s.text, s.cdata = tokText, s.buf[s.pos+9:s.pos+j], true
			s.pos += j + 3
			return nil
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := s.skipPast([]byte("?>")); err != nil {
				return err
			}
			continue
		case bytes.HasPrefix(rest, []byte("<!")):
			return fmt.Errorf("DOCTYPE or declaration in spreadsheet XML: %w", errXMLSyntax)
		}
		return s.tag()
	}
}

// find returns the offset from pos of sep, searching from pos+from.
func (s *xmlScanner) find(sep []byte, from int) (int, error) {
	for {
		if s.pos+from <= s.end {
			if j := bytes.Index(s.buf[s.pos+from:s.end], sep); j >= 0 {
				return from + j, nil
			}
		}
		if s.end-s.pos > s.maxToken {
			return 0, s.tooLong()
		}
		if !s.fill() {
			if s.rerr != nil {
				return 0, s.rerr
			}
			return 0, fmt.Errorf("unterminated %q: %w", sep, errXMLSyntax)
		}
	}
}

func (s *xmlScanner) skipPast(sep []byte) error {
	j, err := s.find(sep, 2)
	if err != nil {
		return err
	}
	s.pos += j + len(sep)
	return nil
}

// tag reads a start, end or self-closing tag at pos, honouring quotes.
func (s *xmlScanner) tag() error {
	i := 1
	var quote byte
	for {
		for ; s.pos+i < s.end; i++ {
			c := s.buf[s.pos+i]
			if quote != 0 {
				if c == quote {
					quote = 0
				}
				continue
			}
			if c == '"' || c == '\'' {
				quote = c
			} else if c == '>' {
				goto done
			} else if c == '<' {
				return fmt.Errorf("'<' inside a tag: %w", errXMLSyntax)
			}
		}
		if i > s.maxToken {
			return s.tooLong()
		}
		if !s.fill() {
			if s.rerr != nil {
				return s.rerr
			}
			return fmt.Errorf("unterminated tag: %w", errXMLSyntax)
		}
	}
done:
	t := s.buf[s.pos+1 : s.pos+i]
	s.pos += i + 1
	s.kind = tokStart
	if len(t) > 0 && t[0] == '/' {
		s.kind = tokEnd
		t = t[1:]
	} else if len(t) > 0 && t[len(t)-1] == '/' {
		s.kind = tokSelfClose
		t = t[:len(t)-1]
	}
	n := 0
	for n < len(t) && !isXMLSpace(t[n]) {
		n++
	}
	if n == 0 {
		return fmt.Errorf("tag without a name: %w", errXMLSyntax)
	}
	s.name, s.attrs = t[:n], t[n:]
	if k := bytes.LastIndexByte(s.name, ':'); k >= 0 {
		s.name = s.name[k+1:]
	}
	return nil
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// attr returns the raw value of the attribute with local name key (no
// prefix) in attrs, or nil.
func attr(attrs []byte, key string) []byte {
	for len(attrs) > 0 {
		i := 0
		for i < len(attrs) && isXMLSpace(attrs[i]) {
			i++
		}
		attrs = attrs[i:]
		eq := bytes.IndexByte(attrs, '=')
		if eq < 0 {
			return nil
		}
		name := attrs[:eq]
		for len(name) > 0 && isXMLSpace(name[len(name)-1]) {
			name = name[:len(name)-1]
		}
		rest := attrs[eq+1:]
		for len(rest) > 0 && isXMLSpace(rest[0]) {
			rest = rest[1:]
		}
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return nil
		}
		end := bytes.IndexByte(rest[1:], rest[0])
		if end < 0 {
			return nil
		}
		if string(name) == key {
			return rest[1 : 1+end]
		}
		attrs = rest[end+2:]
	}
	return nil
}

// appendText decodes raw XML character data (entities and character
// references) onto dst.
func appendText(dst, raw []byte) []byte {
	for {
		i := bytes.IndexByte(raw, '&')
		if i < 0 {
			return append(dst, raw...)
		}
		dst = append(dst, raw[:i]...)
		raw = raw[i:]
		j := bytes.IndexByte(raw, ';')
		if j < 0 || j > 12 {
			dst = append(dst, '&')
			raw = raw[1:]
			continue
		}
		ent := raw[1:j]
		switch string(ent) {
		case "amp":
			dst = append(dst, '&')
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ent)
			if !ok {
				dst = append(dst, raw[:j+1]...) // unknown entity: keep it as written
			} else {
				dst = utf8.AppendRune(dst, r)
			}
		}
		raw = raw[j+1:]
	}
}

func charRef(ent []byte) (rune, bool) {
	if len(ent) < 2 || ent[0] != '#' {
		return 0, false
	}
	var v uint64
	var err error
	if ent[1] == 'x' || ent[1] == 'X' {
		v, err = strconv.ParseUint(string(ent[2:]), 16, 32)
	} else {
		v, err = strconv.ParseUint(string(ent[1:]), 10, 32)
	}
	if err != nil || v > utf8.MaxRune {
		return 0, false
	}
	return rune(v), true
}

// unescapeOOXML decodes Excel's _xHHHH_ escapes (e.g. _x000D_ for a carriage
// return; _x005F_ escapes an underscore) in b[from:], in place.
func unescapeOOXML(b []byte, from int) []byte {
	if bytes.IndexByte(b[from:], '_') < 0 {
		return b
	}
	out := b[:from]
	in := b[from:]
	for len(in) > 0 {
		i := bytes.IndexByte(in, '_')
		if i < 0 {
			out = append(out, in...)
			break
		}
		out = append(out, in[:i]...)
		in = in[i:]
		if len(in) >= 7 && in[1] == 'x' && in[6] == '_' {
			if v, err := strconv.ParseUint(string(in[2:6]), 16, 16); err == nil {
				out = utf8.AppendRune(out, rune(v))
				in = in[7:]
				continue
			}
		}
		out = append(out, '_')
		in = in[1:]
	}
	return out
}
