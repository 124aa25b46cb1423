// Command m7import bulk-imports lead spreadsheets into 7moor preview
// dial-out tasks. Run "m7import help" for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// softMemoryLimit keeps the garbage collector from letting the heap double
// past what a streaming run needs (a 1M-row XLSX with in-file dedupe peaked
// at 145 MB without it, 94 MB with it). GOMEMLIMIT overrides it; Go's GC
// stops trying at half the CPU, so a larger file runs slower rather than
// failing.
const softMemoryLimit = 80 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(softMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	finished := make(chan struct{})
	go func() {
		<-ctx.Done()
		select {
		case <-finished:
			return
		default:
		}
		// The first Ctrl-C stops sending and lets batches in flight
		// finish; a second one kills the process as usual.
		stop()
		fmt.Fprintln(os.Stderr, "m7import: interrupted: sending no new batches, finishing those in flight and the report (Ctrl-C again to quit at once)")
	}()
	code := run(ctx, os.Args[1:], stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv})
	close(finished)
	stop()
	os.Exit(int(code))
}
