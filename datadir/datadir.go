package datadir

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
)

// EnvVar names the environment variable that chooses the data directory
// when no --data-dir flag is given.
const EnvVar = "M7_DATA_DIR"

// ErrNotWritable means the data directory could not be created or written.
// Resolve wraps it with the folder's path, where the path came from and what
// to do; callers map it to exit status 1.
var ErrNotWritable = errors.New("data directory is not writable")

// Resolve returns the absolute path of the data directory, creating it
// (mode 0700) when it is missing, and checks that a file can be created in
// it. The first of these that is set wins:
//
//  1. flagValue, the --data-dir flag;
//  2. $M7_DATA_DIR;
//  3. $XDG_DATA_HOME/m7import (only when XDG_DATA_HOME is absolute, as the
//     XDG Base Directory specification requires);
//  4. $HOME/.local/share/m7import.
//
// getenv is os.Getenv in production and a map lookup in tests.
func Resolve(getenv func(string) string, flagValue string) (string, error) {
	dir, from, err := choose(getenv, flagValue, accountHome)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", notWritable(dir, from, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return "", notWritable(abs, from, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", notWritable(abs, from, err)
	}
	if !st.IsDir() {
		return "", notWritable(abs, from, errors.New("not a directory"))
	}
	// Permission bits alone do not tell: a read-only mount, ACLs or root's
	// override all decide. Creating a file is the question that matters.
	f, err := os.CreateTemp(abs, ".m7import-write-check-*")
	if err != nil {
		return "", notWritable(abs, from, err)
	}
	name := f.Name()
	cerr := f.Close()
	rerr := os.Remove(name)
	if err := errors.Join(cerr, rerr); err != nil {
		return "", notWritable(abs, from, err)
	}
	return abs, nil
}

// choose picks the configured folder and says where it came from, for
// error messages.
func choose(getenv func(string) string, flagValue string, home func() string) (dir, from string, err error) {
	if flagValue != "" {
		return flagValue, "--data-dir", nil
	}
	if v := getenv(EnvVar); v != "" {
		return v, EnvVar, nil
	}
	if v := getenv("XDG_DATA_HOME"); v != "" && filepath.IsAbs(v) {
		return filepath.Join(v, "m7import"), "XDG_DATA_HOME", nil
	}
	if v := getenv("HOME"); v != "" {
		return filepath.Join(v, ".local", "share", "m7import"), "HOME", nil
	}
	// A service started without HOME (a systemd unit without User=, some
	// containers) still has an account with a home directory.
	if v := home(); v != "" {
		return filepath.Join(v, ".local", "share", "m7import"), "the account's home directory", nil
	}
	return "", "", fmt.Errorf("%w: no data directory: neither HOME nor XDG_DATA_HOME is set; set %s or --data-dir to a writable folder",
		ErrNotWritable, EnvVar)
}

func notWritable(dir, from string, cause error) error {
	return fmt.Errorf("%w: %s (from %s): %v; set %s or --data-dir to a writable folder",
		ErrNotWritable, dir, from, cause, EnvVar)
}

// accountHome is the home directory of the account the process runs as,
// from the system's user database ("" when it has none).
func accountHome() string {
	u, err := user.Current()
	if err != nil || !filepath.IsAbs(u.HomeDir) {
		return ""
	}
	return u.HomeDir
}
