package sqlitedb

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
)

// Many connections opening a new database at once all get it in WAL mode:
// none fails with "database is locked" while another switches the mode.
func TestOpenAtOnceIsNeverLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(context.Background(), path, 0o600)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			if _, err := db.Exec("CREATE TABLE IF NOT EXISTS t (x INTEGER)"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
