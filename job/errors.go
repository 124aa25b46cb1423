package job

import (
	"errors"
	"fmt"
)

// Code is how a run ended, as the command line's exit status and the
// "exit_code" of the --json summary, the web API and the inbox show it.
type Code int

// The codes (README "Exit codes").
const (
	CodeOK         Code = 0 // every valid row imported (dry run: the file was read)
	CodeFailed     Code = 1 // could not start, or stopped
	CodeUsage      Code = 2 // bad flags or arguments
	CodeIncomplete Code = 3 // finished, but some rows failed, unconfirmed or skipped
	CodeRefused    Code = 4 // refused by --max-invalid: nothing was sent
)

// Error is a run's failure with what decides its Code, a hint of what to
// try next, and whether it dooms the other files of the same command line
// too (credentials refused, no such task).
type Error struct {
	Code Code
	Err  error
	// Hint is one line saying what to try next, or "".
	Hint string
	// StopAll is set when the other files of the same command line would
	// fail the same way.
	StopAll bool
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Usagef is a mistake in the options (CodeUsage).
func Usagef(format string, a ...any) error {
	return &Error{Code: CodeUsage, Err: fmt.Errorf(format, a...)}
}

// WithHint adds a line saying what to try next.
func WithHint(err error, hint string) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		c.Hint = hint
		return &c
	}
	return &Error{Code: CodeFailed, Err: err, Hint: hint}
}

// stopAll marks err as dooming the other files too.
func stopAll(err error, hint string) error {
	return &Error{Code: CodeFailed, Err: err, Hint: hint, StopAll: true}
}

// CodeOf maps a run's error to its code: the one place that decides it.
func CodeOf(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return CodeOK
	case errors.As(err, &e):
		return e.Code
	default:
		return CodeFailed
	}
}

// HintOf returns the hint err carries, or "".
func HintOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Hint
	}
	return ""
}

// StopsAll reports whether err dooms the other files of the command line.
func StopsAll(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StopAll
}

// Worse reports whether a run ending with code a is worse than one ending
// with b, for the status of several files: 1 > 4 > 3 > 0 (NOTES).
func Worse(a, b Code) bool { return severity(a) > severity(b) }

func severity(c Code) int {
	switch c {
	case CodeOK:
		return 0
	case CodeIncomplete:
		return 2
	case CodeRefused:
		return 3
	case CodeUsage:
		return 5
	}
	return 4
}
