package reports

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// createBoth creates a results report and an attention file at path,
// committing them.
func commitBoth(t *testing.T, dir string) (report, attention string) {
	t.Helper()
	report, attention = filepath.Join(dir, "leads.results.csv"), filepath.Join(dir, "leads.attention.csv")
	rf, err := Create(report, CSV)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Abort()
	aw, err := CreateAttention(attention, CSV, []string{"姓名", "手机"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer aw.Abort()
	for _, r := range sampleRecords() {
		if err := rf.Write(r); err != nil {
			t.Fatal(err)
		}
		if err := aw.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := rf.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Commit(); err != nil {
		t.Fatal(err)
	}
	return report, attention
}

// TestReportModeFollowsUmask changes the process umask: it must not run in
// parallel with anything.
func TestReportModeFollowsUmask(t *testing.T) {
	for _, tc := range []struct {
		umask   int
		oldMode fs.FileMode // of a report replaced; 0: none
		want    fs.FileMode
	}{
		{0o022, 0, 0o644},
		{0o077, 0, 0o600},
		{0o027, 0, 0o640},
		{0o077, 0o644, 0o600}, // replacing a wider report does not widen
		{0o022, 0o600, 0o600}, // nor does it widen one the user made private
	} {
		dir := t.TempDir()
		if tc.oldMode != 0 {
			for _, name := range []string{"leads.results.csv", "leads.attention.csv"} {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(p, tc.oldMode); err != nil {
					t.Fatal(err)
				}
			}
		}
		old := syscall.Umask(tc.umask)
		report, attention := commitBoth(t, dir)
		syscall.Umask(old)
		for _, p := range []string{report, attention} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tc.want {
				t.Errorf("umask %03o, old mode %v: %s has mode %v, want %v", tc.umask, tc.oldMode, filepath.Base(p), fi.Mode().Perm(), tc.want)
			}
		}
		assertDir(t, dir, []string{"leads.attention.csv", "leads.results.csv"})
	}
}

func TestCreateRefusesUnusablePathsAtOnce(t *testing.T) {
	dir := t.TempDir()
	folder := filepath.Join(dir, "r.csv")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "plain")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       error
		msg        string
	}{
		{"a folder", folder, ErrPathIsFolder, "--report " + folder + " is a folder: name a file"},
		{"a folder, trailing slash", dir + "/", ErrPathIsFolder, "is a folder: name a file"},
		{"missing folder", filepath.Join(dir, "x", "y", "r.csv"), ErrNoFolder,
			"folder " + filepath.Join(dir, "x", "y") + " does not exist: create it or choose another --report"},
		{"folder is a file", filepath.Join(file, "r.csv"), ErrNoFolder, "folder " + file + " of --report " + filepath.Join(file, "r.csv") + " is a file: choose another --report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Create(tc.path, CSV)
			checkPathError(t, err, tc.want, tc.msg)
			_, err = CreateAttention(tc.path, XLSX, []string{"手机"}, 0)
			checkPathError(t, err, tc.want, "")
		})
	}
	assertDir(t, dir, []string{"plain", "r.csv"})
}

// checkPathError checks err is a *PathError wrapping want and, named as a
// front end names it, says msg.
func checkPathError(t *testing.T, err, want error, msg string) {
	t.Helper()
	var pe *PathError
	if !errors.As(err, &pe) || !errors.Is(err, want) {
		t.Fatalf("error %v, want a *PathError wrapping %v", err, want)
	}
	pe.What = "--report"
	if !strings.Contains(err.Error(), msg) {
		t.Errorf("error %q does not say %q", err, msg)
	}
}

func TestCreateRefusesUnwritableFolder(t *testing.T) {
	dir := t.TempDir()
	if os.Geteuid() == 0 {
		// Permissions do not stop root; sysfs refuses new files to anyone.
		dir = "/sys/kernel"
		if _, err := os.Stat(dir); err != nil {
			t.Skip("running as root without /sys: cannot make an unwritable folder")
		}
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
	}
	path := filepath.Join(dir, "r.csv")
	_, err := Create(path, CSV)
	checkPathError(t, err, ErrFolderNotWritable, "cannot write --report "+path+" in folder "+dir+" (permission denied): choose another --report")
}

func TestCommitRenameFailureLeavesNoTempFile(t *testing.T) {
	for _, f := range []Format{CSV, XLSX, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "r."+string(f))
			rf, err := Create(path, f)
			if err != nil {
				t.Fatal(err)
			}
			defer rf.Abort()
			for _, r := range sampleRecords() {
				if err := rf.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			// Someone makes the path a folder meanwhile: the rename fails.
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			err = rf.Commit()
			if !errors.Is(err, ErrReportNotWritten) {
				t.Fatalf("Commit: %v, want ErrReportNotWritten", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if err2 := rf.Commit(); err2 != err {
				t.Errorf("second Commit: %v, want the first's %v", err2, err)
			}
			assertDir(t, dir, []string{filepath.Base(path)})
		})
	}
}

func TestRemoveStaleKeepsItsOwnTempFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a[1].results.csv")
	stale := filepath.Join(dir, ".a[1].results.csv.tmp-old")
	other := filepath.Join(dir, ".b.results.csv.tmp-old")
	for _, p := range []string{stale, other} {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := Create(path, CSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if n, err := f.RemoveStale(); err != nil || n != 1 {
		t.Fatalf("removed %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the stale temp file is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("another report's temp file was removed: %v", err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".a*"))
	if len(left) != 0 {
		t.Fatalf("temp files left after commit: %v", left)
	}
}
