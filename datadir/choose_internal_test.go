package datadir

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestChooseWithoutHOME(t *testing.T) {
	none := func(string) string { return "" }
	dir, from, err := choose(none, "", func() string { return "/srv/leads" })
	if err != nil || dir != filepath.Join("/srv/leads", ".local", "share", "m7import") || from != "the account's home directory" {
		t.Fatalf("got %q from %q, %v", dir, from, err)
	}
	if _, _, err := choose(none, "", func() string { return "" }); !errors.Is(err, ErrNotWritable) {
		t.Fatalf("no HOME and no account home: %v", err)
	}
}
