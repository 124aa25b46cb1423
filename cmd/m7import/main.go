// Command m7import bulk-imports lead spreadsheets into 7moor preview
// dial-out tasks. Run "m7import help" for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
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
