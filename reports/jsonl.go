package reports

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/m7import/m7import/importer"
)

// JSONLWriter writes a JSONL report: one JSON object per line, its keys the
// Columns in order; row and batch are numbers (batch 0: never sent), the rest
// strings. Strings are escaped by hand (encoding/json per row costs an
// allocation or more per row); invalid UTF-8 is written as U+FFFD, as
// encoding/json does.
type JSONLWriter struct {
	w      *bufio.Writer
	line   []byte
	closed bool
}

// NewJSONLWriter returns a JSONLWriter writing to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	return &JSONLWriter{w: bufio.NewWriterSize(w, 64<<10), line: make([]byte, 0, 512)}
}

// Write writes one record as a line. It does not allocate.
func (jw *JSONLWriter) Write(r importer.Record) error {
	if jw.closed {
		return errClosed
	}
	b := append(jw.line[:0], `{"row":`...)
	b = strconv.AppendInt(b, int64(r.Row), 10)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, r.Name)
	b = append(b, `,"number":`...)
	b = appendJSONString(b, r.Number)
	b = append(b, `,"remark":`...)
	b = appendJSONString(b, r.Remark)
	b = append(b, `,"agent_number":`...)
	b = appendJSONString(b, r.AgentNumber)
	b = append(b, `,"normalized_number":`...)
	b = appendJSONString(b, r.Normalized)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(r.Status))
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, r.Reason)
	b = append(b, `,"batch":`...)
	b = strconv.AppendInt(b, int64(r.Batch), 10)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, r.RequestID)
	b = append(b, "}\n"...)
	jw.line = b
	if _, err := jw.w.Write(b); err != nil {
		return fmt.Errorf("write jsonl report row %d: %w", r.Row, err)
	}
	return nil
}

// Close flushes the report. It does not close the underlying writer.
func (jw *JSONLWriter) Close() error {
	if jw.closed {
		return nil
	}
	jw.closed = true
	if err := jw.w.Flush(); err != nil {
		return fmt.Errorf("flush jsonl report: %w", err)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string: quote, backslash and control
// characters escaped, U+2028/U+2029 escaped (as encoding/json does, for
// JavaScript consumers), invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
