// Package sqlitedb opens the SQLite databases m7import keeps (the import
// history, the inbox ledger) the one way that lets several processes share
// them and survive a crash mid-write: the pure-Go driver modernc.org/sqlite
// in WAL mode, synchronous=FULL, a busy timeout, and transactions that
// take the write lock when they begin.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"modernc.org/sqlite" // the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// BusyTimeout is how long a writer waits for another instead of failing
// with "database is locked".
const BusyTimeout = 5 * time.Second

// Open opens (creating, with mode perm) the database at path. With WAL
// readers never block the writer and several processes keep it open; with
// synchronous=FULL a commit is on disk when it returns, and a process
// killed mid-write leaves only a WAL tail the next open ignores. A file
// system that cannot do WAL (some network shares) is refused, naming it.
func Open(ctx context.Context, path string, perm os.FileMode) (*sql.DB, error) {
	// Create the file ourselves so it gets perm (SQLite would use 0644);
	// its -wal and -shm files copy this mode. SQLite takes an empty file
	// as a new database.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, perm)
	if err != nil {
		return nil, err
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// BEGIN IMMEDIATE: a transaction takes the write lock at its start, where
	// busy_timeout applies, instead of failing when a read upgrades to a write.
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: path}).String() + "?" + q.Encode()
	// Two processes opening a new database at once can find it locked
	// while the other switches it to WAL, before any busy handler applies:
	// try again for as long as a writer would wait.
	deadline := time.Now().Add(BusyTimeout)
	for {
		db, err := openWAL(ctx, dsn, path)
		if err == nil || !busy(err) || time.Now().After(deadline) {
			return db, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func openWAL(ctx context.Context, dsn, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, err
	}
	if !strings.EqualFold(mode, "wal") {
		db.Close()
		return nil, fmt.Errorf("the file system does not support SQLite's WAL mode (journal_mode is %q): keep %s on local storage or storage with working locks", mode, path)
	}
	return db, nil
}

// busy reports whether err is SQLite's "database is locked" (SQLITE_BUSY,
// or one of its extended codes).
func busy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}
