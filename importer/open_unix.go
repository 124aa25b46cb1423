//go:build unix

package importer

import (
	"os"
	"syscall"
)

// openFlags never block in open(2): should the name have become a named
// pipe since it was checked, opening it must not wait for a writer. The
// handle is checked again with fstat before anything is read.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
