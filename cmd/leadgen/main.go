// Command leadgen writes a realistic lead spreadsheet for demos, tests and
// benchmarks (see package internal/leadgen).
//
//	go run ./cmd/leadgen -rows 1000000 -format xlsx -out /tmp/leads.xlsx
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole command: it returns the exit code (0 ok, 1 failed,
// 2 usage).
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintf(stderr, "leadgen: %v\n", err)
		return 2
	}
	if err := generate(opts, stdout); err != nil {
		fmt.Fprintf(stderr, "leadgen: %v\n", err)
		return 1
	}
	return 0
}
