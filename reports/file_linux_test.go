//go:build linux

package reports

import (
	"errors"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFullDiskLeavesNoTempFile fills the "disk" by lowering the process's
// file size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so writes past it fail
// with EFBIG as they would with ENOSPC). It changes process-wide state: it
// must not run in parallel with anything.
func TestFullDiskLeavesNoTempFile(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	for _, f := range []Format{CSV, XLSX, JSONL} {
		t.Run(string(f), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "r."+string(f))
			if err := os.WriteFile(path, []byte("the previous report"), 0o644); err != nil {
				t.Fatal(err)
			}
			rf, err := Create(path, f)
			if err != nil {
				t.Fatal(err)
			}
			defer rf.Abort()

			signal.Ignore(syscall.SIGXFSZ)
			defer signal.Reset(syscall.SIGXFSZ)
			limit := syscall.Rlimit{Cur: 32 << 10, Max: old.Max}
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &limit); err != nil {
				t.Skipf("setrlimit: %v", err)
			}
			var werr error
			for i := 0; i < 20000 && werr == nil; i++ {
				r := sampleRecords()[i%len(sampleRecords())]
				r.Row = i + 2
				werr = rf.Write(r)
			}
			cerr := rf.Commit()
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
			err = werr
			if err == nil {
				err = cerr
			}
			if !errors.Is(err, ErrReportNotWritten) || !errors.Is(err, syscall.EFBIG) {
				t.Fatalf("write %v, commit %v: want ErrReportNotWritten wrapping EFBIG", werr, cerr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			if cerr == nil {
				t.Error("Commit succeeded after a failed write")
			}
			rf.Abort()
			assertDir(t, dir, []string{filepath.Base(path)})
			if got, _ := os.ReadFile(path); string(got) != "the previous report" {
				t.Errorf("path holds %q, want the previous report", got)
			}
		})
	}
}
