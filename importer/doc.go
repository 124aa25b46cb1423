// Package importer reads lead files (CSV/TSV/TXT in UTF-8, GBK/GB18030 or
// UTF-16; XLSX/XLSM) row by row and turns each non-blank row into a Record:
// its row number as the user sees it, the four original cells (name, number,
// remark, agentNumber), the number normalized for the dialer, and an outcome
// so far (Valid, Invalid with a reason, or Duplicate of an earlier row).
//
// Files are made by people and CRMs, so the reader looks for the header
// instead of assuming it: the first of the first 20 non-blank rows with a
// recognisable number column (a header cell equal to a number synonym once
// trimmed, width- and case-folded and stripped of a bracketed note, so
// 手机号(必填) counts and 手机号必须为11位 does not), and in a workbook the
// first visible sheet that has one. What it decided is there to show a
// person before anything is sent: Mapping, Ignored, Notes. When the number
// cell is empty, another phone column of the row (座机, 备用电话, 电话2) stands
// in, and the row's reason says so.
//
// The input is opened once, and only when it is a regular file (a named
// pipe or a device is refused without blocking). Its bytes are hashed as
// they are parsed (an XLSX package is hashed through the same handle), and
// at the end the reader checks that the file's size, modification time and
// identity did not change meanwhile, so that the hash names exactly what
// was read (see ../shared/spec/NOTES.md, "one read of the input").
//
// Reading streams: memory does not grow with the file, except for the
// in-file dedupe set (numbers held as integers, about 20 bytes a number).
// Text files go through encoding/csv with lazy quotes; lines, records and
// cells are bounded. XLSX sheets are walked by a byte-level XML scanner
// that sees each cell's type (a number cell is read from its raw value,
// never its display format), with its own limits on what a part may
// inflate to (see ../shared/spec/NOTES.md, "Between the issues"). A
// goroutine reads ahead while the caller's goroutine normalizes, so reading
// uses two cores.
//
// Numbers are judged by libphonenumber (github.com/nyaruka/phonenumbers).
// For region CN a fast path compiled from the library's own metadata (digit
// automata for its national-number patterns) decides plain mobiles,
// +86/0086/86 mobiles, landlines with area code and mobile-looking numbers
// with a digit missing or extra in about 0.1 µs instead of the full parse's
// 30 µs; FuzzFastPathAgreesWithFullParse and TestFastPathSweep check that it
// agrees with the full parse on every input it decides.
//
// Benchmarks (1,000,000 rows; see bench_test.go for the generator):
//
//	go test -run XXX -bench 'Read(CSV|XLSX)1M|Normalize' -benchtime=3x -benchmem ./importer/
package importer
