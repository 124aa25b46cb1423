package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/m7import/m7import/importer"
)

// File is a report being written to a path atomically: rows go to a
// temporary file in the same directory, and Commit (or Close) finishes the
// format, fsyncs, and renames it onto the path. Until then the path keeps
// whatever it held before (an older report, or nothing), so a crashed or
// killed run never leaves a torn report there; at worst a hidden
// ".NAME.tmp-*" file remains beside it.
//
// Close commits, so a *File is a Writer that can be handed to code that
// only knows Writer. On error paths call Abort; it is a no-op after a
// commit, so the usual shape is:
//
//	f, err := reports.Create(path, reports.CSV)
//	if err != nil { return err }
//	defer f.Abort()
//	... f.Write(rec) ...
//	return f.Commit()
type File struct {
	path string
	tmp  *os.File
	w    Writer
	done bool
	err  error // the outcome of Commit, returned again by later calls
}

// Create starts an atomic report of format f at path. The directory must
// exist.
func Create(path string, f Format) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create report %s: %w", path, err)
	}
	rf := &File{path: path, tmp: tmp}
	if rf.w, err = NewWriter(tmp, f); err != nil {
		rf.Abort()
		return nil, fmt.Errorf("create report %s: %w", path, err)
	}
	return rf, nil
}

// Path is the path the report is committed to.
func (f *File) Path() string { return f.path }

// Write writes one record to the temporary file.
func (f *File) Write(r importer.Record) error {
	if f.done {
		return errClosed
	}
	if err := f.w.Write(r); err != nil {
		return fmt.Errorf("report %s: %w", f.path, err)
	}
	return nil
}

// Commit finishes the report and atomically replaces path with it. A second
// Commit returns the first one's result.
func (f *File) Commit() error {
	if f.done {
		return f.err
	}
	f.done = true
	f.err = f.commit()
	if f.err != nil {
		f.tmp.Close()
		os.Remove(f.tmp.Name())
	}
	return f.err
}

func (f *File) commit() error {
	if err := f.w.Close(); err != nil {
		return fmt.Errorf("report %s: %w", f.path, err)
	}
	// A new report gets the usual 0644 (CreateTemp makes 0600); one that
	// replaces an older report keeps that report's mode.
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(f.path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := f.tmp.Chmod(mode); err != nil {
		return fmt.Errorf("report %s: %w", f.path, err)
	}
	if err := f.tmp.Sync(); err != nil {
		return fmt.Errorf("sync report %s: %w", f.path, err)
	}
	if err := f.tmp.Close(); err != nil {
		return fmt.Errorf("close report %s: %w", f.path, err)
	}
	if err := os.Rename(f.tmp.Name(), f.path); err != nil {
		return fmt.Errorf("commit report %s: %w", f.path, err)
	}
	// Make the rename itself durable. Some systems cannot sync a directory;
	// the report is in place either way.
	if d, err := os.Open(filepath.Dir(f.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Close commits the report; see Commit.
func (f *File) Close() error { return f.Commit() }

// Abort discards the report: the temporary file is removed and path is left
// as it was. After Commit it does nothing.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.err = errAborted
	cerr := f.tmp.Close()
	if err := os.Remove(f.tmp.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort report %s: %w", f.path, err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("abort report %s: %w", f.path, cerr)
	}
	return nil
}

// errAborted is returned by Commit after Abort.
var errAborted = errors.New("report aborted")
