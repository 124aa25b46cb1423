package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/m7import/m7import/internal/sqlitedb"
)

// FileName is the database's name inside the data directory.
const FileName = "history.db"

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so stored times
// sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// ErrNotFound means no history entry matches.
var ErrNotFound = errors.New("no such import in the history")

// State is where an import stands. The strings are what `history --json`
// and the web API show.
type State string

// The states of an import. A run that finished with some rows needing
// attention (exit 3) is StateDone with ExitCode 3.
const (
	StateRunning   State = "running"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Source is the front end that ran an import.
type Source string

// The front ends that record imports.
const (
	SourceCLI   Source = "cli"
	SourceWeb   Source = "web"
	SourceInbox Source = "inbox"
)

// KindImport is the one Kind recorded so far; the field leaves room for
// other runs (rollbacks) without a schema change.
const KindImport = "import"

// Entry is one import as the history records it. Paths are stored as given:
// record absolute paths so they mean the same to every front end.
type Entry struct {
	ID       int64  `json:"id"`
	Kind     string `json:"kind"`
	State    State  `json:"state"`
	File     string `json:"file"`      // the input, absolute path as given
	FileName string `json:"file_name"` // its base name (filled from File when empty)
	SHA256   string `json:"sha256"`    // of the input's bytes, lower-case hex
	TaskID   string `json:"task_id"`
	TaskName string `json:"task_name,omitempty"`
	Rule     int    `json:"rule"`
	AppKey   string `json:"app_key,omitempty"`

	Report    string `json:"report,omitempty"`
	Meta      string `json:"meta,omitempty"`
	Journal   string `json:"journal,omitempty"`
	Attention string `json:"attention,omitempty"`

	Rows        int `json:"rows"`
	Valid       int `json:"valid"`
	Imported    int `json:"imported"`
	Invalid     int `json:"invalid"`
	Duplicate   int `json:"duplicate"`
	Failed      int `json:"failed"`
	Unconfirmed int `json:"unconfirmed"`
	Skipped     int `json:"skipped"`

	// NumberTotalBefore and NumberTotalAfter are the task's numberTotal
	// read before and after the run; nil when not read.
	NumberTotalBefore *int `json:"number_total_before,omitempty"`
	NumberTotalAfter  *int `json:"number_total_after,omitempty"`

	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
	Source   Source `json:"source,omitempty"`

	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"` // zero while running

	// Summary is the run's `import --json` line, kept whole so the web API
	// can return every key of it.
	Summary json.RawMessage `json:"summary,omitempty"`

	// RolledBackAt is when the import was taken back (zero: it was not),
	// and RolledBackDeleted how many numbers that deleted.
	RolledBackAt      time.Time `json:"rolled_back_at,omitzero"`
	RolledBackDeleted int       `json:"rolled_back_deleted,omitempty"`
}

// Paths are the files that belong to an import, as UpdatePaths sets them.
type Paths struct {
	Report, Meta, Journal, Attention string
}

// ListOptions choose which entries List returns. Zero values mean "all".
type ListOptions struct {
	Limit  int    // at most this many (0: no limit)
	Offset int    // skip this many of the newest first
	TaskID string // only imports into this task
	State  State  // only imports in this state (e.g. StateRunning after a restart)
}

// Store is an open history. It is safe for concurrent use, and several
// Stores (in one process or many) may have the same database open.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens dir/history.db, creating the folder (0700), the database
// (0600) and its tables as needed, and brings the schema up to date.
func Open(ctx context.Context, dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open history: %w; set M7_DATA_DIR or --data-dir to a writable folder", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := sqlitedb.Open(ctx, path, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open history %s: %w; set M7_DATA_DIR or --data-dir to a writable folder on local storage", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.init(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open history %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error { return migrate(ctx, s.db) }

// Path returns the database file's path.
func (s *Store) Path() string { return s.path }

// Close closes the database. Entries already written stay written.
func (s *Store) Close() error { return s.db.Close() }

// Begin records the start of an import and returns its id. The entry's
// State is set to running; File, SHA256, TaskID and StartedAt are required.
func (s *Store) Begin(ctx context.Context, e Entry) (int64, error) {
	switch {
	case e.File == "":
		return 0, errors.New("history: begin: entry has no file")
	case e.SHA256 == "":
		return 0, fmt.Errorf("history: begin %s: entry has no content hash", e.File)
	case e.TaskID == "":
		return 0, fmt.Errorf("history: begin %s: entry has no task id", e.File)
	case e.StartedAt.IsZero():
		return 0, fmt.Errorf("history: begin %s: entry has no start time", e.File)
	}
	if e.Kind == "" {
		e.Kind = KindImport
	}
	if e.FileName == "" {
		e.FileName = filepath.Base(e.File)
	}
	summary, err := summaryText(e.Summary)
	if err != nil {
		return 0, fmt.Errorf("history: begin %s: %w", e.File, err)
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO imports (
		kind, state, file, file_name, sha256, task_id, task_name, rule, app_key,
		report, meta, journal, attention,
		rows, valid, imported, invalid, duplicate, failed, unconfirmed, skipped,
		number_total_before, number_total_after, exit_code, error, source,
		started_at, finished_at, summary
	) VALUES (?,?,?,?,?,?,?,?,?, ?,?,?,?, ?,?,?,?,?,?,?,?, ?,?,?,?,?, ?,NULL,?)`,
		e.Kind, StateRunning, e.File, e.FileName, e.SHA256, e.TaskID, e.TaskName, e.Rule, e.AppKey,
		e.Report, e.Meta, e.Journal, e.Attention,
		e.Rows, e.Valid, e.Imported, e.Invalid, e.Duplicate, e.Failed, e.Unconfirmed, e.Skipped,
		nullInt(e.NumberTotalBefore), nullInt(e.NumberTotalAfter), e.ExitCode, e.Error, string(e.Source),
		formatTime(e.StartedAt), summary)
	if err != nil {
		return 0, fmt.Errorf("history: record the start of %s: %w", e.File, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("history: record the start of %s: %w", e.File, err)
	}
	return id, nil
}

// Finish records how import id ended: its final State (done, failed or
// cancelled), counts, numberTotal before and after, exit code, error,
// summary and FinishedAt (required). A path, NumberTotalBefore or Summary
// left empty in e keeps what Begin recorded; the file, hash and task are
// never changed.
func (s *Store) Finish(ctx context.Context, id int64, e Entry) error {
	switch e.State {
	case StateDone, StateFailed, StateCancelled:
	default:
		return fmt.Errorf("history: finish import #%d: state %q is not a final state", id, e.State)
	}
	if e.FinishedAt.IsZero() {
		return fmt.Errorf("history: finish import #%d: no finish time", id)
	}
	summary, err := summaryText(e.Summary)
	if err != nil {
		return fmt.Errorf("history: finish import #%d: %w", id, err)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE imports SET
		state = ?,
		report = COALESCE(NULLIF(?, ''), report),
		meta = COALESCE(NULLIF(?, ''), meta),
		journal = COALESCE(NULLIF(?, ''), journal),
		attention = COALESCE(NULLIF(?, ''), attention),
		rows = ?, valid = ?, imported = ?, invalid = ?, duplicate = ?, failed = ?, unconfirmed = ?, skipped = ?,
		number_total_before = COALESCE(?, number_total_before),
		number_total_after = ?,
		exit_code = ?, error = ?, finished_at = ?, summary = COALESCE(?, summary)
		WHERE id = ?`,
		e.State, e.Report, e.Meta, e.Journal, e.Attention,
		e.Rows, e.Valid, e.Imported, e.Invalid, e.Duplicate, e.Failed, e.Unconfirmed, e.Skipped,
		nullInt(e.NumberTotalBefore), nullInt(e.NumberTotalAfter),
		e.ExitCode, e.Error, formatTime(e.FinishedAt), summary, id)
	if err != nil {
		return fmt.Errorf("history: record the end of import #%d: %w", id, err)
	}
	return mustAffect(res, id)
}

// MarkRolledBack records that import id was taken back at at, deleting
// deleted numbers.
func (s *Store) MarkRolledBack(ctx context.Context, id int64, deleted int, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE imports SET rolled_back_at = ?, rolled_back_deleted = ? WHERE id = ?`,
		formatTime(at), deleted, id)
	if err != nil {
		return fmt.Errorf("history: record the rollback of import #%d: %w", id, err)
	}
	return mustAffect(res, id)
}

// UpdatePaths replaces the paths recorded for import id, e.g. when a new run
// renames an earlier report, meta and journal aside. Every field of p is
// written, an empty one as "none".
func (s *Store) UpdatePaths(ctx context.Context, id int64, p Paths) error {
	res, err := s.db.ExecContext(ctx,
		`UPDATE imports SET report = ?, meta = ?, journal = ?, attention = ? WHERE id = ?`,
		p.Report, p.Meta, p.Journal, p.Attention, id)
	if err != nil {
		return fmt.Errorf("history: update the paths of import #%d: %w", id, err)
	}
	return mustAffect(res, id)
}

// Get returns import id, or an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (Entry, error) {
	es, err := s.query(ctx, "WHERE id = ?", id)
	if err != nil {
		return Entry{}, fmt.Errorf("history: read import #%d: %w", id, err)
	}
	if len(es) == 0 {
		return Entry{}, fmt.Errorf("history: import #%d: %w", id, ErrNotFound)
	}
	return es[0], nil
}

// List returns entries newest first (by start time, then id).
func (s *Store) List(ctx context.Context, o ListOptions) ([]Entry, error) {
	var (
		where []string
		args  []any
	)
	if o.TaskID != "" {
		where = append(where, "task_id = ?")
		args = append(args, o.TaskID)
	}
	if o.State != "" {
		where = append(where, "state = ?")
		args = append(args, o.State)
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	limit := -1 // SQLite: no limit
	if o.Limit > 0 {
		limit = o.Limit
	}
	clause += " ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
	args = append(args, limit, max(o.Offset, 0))
	es, err := s.query(ctx, clause, args...)
	if err != nil {
		return nil, fmt.Errorf("history: list imports: %w", err)
	}
	return es, nil
}

// ImportedContent returns the earlier imports of this content (by SHA-256)
// into this task that may have put rows on the server: those that imported
// at least one row, those with rows whose fate is unknown (unconfirmed), and
// those still running (or killed before they could finish). Newest first.
// The caller refuses (rule 2) or warns (rules 0 and 1), naming the first.
func (s *Store) ImportedContent(ctx context.Context, sha256, taskID string) ([]Entry, error) {
	es, err := s.query(ctx, `WHERE sha256 = ? AND task_id = ?
		AND (imported > 0 OR unconfirmed > 0 OR state = ?)
		ORDER BY started_at DESC, id DESC`, sha256, taskID, StateRunning)
	if err != nil {
		return nil, fmt.Errorf("history: look up earlier imports into task %s: %w", taskID, err)
	}
	return es, nil
}

// ByReport returns the newest import whose report is reportPath (compared
// as given), or an error wrapping ErrNotFound. rollback uses it to find the
// entry a report belongs to.
func (s *Store) ByReport(ctx context.Context, reportPath string) (Entry, error) {
	es, err := s.query(ctx, "WHERE report = ? ORDER BY id DESC LIMIT 1", reportPath)
	if err != nil {
		return Entry{}, fmt.Errorf("history: look up report %s: %w", reportPath, err)
	}
	if len(es) == 0 {
		return Entry{}, fmt.Errorf("history: report %s: %w", reportPath, ErrNotFound)
	}
	return es[0], nil
}

const columns = `id, kind, state, file, file_name, sha256, task_id, task_name, rule, app_key,
	report, meta, journal, attention,
	rows, valid, imported, invalid, duplicate, failed, unconfirmed, skipped,
	number_total_before, number_total_after, exit_code, error, source,
	started_at, finished_at, summary, rolled_back_at, rolled_back_deleted`

func (s *Store) query(ctx context.Context, clause string, args ...any) ([]Entry, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT "+columns+" FROM imports "+clause, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var (
			e                 Entry
			before, after     sql.NullInt64
			started, finished sql.NullString
			summary, rolled   sql.NullString
		)
		if err := rows.Scan(&e.ID, &e.Kind, &e.State, &e.File, &e.FileName, &e.SHA256, &e.TaskID, &e.TaskName, &e.Rule, &e.AppKey,
			&e.Report, &e.Meta, &e.Journal, &e.Attention,
			&e.Rows, &e.Valid, &e.Imported, &e.Invalid, &e.Duplicate, &e.Failed, &e.Unconfirmed, &e.Skipped,
			&before, &after, &e.ExitCode, &e.Error, &e.Source,
			&started, &finished, &summary, &rolled, &e.RolledBackDeleted); err != nil {
			return nil, err
		}
		e.NumberTotalBefore = intPtr(before)
		e.NumberTotalAfter = intPtr(after)
		if e.StartedAt, err = parseTime(started); err != nil {
			return nil, fmt.Errorf("import #%d: started_at: %w", e.ID, err)
		}
		if e.FinishedAt, err = parseTime(finished); err != nil {
			return nil, fmt.Errorf("import #%d: finished_at: %w", e.ID, err)
		}
		if summary.Valid && summary.String != "" {
			e.Summary = json.RawMessage(summary.String)
		}
		if e.RolledBackAt, err = parseTime(rolled); err != nil {
			return nil, fmt.Errorf("import #%d: rolled_back_at: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func mustAffect(res sql.Result, id int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("history: import #%d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("history: import #%d: %w", id, ErrNotFound)
	}
	return nil
}

// summaryText checks the summary is JSON; nil means "none".
func summaryText(m json.RawMessage) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	if !json.Valid(m) {
		return nil, errors.New("summary is not valid JSON")
	}
	return string(m), nil
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid || s.String == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339Nano, s.String)
}

func nullInt(p *int) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}
