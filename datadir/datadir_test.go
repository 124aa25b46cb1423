package datadir_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m7import/m7import/datadir"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveOrderOfPrecedence(t *testing.T) {
	base := t.TempDir()
	flagDir := filepath.Join(base, "flag")
	envDir := filepath.Join(base, "env")
	xdg := filepath.Join(base, "xdg")
	home := filepath.Join(base, "home")
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"flag wins over everything", flagDir,
			map[string]string{"M7_DATA_DIR": envDir, "XDG_DATA_HOME": xdg, "HOME": home}, flagDir},
		{"M7_DATA_DIR wins over XDG and HOME", "",
			map[string]string{"M7_DATA_DIR": envDir, "XDG_DATA_HOME": xdg, "HOME": home}, envDir},
		{"XDG_DATA_HOME/m7import before HOME", "",
			map[string]string{"XDG_DATA_HOME": xdg, "HOME": home}, filepath.Join(xdg, "m7import")},
		{"relative XDG_DATA_HOME is ignored", "",
			map[string]string{"XDG_DATA_HOME": "rel/xdg", "HOME": home}, filepath.Join(home, ".local", "share", "m7import")},
		{"HOME/.local/share/m7import last", "",
			map[string]string{"HOME": home}, filepath.Join(home, ".local", "share", "m7import")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := datadir.Resolve(env(tt.env), tt.flag)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if got != tt.want {
				t.Fatalf("Resolve = %q, want %q", got, tt.want)
			}
			st, err := os.Stat(got)
			if err != nil {
				t.Fatalf("data directory not created: %v", err)
			}
			if !st.IsDir() {
				t.Fatalf("%s is not a directory", got)
			}
			if perm := st.Mode().Perm(); perm&0o077 != 0 {
				t.Errorf("created with mode %v, want 0700", perm)
			}
			left, _ := os.ReadDir(got)
			if len(left) != 0 {
				t.Errorf("write check left files behind: %v", left)
			}
		})
	}
}

func TestResolveRelativeFlagBecomesAbsolute(t *testing.T) {
	t.Chdir(t.TempDir())
	got, err := datadir.Resolve(env(nil), "data")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(got) || filepath.Base(got) != "data" {
		t.Fatalf("Resolve = %q, want an absolute path ending in data", got)
	}
}

func TestResolveKeepsExistingDirectory(t *testing.T) {
	dir := t.TempDir()
	keep := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := datadir.Resolve(env(map[string]string{"M7_DATA_DIR": dir}), "")
	if err != nil {
		t.Fatal(err)
	}
	if got != dir {
		t.Fatalf("Resolve = %q, want %q", got, dir)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Fatalf("existing content touched: %v", err)
	}
}

func TestResolveUnusableFolderNamesItAndSaysWhatToDo(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "a-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		flag string
		env  map[string]string
		path string // what the message must name
		from string
	}{
		{"flag under a regular file", filepath.Join(file, "sub"), nil, filepath.Join(file, "sub"), "--data-dir"},
		{"M7_DATA_DIR is a regular file", "", map[string]string{"M7_DATA_DIR": file}, file, "M7_DATA_DIR"},
		{"HOME under a regular file", "", map[string]string{"HOME": file},
			filepath.Join(file, ".local", "share", "m7import"), "HOME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := datadir.Resolve(env(tt.env), tt.flag)
			if err == nil {
				t.Fatal("Resolve succeeded, want an error")
			}
			if !errors.Is(err, datadir.ErrNotWritable) {
				t.Errorf("error %v does not wrap ErrNotWritable", err)
			}
			msg := err.Error()
			for _, want := range []string{tt.path, tt.from, "set M7_DATA_DIR or --data-dir to a writable folder"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestResolveReadOnlyFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	// Root (and CAP_DAC_OVERRIDE) writes through permission bits; the
	// "path under a regular file" cases above cover refusal there.
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		f.Close()
		os.Remove(f.Name())
		t.Skip("this user can write into a 0500 folder (running as root?): permission bits cannot make a folder read-only here")
	}
	_, err := datadir.Resolve(env(nil), dir)
	if !errors.Is(err, datadir.ErrNotWritable) {
		t.Fatalf("Resolve(read-only folder) error = %v, want ErrNotWritable", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name %s", err, dir)
	}
}
