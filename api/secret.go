package api

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// MaxSecretFileBytes bounds a secret file. A secret key is a few dozen
// bytes; a larger file is the wrong file.
const MaxSecretFileBytes = 4 << 10

// ReadSecretFile reads the account's secret key from path (M7_SECRET_FILE or
// --secret-file): the file's content with surrounding whitespace (and a
// UTF-8 byte order mark) trimmed.
//
// Only a regular file (or a symlink to one) is read, and it is checked before
// it is opened: a named pipe would block the read forever and a device such
// as /dev/zero would never end. A file over MaxSecretFileBytes, an empty one
// and one of several lines are refused. Every error names the file and says
// what to do; none contains the file's content.
func ReadSecretFile(path string) (string, error) {
	const fix = "put only the secret key in a regular file, or set M7_SECRET"
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w (%s)", path, pathCause(err), fix)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("secret file %s is %s, not a regular file: %s", path, kindOf(fi.Mode()), fix)
	}
	if fi.Size() > MaxSecretFileBytes {
		return "", fmt.Errorf("secret file %s is %d bytes, more than the %d a secret key can be: is it the right file? (%s)",
			path, fi.Size(), MaxSecretFileBytes, fix)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w (%s)", path, pathCause(err), fix)
	}
	defer f.Close()
	// The file may have been replaced between Stat and Open.
	if opened, err := f.Stat(); err != nil || !os.SameFile(fi, opened) {
		return "", fmt.Errorf("secret file %s changed while it was opened: try again", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("secret file %s: %w (%s)", path, pathCause(err), fix)
	}
	if len(b) > MaxSecretFileBytes {
		return "", fmt.Errorf("secret file %s is more than %d bytes, more than a secret key can be: is it the right file? (%s)",
			path, MaxSecretFileBytes, fix)
	}
	secret := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	switch {
	case secret == "":
		return "", fmt.Errorf("secret file %s is empty: write the account's secret key (secretKey) into it, or set M7_SECRET", path)
	case strings.ContainsAny(secret, "\r\n"):
		return "", fmt.Errorf("secret file %s has more than one line: %s", path, fix)
	}
	return secret, nil
}

// pathCause drops the *fs.PathError's operation and path, which the caller's
// message already names.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// kindOf names a file mode that is not a regular file, for a message.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeCharDevice != 0, m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "a special file (" + m.Type().String() + ")"
}
