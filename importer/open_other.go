//go:build !unix

package importer

import "os"

// openFlags: elsewhere, the check before opening is all there is.
const openFlags = os.O_RDONLY
