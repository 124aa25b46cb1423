package main

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// stampLayout is RFC 3339 with milliseconds: on-call reads when each line
// of a nightly job's log was written.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// stampWriter starts every line written to w with the time, for logs that
// are not read on a terminal (cron mail, journald, CI). Writes may end
// mid-line (a prompt); the next line still gets its own time. Safe for
// concurrent use, as progress and warnings may write at once.
type stampWriter struct {
	mu        sync.Mutex
	w         io.Writer
	now       func() time.Time
	lineStart bool
}

func newStampWriter(w io.Writer, now func() time.Time) *stampWriter {
	if now == nil {
		now = time.Now
	}
	return &stampWriter{w: w, now: now, lineStart: true}
}

// Write writes p with a time before each line's first byte. It reports
// len(p) when every byte of p was written.
func (s *stampWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var buf []byte
	rest := p
	for len(rest) > 0 {
		if s.lineStart {
			buf = s.now().AppendFormat(buf, stampLayout)
			buf = append(buf, ' ')
			s.lineStart = false
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			buf = append(buf, rest...)
			break
		}
		buf = append(buf, rest[:i+1]...)
		rest = rest[i+1:]
		s.lineStart = true
	}
	if _, err := s.w.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// unstamped is the writer under w's times, for text that is not a log
// line (a command's --help).
func unstamped(w io.Writer) io.Writer {
	if s, ok := w.(*stampWriter); ok {
		return s.w
	}
	return w
}
