package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// errCancelled is a destructive command the user declined at the prompt.
var errCancelled = errors.New("cancelled: nothing was deleted")

// confirm asks whether to go ahead with action ("delete all 12 numbers of
// task X") on io.Err and waits for a yes on io.In, but only when stdin is
// a terminal: a script cannot answer a prompt, so it must say --yes up
// front (yes skips the question).
func confirm(io stdio, yes bool, action string) error {
	return confirmWith(io.In, io.Err, isTerminal(io.In), yes, action)
}

// confirmWith is confirm with the terminal test decided by the caller.
func confirmWith(in io.Reader, w io.Writer, interactive, yes bool, action string) error {
	if yes {
		return nil
	}
	if !interactive {
		return usagef("not confirmed (stdin is not a terminal, so nothing can be asked): add --yes to %s", action)
	}
	r, n := utf8.DecodeRuneInString(action)
	fmt.Fprintf(w, "%c%s? [y/N] ", unicode.ToUpper(r), action[n:])
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(w)
		return errCancelled
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	return errCancelled
}
