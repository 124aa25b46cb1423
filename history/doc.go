// Package history is the local record of every import on this machine,
// shared by `m7import import`, the web server and the inbox, which may have
// it open in several processes at once. It answers "what was imported, when,
// into which task, with which report" (m7import history, the web page's
// history, rollback by id) and "was this content already imported into this
// task" (the refusal by content hash; NOTES.md, "history store, per-task
// lock, attention file").
//
// The store is one SQLite database, history.db in the data directory, opened
// through the pure-Go driver modernc.org/sqlite (no cgo):
//
//   - WAL journal: readers never block the writer and several processes can
//     have the file open at once; writers take turns, waiting up to
//     sqlitedb.BusyTimeout for each other instead of failing with "database is locked".
//   - synchronous=FULL: every commit is fsynced, so an entry that Begin or
//     Finish reported as written survives a crash of the process and of the
//     machine. The cost, one fsync per commit and two commits per import
//     (about 5 ms per import, see BenchmarkBeginFinish), is nothing beside
//     an import; NORMAL would survive a process crash but could lose the
//     last commits on power loss, which an audit record should not.
//   - A process killed mid-write leaves an uncommitted tail in the WAL that
//     the next open ignores: the database is always the state after the last
//     commit.
//   - The schema carries its version in the schema_version table; Open
//     applies missing migrations in one transaction and refuses a database
//     written by a newer m7import.
//
// Times are stored as UTC text in RFC 3339 with nine fractional digits
// (2026-11-25T02:00:01.000000000Z): readable in the sqlite3 shell, sorted
// correctly as text, and exact to the nanosecond. They read back in UTC.
//
// SQLite's locking needs a local file system (or one with working POSIX
// locks and shared memory): keep the data directory off network shares.
package history
