package importer

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
)

// inputFile is the one open handle on the input. Everything the reader
// learns about the file comes through it: the bytes parsed, the bytes
// hashed, and the size and modification time recorded at open and compared
// at the end, so that what was hashed is what was read (see
// ../shared/spec/NOTES.md, "one read of the input").
type inputFile struct {
	path string
	f    *os.File
	fi   os.FileInfo // at open, from the handle
}

// openInput refuses what is not a regular file before opening it (a named
// pipe would block the open, a device may never end), then opens it
// without blocking and checks the handle again.
func openInput(path string) (*inputFile, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := regularFile(path, fi); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	hfi, err := f.Stat()
	if err == nil {
		err = regularFile(path, hfi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &inputFile{path: path, f: f, fi: hfi}, nil
}

// regularFile explains why an input that is not a regular file is refused.
func regularFile(path string, fi os.FileInfo) error {
	m := fi.Mode()
	var what string
	switch {
	case m.IsRegular():
		return nil
	case m.IsDir():
		return &reasonError{msg: fmt.Sprintf("read %s: %s is a folder: give a .csv, .tsv, .txt or .xlsx file in it", path, path), err: ErrNotRegularFile}
	case m&fs.ModeNamedPipe != 0:
		what = "a named pipe"
	case m&fs.ModeSocket != 0:
		what = "a socket"
	case m&fs.ModeCharDevice != 0:
		what = "a character device"
	case m&fs.ModeDevice != 0:
		what = "a device"
	default:
		what = "not a regular file"
	}
	return &reasonError{msg: fmt.Sprintf("read %s: %s is %s: m7import reads regular files only; save it to a file first", path, path, what), err: ErrNotRegularFile}
}

// checkUnchanged compares the file now, through the open handle and
// through its name, with what it was at open.
func (in *inputFile) checkUnchanged() error {
	now, err := in.f.Stat()
	if err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	changed := func(detail string) error {
		return &reasonError{msg: fmt.Sprintf("read %s: %s changed while it was read (%s): wait until it is fully written, then run again", in.path, in.path, detail), err: ErrFileChanged}
	}
	if now.Size() != in.fi.Size() {
		return changed(fmt.Sprintf("size %d → %d", in.fi.Size(), now.Size()))
	}
	if !now.ModTime().Equal(in.fi.ModTime()) {
		return changed(fmt.Sprintf("modified %s → %s", in.fi.ModTime().Format("15:04:05.000"), now.ModTime().Format("15:04:05.000")))
	}
	byName, err := os.Stat(in.path)
	if errors.Is(err, fs.ErrNotExist) {
		return changed("it was removed or renamed")
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", in.path, err)
	}
	if !os.SameFile(byName, now) {
		return changed("the name now points to another file")
	}
	return nil
}

func (in *inputFile) close() error { return in.f.Close() }

// hashingReader passes a file's bytes through a SHA-256 as they are read
// and remembers whether it reached the end.
type hashingReader struct {
	r   io.Reader
	h   hash.Hash
	eof bool
}

func newHashingReader(r io.Reader) *hashingReader {
	return &hashingReader{r: r, h: sha256.New()}
}

func (hr *hashingReader) Read(p []byte) (int, error) {
	n, err := hr.r.Read(p)
	hr.h.Write(p[:n])
	if err == io.EOF {
		hr.eof = true
	}
	return n, err
}

// sum is the hex digest of every byte read; an error until the end was
// reached.
func (hr *hashingReader) sum() (string, error) {
	if !hr.eof {
		return "", errors.New("the file was not read to its end")
	}
	return hex.EncodeToString(hr.h.Sum(nil)), nil
}

// hashFile hashes the whole file through the open handle (positional
// reads, so it can run beside the parser's own) and sends the digest on
// done. It stops early when stop is closed.
func hashFile(f *os.File, size int64, stop <-chan struct{}, done chan<- hashResult) {
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var off int64
	for {
		select {
		case <-stop:
			done <- hashResult{err: errors.New("reading stopped")}
			return
		default:
		}
		n, err := f.ReadAt(buf, off)
		h.Write(buf[:n])
		off += int64(n)
		if err == io.EOF {
			if off != size {
				done <- hashResult{err: fmt.Errorf("read %d of %d bytes", off, size)}
				return
			}
			done <- hashResult{sum: hex.EncodeToString(h.Sum(nil))}
			return
		}
		if err != nil {
			done <- hashResult{err: err}
			return
		}
	}
}

type hashResult struct {
	sum string
	err error
}
