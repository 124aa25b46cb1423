package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=v1.2.3"); the
// module's build info fills it otherwise.
var version = ""

func runVersionCmd(args []string, io stdio) error {
	fs := newFlagSet("version", "Usage: m7import version\n\nPrints the version.\n\nExample:\n  m7import version\n", io.Err)
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(io.Out, "m7import %s\n", v)
	return nil
}
