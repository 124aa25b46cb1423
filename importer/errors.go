package importer

import (
	"errors"
	"fmt"
)

// Sentinel errors for conditions callers branch on with errors.Is.
var (
	// ErrUnsupportedFormat: the file's extension is not one the reader knows
	// (.xls, .ods, ...). The message says how to convert the file.
	ErrUnsupportedFormat = errors.New("unsupported file format")
	// ErrNoNumberColumn: no header cell maps to the number field.
	ErrNoNumberColumn = errors.New("no number column")
	// ErrSheetNotFound: Options.Sheet names no sheet of the workbook.
	ErrSheetNotFound = errors.New("sheet not found")
	// ErrEmptyFile: the file (or sheet) holds no row at all.
	ErrEmptyFile = errors.New("empty file")
	// ErrCorruptFile: the XLSX package is damaged, truncated or not a
	// spreadsheet.
	ErrCorruptFile = errors.New("corrupt or truncated file")
	// ErrTooLarge: a part of the file inflates beyond the reader's limits (a
	// zip bomb, a huge shared-strings table, a line or cell longer than any
	// real spreadsheet holds).
	ErrTooLarge = errors.New("too large")
	// ErrBadOption: an option value (encoding, policy, map, region) is not
	// understood.
	ErrBadOption = errors.New("bad option")
	// ErrNotRegularFile: the input is a folder, a named pipe, a device or a
	// socket. The reader reads regular files only: one it can read once,
	// hash and check for changes.
	ErrNotRegularFile = errors.New("not a regular file")
	// ErrFileChanged: the file's size or modification time changed while it
	// was read, or its name now points to another file. What was read may
	// mix two versions of the file.
	ErrFileChanged = errors.New("file changed while it was read")
)

// Sentinel errors wrapped by the reasons Normalize returns. The message of
// the returned error is the report's reason; test it with errors.Is.
var (
	// ErrMissingNumber: the number cell is empty.
	ErrMissingNumber = errors.New("missing number: fill in the number or delete the row")
	// ErrDigitsLost: a text cell holds a number in scientific notation
	// (1.38001E+10); its last digits were lost before the file was saved.
	ErrDigitsLost = errors.New("number in scientific notation, digits lost: format the column as text and export again")
	// ErrLettersInNumber: the cell holds letters besides digits.
	ErrLettersInNumber = errors.New("letters in number: keep only the digits (an O for a 0? an l for a 1?)")
	// ErrExtension: the number carries an extension, which the dialer
	// cannot dial.
	ErrExtension = errors.New("extension not supported: keep the number without its extension (转 8, ext. 8); an extension cannot be dialled")
	// ErrTooShort: too few digits for a phone number.
	ErrTooShort = errors.New("too short: digits are missing; check the number (a landline needs its area code)")
	// ErrTooLong: too many digits for a phone number.
	ErrTooLong = errors.New("too long: one number per row (split 18612345678/13912345678 into two rows); check for extra digits")
	// ErrNotRegion: a valid number of another country than the region.
	ErrNotRegion = errors.New("not a number of the region")
	// ErrInvalidNumber: digits that are not a valid number of the region.
	ErrInvalidNumber = errors.New("not a valid number")
	// ErrJoinedRows: a quoted CSV cell runs over lines that look like rows
	// of their own (an unclosed quote joined them).
	ErrJoinedRows = errors.New("a quoted cell runs over lines that look like other rows (an unclosed quote?): fix the quote and import those rows again")
	// ErrNotANumber: the cell does not look like a phone number at all.
	ErrNotANumber = errors.New("not a phone number: put the phone number in this cell")
	// ErrNotWholeNumber: a numeric cell whose value has a fraction.
	ErrNotWholeNumber = errors.New("numeric cell is not a whole number")
)

// RowError is a problem at a position in the input file, like
// csv.ParseError: a row that cannot be read at all (a line longer than the
// limit, a cell larger than Excel allows).
type RowError struct {
	// Row is the row number as the user sees it (0 if unknown).
	Row int
	// Column is the header of the cell, or "column N"; may be empty.
	Column string
	// Value is the offending cell (possibly shortened); may be empty.
	Value string
	// Err is the underlying problem, often a sentinel of this package.
	Err error
}

// Error implements error.
func (e *RowError) Error() string {
	msg := fmt.Sprintf("row %d", e.Row)
	if e.Column != "" {
		msg += " " + e.Column
	}
	if e.Value != "" {
		msg += fmt.Sprintf(" %q", e.Value)
	}
	return msg + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *RowError) Unwrap() error { return e.Err }

// reasonError is an error whose message is written for the report while it
// still matches a sentinel with errors.Is.
type reasonError struct {
	msg string
	err error
}

func (e *reasonError) Error() string { return e.msg }
func (e *reasonError) Unwrap() error { return e.err }

func reason(sentinel error, format string, args ...any) error {
	return &reasonError{msg: fmt.Sprintf(format, args...), err: sentinel}
}
