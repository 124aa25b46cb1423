// Package importer reads lead files (CSV/TSV/TXT in UTF-8, GBK/GB18030 or
// UTF-16; XLSX/XLSM) row by row and turns each non-blank row into a Record:
// its row number as the user sees it, the four original cells (name, number,
// remark, agentNumber), the number normalized for the dialer, and an outcome
// so far (Valid, Invalid with a reason, or Duplicate of an earlier row).
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
