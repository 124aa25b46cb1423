package reports

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/m7import/m7import/importer"
)

// Sentinels for a report path that cannot take a report, wrapped by a
// *PathError from Create and CreateAttention. They are found before
// anything is sent, because a run creates its report first.
var (
	// ErrPathIsFolder: the path names an existing folder.
	ErrPathIsFolder = errors.New("path is a folder")
	// ErrNoFolder: the path's folder does not exist (or is not a folder).
	ErrNoFolder = errors.New("folder does not exist")
	// ErrFolderNotWritable: no file can be created in the path's folder.
	ErrFolderNotWritable = errors.New("folder is not writable")
)

// ErrReportNotWritten is wrapped by every error that means the report (or
// attention file) could not be written to its path: a write, flush, sync or
// rename that failed, for a full disk or any other reason. The path then
// holds what it held before, and no temporary file is left once the caller
// has called Abort (Commit removes it itself when it fails).
var ErrReportNotWritten = errors.New("report not written")

// PathError is a report path that cannot take a report. Err is one of
// ErrPathIsFolder, ErrNoFolder or ErrFolderNotWritable, wrapping the
// operating system's error where there is one.
type PathError struct {
	// What names the path in the message: "report" or "attention file" as
	// Create and CreateAttention make it. A front end may set it to the
	// option that named the path ("--report") so that the message says
	// which option to change.
	What string
	// Path is the path as given; Folder is its folder.
	Path, Folder string
	Err          error
}

func (e *PathError) Error() string {
	another := "path" // "choose another path", or "choose another --report"
	if strings.HasPrefix(e.What, "-") {
		another = e.What
	}
	switch {
	case errors.Is(e.Err, ErrPathIsFolder):
		return fmt.Sprintf("%s %s is a folder: name a file", e.What, e.Path)
	case errors.Is(e.Err, ErrNoFolder) && errors.Is(e.Err, syscall.ENOTDIR):
		return fmt.Sprintf("folder %s of %s %s is a file: choose another %s", e.Folder, e.What, e.Path, another)
	case errors.Is(e.Err, ErrNoFolder):
		return fmt.Sprintf("folder %s does not exist: create it or choose another %s", e.Folder, another)
	case errors.Is(e.Err, ErrFolderNotWritable):
		why := "not writable"
		if pe := (*fs.PathError)(nil); errors.As(e.Err, &pe) {
			why = pe.Err.Error()
		}
		return fmt.Sprintf("cannot write %s %s in folder %s (%s): choose another %s or make the folder writable", e.What, e.Path, e.Folder, why, another)
	}
	return fmt.Sprintf("%s %s: %v", e.What, e.Path, e.Err)
}

// Unwrap returns Err.
func (e *PathError) Unwrap() error { return e.Err }

// target is a file being written to a path atomically: rows go to a
// temporary file in the same folder, renamed onto the path on commit. It is
// shared by the results report (File) and the attention file.
type target struct {
	what string // "report", "attention file": for messages
	path string
	tmp  *os.File
}

// maxTempTries bounds the search for an unused temporary name.
const maxTempTries = 100

// createTarget checks that path can take a file and creates the temporary
// file beside it, with mode 0644 filtered by the process umask (as
// os.Create would), not CreateTemp's 0600: a report follows the umask
// like the journal and meta (umask 077 → 0600).
func createTarget(path, what string) (*target, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	dir = filepath.Clean(dir)
	pathErr := func(err error) error { return &PathError{What: what, Path: path, Folder: dir, Err: err} }
	if base == "" {
		return nil, pathErr(ErrPathIsFolder)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, pathErr(ErrPathIsFolder)
	}
	if fi, err := os.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, pathErr(fmt.Errorf("%w: %w", ErrNoFolder, err))
		}
		return nil, pathErr(err)
	} else if !fi.IsDir() {
		return nil, pathErr(fmt.Errorf("%w: %w", ErrNoFolder, syscall.ENOTDIR))
	}
	for range maxTempTries {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			return nil, pathErr(fmt.Errorf("%w: %w", ErrFolderNotWritable, err))
		}
		if err != nil {
			return nil, pathErr(err)
		}
		return &target{what: what, path: path, tmp: f}, nil
	}
	return nil, pathErr(fmt.Errorf("no unused temporary name after %d tries", maxTempTries))
}

// notWritten wraps err as a failure to write the target.
func (t *target) notWritten(op string, err error) error {
	return fmt.Errorf("%w: %s %s %s: %w", ErrReportNotWritten, op, t.what, t.path, err)
}

