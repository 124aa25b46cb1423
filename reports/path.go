package reports

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SidePath decides where a run's report goes: path when the user gave one
// (its format from formatName, else from its extension), else next to the
// input as NAME+suffix+".csv" (or formatName's extension).
func SidePath(input, path, formatName, suffix string) (string, Format, error) {
	var format Format
	if formatName != "" {
		f, err := ParseFormat(formatName)
		if err != nil {
			return "", "", fmt.Errorf("--report-format: %w", err)
		}
		format = f
	}
	if path == "" {
		if format == "" {
			format = CSV
		}
		return strings.TrimSuffix(input, filepath.Ext(input)) + suffix + "." + string(format), format, nil
	}
	if format == "" {
		f, err := FormatFromPath(path)
		if err != nil {
			return "", "", fmt.Errorf("--report %s: %w (or give --report-format)", path, err)
		}
		format = f
	}
	return path, format, nil
}

// SameFile reports whether a and b name the same file, through symbolic
// links in either path and hard links (os.SameFile) — so that a report
// path is never the input in disguise. A path that does not exist yet is
// compared by its resolved folder and name.
func SameFile(a, b string) bool {
	if ia, err := os.Stat(a); err == nil {
		if ib, err := os.Stat(b); err == nil {
			return os.SameFile(ia, ib)
		}
	}
	ra, rb := Canonical(a), Canonical(b)
	return ra != "" && ra == rb
}

// Canonical is p absolute with its symbolic links resolved (its folder's
// only, for a file that does not exist yet): the one form in which a path
// is compared (SameFile) and recorded (the import history), so that every
// front end names a file the same way before and after it is written. ""
// stays "".
func Canonical(p string) string {
	if p == "" {
		return ""
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return abs
	}
	return filepath.Join(dir, filepath.Base(abs))
}
