// Package inbox is the nightly folder: `m7import inbox DIR` imports every
// lead file dropped into DIR exactly once, oldest first, moves each to
// done/ or failed/ with its report, and says what happened in one line per
// file (DIR/summary.jsonl) and one exit status. It is a front end of the
// one import engine (package job), like the command line and the web
// server, and records into the same user history.
//
// # What lives where
//
//	DIR/                 files waiting to be imported (and those waiting to be retried)
//	DIR/done/            imported files (exit 0 or 3) and copies, each with
//	                     NAME.results.csv, its .meta.json and .journal, and NAME.attention.csv
//	DIR/failed/          files whose content cannot be imported, with whatever report was written
//	DIR/summary.jsonl    one line per file and pass: every `import --json` key plus
//	                     sha256, state, moved_to and copy_of
//	DIR/.m7import/       ledger.db, inbox.lock, config.json (optional) and
//	                     work/<sha256>/<task>/: the report and journal of a file
//	                     being imported, keyed by content so a renamed file finds them
//
// # The ledger
//
// The ledger is SQLite (the pure-Go modernc.org/sqlite, as the history) in
// WAL mode with synchronous=FULL, keyed by (content SHA-256, task id). It
// was chosen over JSON lines because the inbox asks it questions ("was this
// content imported into this task? is an import of it pending?") and
// updates an entry as the file moves on; with JSON lines that is a scan and
// an append-only log whose last line a crash may cut, to be repaired on
// read. SQLite commits atomically: a process killed mid-write leaves an
// uncommitted WAL tail that the next open ignores, so the ledger is always
// the state after its last commit, and with synchronous=FULL a commit that
// returned survives a power loss too. Several processes may open it (the
// web server may read it) while the inbox lock keeps writers to one.
//
// Every step is ordered so that a crash between two of them is finished by
// the next pass: the ledger records a file's outcome and destination
// first, then the files move, then summary.jsonl gets its line. A file
// found in DIR whose ledger entry is final and whose work folder still
// exists is moved on from the ledger's record, not imported again; a file
// whose entry is pending resumes through its journal (nothing sent twice).
//
// SQLite's locking (and the inbox's flock) need local storage or storage
// with working POSIX locks: keep DIR off SMB/NFS mounts without them.
package inbox