// commit makes the temporary file durable and renames it onto the path. On
// failure the temporary file is removed and the path keeps what it held.
func (t *target) commit() error {
	err := t.install()
	if err != nil {
		t.tmp.Close()
		os.Remove(t.tmp.Name())
	}
	return err
}

func (t *target) install() error {
	// A file that replaces an older one never gets wider permissions than it
	// (a report the user made private stays private); otherwise the mode is
	// the umask's.
	if old, err := os.Stat(t.path); err == nil && old.Mode().IsRegular() {
		if cur, err := t.tmp.Stat(); err == nil {
			if mode := cur.Mode().Perm() & old.Mode().Perm(); mode != cur.Mode().Perm() {
				if err := t.tmp.Chmod(mode); err != nil {
					return t.notWritten("chmod", err)
				}
			}
		}
	}
	if err := t.tmp.Sync(); err != nil {
		return t.notWritten("sync", err)
	}
	if err := t.tmp.Close(); err != nil {
		return t.notWritten("close", err)
	}
	if err := os.Rename(t.tmp.Name(), t.path); err != nil {
		return t.notWritten("rename", err)
	}
	// Make the rename itself durable. Some systems cannot sync a directory;
	// the file is in place either way.
	if d, err := os.Open(filepath.Dir(t.path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// abort removes the temporary file.
func (t *target) abort() error {
	cerr := t.tmp.Close()
	if err := os.Remove(t.tmp.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort %s %s: %w", t.what, t.path, err)
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return fmt.Errorf("abort %s %s: %w", t.what, t.path, cerr)
	}
	return nil
}

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
	t    *target
	w    Writer
	done bool
	err  error // the outcome of Commit, returned again by later calls
}

// Create starts an atomic report of format f at path. It is meant to be
// called before anything is sent: it fails at once, with a *PathError, when
// path is a folder, its folder does not exist or is not writable, and it
// creates the temporary file, so a report that cannot be written is found
// before the first call. The report's mode is 0644 filtered by the umask.
func Create(path string, f Format) (*File, error) {
	return CreateWith(path, f, Options{})
}

// CreateWith is Create with options: CreateWith(path, f,
// Options{Translate: i18n.Reasons(lang)}) writes the reasons in lang.
func CreateWith(path string, f Format, o Options) (*File, error) {
	if _, err := NewWriter(discard{}, f); err != nil {
		return nil, fmt.Errorf("create report %s: %w", path, err)
	}
	t, err := createTarget(path, "report")
	if err != nil {
		return nil, err
	}
	rf := &File{t: t}
	if rf.w, err = NewWriterWith(t.tmp, f, o); err != nil {
		rf.Abort()
		return nil, fmt.Errorf("create report %s: %w", path, err)
	}
	return rf, nil
}

// discard is an io.Writer that keeps nothing, for checking a format.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Path is the path the report is committed to.
func (f *File) Path() string { return f.t.path }

// Write writes one record to the temporary file. An error wraps
// ErrReportNotWritten.
func (f *File) Write(r importer.Record) error {
	if f.done {
		return errClosed
	}
	if err := f.w.Write(r); err != nil {
		return f.t.notWritten("write", err)
	}
	return nil
}

// Commit finishes the report and atomically replaces path with it. A second
// Commit returns the first one's result. An error wraps ErrReportNotWritten
// (after Abort, errAborted); the temporary file is gone either way.
func (f *File) Commit() error {
	if f.done {
		return f.err
	}
	f.done = true
	if err := f.w.Close(); err != nil {
		f.t.abort()
		f.err = f.t.notWritten("write", err)
		return f.err
	}
	f.err = f.t.commit()
	return f.err
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
	return f.t.abort()
}

// errAborted is returned by Commit after Abort.
var errAborted = errors.New("report aborted")

// RemoveStale deletes the hidden temporary files an earlier, killed run
// left beside this report's path (".NAME.tmp-*"), keeping this File's own.
// Call it only while holding what keeps other runs off the same report
// (the journal's lock). It returns how many it removed.
func (f *File) RemoveStale() (int, error) {
	dir, base := filepath.Dir(f.t.path), filepath.Base(f.t.path)
	matches, err := filepath.Glob(filepath.Join(dir, "."+globEscape(base)+".tmp-*"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, m := range matches {
		if m == f.t.tmp.Name() {
			continue
		}
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("remove stale temporary file %s: %w", m, err)
		}
		n++
	}
	return n, nil
}

// globEscape quotes the pattern characters of a file name.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
