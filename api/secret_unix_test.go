//go:build unix

package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m7import/m7import/api"
)

// TestReadSecretFileRefusesSpecialFilesAtOnce: a FIFO must not block the
// read and /dev/zero must not be read without end.
func TestReadSecretFileRefusesSpecialFilesAtOnce(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	tests := []struct {
		name, path, kind string
	}{
		{"named pipe", fifo, "named pipe"},
		{"/dev/zero", "/dev/zero", "device"},
		{"/dev/null", "/dev/null", "device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Skipf("%s: %v", tt.path, err)
			}
			type result struct {
				s   string
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := api.ReadSecretFile(tt.path)
				done <- result{s, err}
			}()
			select {
			case r := <-done:
				if r.err == nil || !strings.Contains(r.err.Error(), tt.kind) || !strings.Contains(r.err.Error(), tt.path) {
					t.Errorf("ReadSecretFile(%s) = %q, %v; want an error naming the file as a %s", tt.path, r.s, r.err, tt.kind)
				}
			case <-time.After(10 * time.Second):
				if tt.path == fifo {
					// Unblock the reader so the test can end.
					if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
						w.Close()
					}
				}
				t.Fatalf("ReadSecretFile(%s) still reading after 10s", tt.path)
			}
		})
	}
}
