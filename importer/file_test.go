package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// openWithin runs Open and fails the test if it does not return within d:
// opening a named pipe must never wait for a writer.
func openWithin(t *testing.T, d time.Duration, path string) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		r, err := Open(context.Background(), path, Options{})
		if r != nil {
			r.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Open(%s) still blocked after %v", path, d)
		return nil
	}
}

func TestNotRegularFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "leads.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(dir, "exports.csv")
	if err := os.Mkdir(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		want string
	}{
		{fifo, fifo + " is a named pipe: m7import reads regular files only; save it to a file first"},
		{folder, folder + " is a folder: give a .csv, .tsv, .txt or .xlsx file in it"},
		{dir, dir + " is a folder"},
		{".", ". is a folder"},
		{"/dev/null", "/dev/null is a character device"},
	} {
		err := openWithin(t, 5*time.Second, tt.path)
		if !errors.Is(err, ErrNotRegularFile) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s): err = %v, want %q", tt.path, err, tt.want)
		}
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestSHA256IsTheFilesHash(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{}
	for _, name := range []string{"leads-utf8.csv", "leads-gbk.csv", "leads-utf16le.txt", "leads.tsv", "leads-crm-export.txt"} {
		files[name] = textFixtures(t)[name]
	}
	for _, name := range []string{"leads.xlsx", "leads-instructions-first.xlsx"} {
		files[name] = xlsxFixtures(t)[name]
	}
	// Larger than the sample and the read-ahead, so that hashing spans
	// many reads.
	files["big.csv"] = []byte("姓名,电话\n" + strings.Repeat("张三,13800138000\n", 50000))
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			p := writeFixture(t, dir, name, data)
			r, err := Open(context.Background(), p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if _, err := r.SHA256(); err == nil {
				t.Error("SHA256 before the end: no error")
			}
			for {
				if _, err := r.Next(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			got, err := r.SHA256()
			if want := sha256File(t, p); err != nil || got != want {
				t.Errorf("SHA256() = %s, %v; want %s", got, err, want)
			}
		})
	}
}

func TestFileChangedWhileRead(t *testing.T) {
	var b strings.Builder
	b.WriteString("姓名,电话\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "张三,138%08d\n", i)
	}
	data := []byte(b.String())
	tests := []struct {
		name   string
		change func(t *testing.T, p string)
		want   string
	}{
		{"truncated", func(t *testing.T, p string) {
			if err := os.Truncate(p, 1000); err != nil {
				t.Fatal(err)
			}
		}, fmt.Sprintf("(size %d → 1000)", len(data))},
		{"appended", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("李四,13900139000\n")
			f.Close()
		}, fmt.Sprintf("(size %d → %d)", len(data), len(data)+len("李四,13900139000\n"))},
		{"rewritten in place", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("王"), 20)
			f.Close()
			later := time.Now().Add(2 * time.Second)
			os.Chtimes(p, later, later)
		}, "(modified "},
		{"replaced", func(t *testing.T, p string) {
			other := p + ".new"
			if err := os.WriteFile(other, data, 0o644); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(p)
			os.Chtimes(other, fi.ModTime(), fi.ModTime())
			if err := os.Rename(other, p); err != nil {
				t.Fatal(err)
			}
		}, "(the name now points to another file)"},
		{"removed", func(t *testing.T, p string) {
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		}, "(it was removed or renamed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFixture(t, t.TempDir(), "leads.csv", data)
			r, err := Open(context.Background(), p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for range 3 {
				if _, err := r.Next(); err != nil {
					t.Fatal(err)
				}
			}
			tt.change(t, p)
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
			}
			if !errors.Is(err, ErrFileChanged) || !strings.Contains(err.Error(), p+" changed while it was read "+tt.want) ||
				!strings.Contains(err.Error(), "wait until it is fully written, then run again") {
				t.Errorf("err = %v, want ErrFileChanged with %q", err, tt.want)
			}
			if _, err := r.SHA256(); err == nil {
				t.Error("SHA256 of a file that changed: no error")
			}
		})
	}
	t.Run("xlsx truncated", func(t *testing.T) {
		p := writeFixture(t, t.TempDir(), "leads.xlsx", xlsxFixtures(t)["leads.xlsx"])
		r, err := Open(context.Background(), p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		os.Truncate(p, 100)
		for err == nil {
			_, err = r.Next()
		}
		if !errors.Is(err, ErrFileChanged) {
			t.Errorf("err = %v", err)
		}
	})
}
