package api_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m7import/m7import/api"
)

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(write("target", testSecret+"\n"), link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		want    string
		wantErr []string // parts of the message
	}{
		{"plain", write("plain", testSecret), testSecret, nil},
		{"trailing newline and spaces", write("nl", "  "+testSecret+"\r\n"), testSecret, nil},
		{"byte order mark", write("bom", "\ufeff"+testSecret+"\n"), testSecret, nil},
		{"exactly the bound", write("bound", strings.Repeat("s", api.MaxSecretFileBytes)), strings.Repeat("s", api.MaxSecretFileBytes), nil},
		{"symlink to a regular file", link, testSecret, nil},
		{"missing", filepath.Join(dir, "nope"), "", []string{"nope", "no such file", "M7_SECRET"}},
		{"empty", write("empty", ""), "", []string{"empty", "is empty", "secret key"}},
		{"only whitespace", write("blank", " \n\t\n"), "", []string{"blank", "is empty"}},
		{"over the bound", write("big", strings.Repeat("s", api.MaxSecretFileBytes+1)), "", []string{"big", "4097 bytes", "right file"}},
		{"two lines", write("two", "a\nb\n"), "", []string{"two", "more than one line"}},
		{"a directory", dir, "", []string{dir, "a directory", "regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := api.ReadSecretFile(tt.path)
			if tt.wantErr == nil {
				if err != nil || got != tt.want {
					t.Fatalf("ReadSecretFile = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadSecretFile = %q, want an error", got)
			}
			if got != "" {
				t.Errorf("returned %q with the error", got)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not mention %q", err, part)
				}
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "sss") {
				t.Errorf("error shows the content: %q", err)
			}
		})
	}
}

func TestReadSecretFileMissingIsNotExist(t *testing.T) {
	_, err := api.ReadSecretFile(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want one that is fs.ErrNotExist", err)
	}
}
