package inbox

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/m7import/m7import/internal/sqlitedb"
)

// LedgerFile is the ledger's file name inside DIR/.m7import.
const LedgerFile = "ledger.db"

// State is where a file taken by the inbox stands, as the ledger and
// summary.jsonl say it.
type State string

// The states of a file.
const (
	// StatePending: its import began and did not finish (killed, stopped,
	// or stopped by the network, the credentials or a held task lock);
	// the file is still in DIR and its import resumes on the next pass.
	StatePending State = "pending"
	// StateImported: imported (exit 0, or 3 with rows needing attention);
	// the file is in done/.
	StateImported State = "imported"
	// StateFailed: its content cannot be imported (unreadable, no number
	// column, refused by --max-invalid); the file is in failed/.
	StateFailed State = "failed"
	// StateCopy: the same content was already imported into the same task
	// under another name; the file is in done/ and was not imported again.
	StateCopy State = "copy"
)

// Entry is one file the inbox took, as the ledger records it. The key is
// (SHA256, TaskID): content, not name, decides whether a file is new.
type Entry struct {
	ID     int64  `json:"id"`
	SHA256 string `json:"sha256"`
	TaskID string `json:"task_id"`
	// Name is the file's name in DIR when it was taken.
	Name  string `json:"name"`
	State State  `json:"state"`
	// ExitCode is the file's import status (job.Code).
	ExitCode int `json:"exit_code"`
	// MovedTo is where the file went, relative to DIR ("" while in DIR).
	MovedTo string `json:"moved_to,omitempty"`
	// CopyOf, for a copy, names the earlier file with the same content.
	CopyOf string `json:"copy_of,omitempty"`
	Error  string `json:"error,omitempty"`
	// StartedAt and FinishedAt are when the inbox took the file and when
	// it was last decided about.
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Summary is the file's summary.jsonl line, kept so that a crash
	// between the ledger and the move can be finished from it.
	Summary json.RawMessage `json:"summary,omitempty"`
}

// Ledger is the inbox's record of the files it took, kept in the folder
// itself (DIR/.m7import/ledger.db) so that it travels with the folder and
// with whichever machine runs the inbox. It is SQLite in WAL mode with
// synchronous=FULL: a commit is on disk when it returns, and a process
// killed mid-write leaves a WAL tail that the next open ignores (see the
// package doc).
type Ledger struct {
	db   *sql.DB
	path string
}

const ledgerSchema = `
CREATE TABLE IF NOT EXISTS files (
	id          INTEGER PRIMARY KEY AUTOINCREMENT,
	sha256      TEXT NOT NULL,
	task_id     TEXT NOT NULL,
	name        TEXT NOT NULL,
	state       TEXT NOT NULL,
	exit_code   INTEGER NOT NULL DEFAULT 0,
	moved_to    TEXT NOT NULL DEFAULT '',
	copy_of     TEXT NOT NULL DEFAULT '',
	error       TEXT NOT NULL DEFAULT '',
	started_at  TEXT NOT NULL,
	finished_at TEXT NOT NULL DEFAULT '',
	summary     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS files_content ON files (sha256, task_id, state);
`

// OpenLedger opens (creating as needed) the ledger in dir, the folder's
// .m7import directory.
func OpenLedger(ctx context.Context, dir string) (*Ledger, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("inbox ledger: %w", err)
	}
	path := filepath.Join(dir, LedgerFile)
	db, err := sqlitedb.Open(ctx, path, 0o644)
	if err != nil {
		return nil, fmt.Errorf("inbox ledger %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, ledgerSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("inbox ledger %s: %w (the folder must be on local storage or storage with working locks)", path, err)
	}
	return &Ledger{db: db, path: path}, nil
}

// Path is the ledger's database file.
func (l *Ledger) Path() string { return l.path }

// Close closes the ledger; what was written stays written.
func (l *Ledger) Close() error { return l.db.Close() }

// Find returns the newest entry for this content and task in state st, and
// whether there is one.
func (l *Ledger) Find(ctx context.Context, sha, taskID string, st State) (Entry, bool, error) {
	rows, err := l.query(ctx, `WHERE sha256 = ? AND task_id = ? AND state = ? ORDER BY id DESC LIMIT 1`, sha, taskID, string(st))
	if err != nil || len(rows) == 0 {
		return Entry{}, false, err
	}
	return rows[0], true, nil
}

// List returns every entry, oldest first.
func (l *Ledger) List(ctx context.Context) ([]Entry, error) {
	return l.query(ctx, `ORDER BY id`)
}

// Add records a new entry and returns its id.
func (l *Ledger) Add(ctx context.Context, e Entry) (int64, error) {
	res, err := l.db.ExecContext(ctx, `INSERT INTO files
		(sha256, task_id, name, state, exit_code, moved_to, copy_of, error, started_at, finished_at, summary)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		e.SHA256, e.TaskID, e.Name, string(e.State), e.ExitCode, e.MovedTo, e.CopyOf, e.Error,
		formatTime(e.StartedAt), formatTime(e.FinishedAt), string(e.Summary))
	if err != nil {
		return 0, fmt.Errorf("inbox ledger: record %s: %w", e.Name, err)
	}
	return res.LastInsertId()
}

// Update rewrites entry id with e (its id aside).
func (l *Ledger) Update(ctx context.Context, id int64, e Entry) error {
	_, err := l.db.ExecContext(ctx, `UPDATE files SET sha256 = ?, task_id = ?, name = ?, state = ?, exit_code = ?,
		moved_to = ?, copy_of = ?, error = ?, started_at = ?, finished_at = ?, summary = ? WHERE id = ?`,
		e.SHA256, e.TaskID, e.Name, string(e.State), e.ExitCode, e.MovedTo, e.CopyOf, e.Error,
		formatTime(e.StartedAt), formatTime(e.FinishedAt), string(e.Summary), id)
	if err != nil {
		return fmt.Errorf("inbox ledger: record %s: %w", e.Name, err)
	}
	return nil
}

func (l *Ledger) query(ctx context.Context, where string, args ...any) ([]Entry, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, sha256, task_id, name, state, exit_code, moved_to, copy_of, error,
		started_at, finished_at, summary FROM files `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("inbox ledger: read: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e                 Entry
			state             string
			started, finished string
			summary           string
		)
		if err := rows.Scan(&e.ID, &e.SHA256, &e.TaskID, &e.Name, &state, &e.ExitCode, &e.MovedTo, &e.CopyOf, &e.Error,
			&started, &finished, &summary); err != nil {
			return nil, fmt.Errorf("inbox ledger: read: %w", err)
		}
		e.State = State(state)
		e.StartedAt, _ = parseTime(started)
		e.FinishedAt, _ = parseTime(finished)
		if summary != "" {
			e.Summary = json.RawMessage(summary)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox ledger: read: %w", err)
	}
	return out, nil
}

// timeLayout stores times as sortable UTC text, as the history does.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, errors.New("inbox ledger: bad time " + s)
	}
	return t, nil
}
