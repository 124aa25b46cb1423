package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations returns the schema steps in order; step i brings the database
// to version i+1. Append new steps; never edit one that has shipped.
func migrations() []string {
	return []string{
		// 1: the imports table.
		`CREATE TABLE imports (
			id INTEGER PRIMARY KEY AUTOINCREMENT,
			kind TEXT NOT NULL DEFAULT 'import',
			state TEXT NOT NULL CHECK (state IN ('running', 'done', 'failed', 'cancelled')),
			file TEXT NOT NULL,
			file_name TEXT NOT NULL,
			sha256 TEXT NOT NULL,
			task_id TEXT NOT NULL,
			task_name TEXT NOT NULL DEFAULT '',
			rule INTEGER NOT NULL,
			app_key TEXT NOT NULL DEFAULT '',
			report TEXT NOT NULL DEFAULT '',
			meta TEXT NOT NULL DEFAULT '',
			journal TEXT NOT NULL DEFAULT '',
			attention TEXT NOT NULL DEFAULT '',
			rows INTEGER NOT NULL DEFAULT 0,
			valid INTEGER NOT NULL DEFAULT 0,
			imported INTEGER NOT NULL DEFAULT 0,
			invalid INTEGER NOT NULL DEFAULT 0,
			duplicate INTEGER NOT NULL DEFAULT 0,
			failed INTEGER NOT NULL DEFAULT 0,
			unconfirmed INTEGER NOT NULL DEFAULT 0,
			skipped INTEGER NOT NULL DEFAULT 0,
			number_total_before INTEGER,
			number_total_after INTEGER,
			exit_code INTEGER NOT NULL DEFAULT 0,
			error TEXT NOT NULL DEFAULT '',
			source TEXT NOT NULL DEFAULT '',
			started_at TEXT NOT NULL,
			finished_at TEXT,
			summary TEXT
		);
		CREATE INDEX imports_by_content ON imports (sha256, task_id);
		CREATE INDEX imports_by_report ON imports (report);
		CREATE INDEX imports_by_start ON imports (started_at, id);
		CREATE INDEX imports_by_task ON imports (task_id, started_at);`,
		// 2: when an import was taken back, and how many numbers that deleted.
		`ALTER TABLE imports ADD COLUMN rolled_back_at TEXT;
		ALTER TABLE imports ADD COLUMN rolled_back_deleted INTEGER NOT NULL DEFAULT 0;`,
	}
}

// migrate brings the schema to the newest version in one transaction (BEGIN
// IMMEDIATE, so two processes opening a new database take turns).
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
	)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	steps := migrations()
	if have > len(steps) {
		return fmt.Errorf("the history was written by a newer m7import (schema version %d; this one knows %d): upgrade m7import", have, len(steps))
	}
	for v := have + 1; v <= len(steps); v++ {
		if _, err := tx.ExecContext(ctx, steps[v-1]); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (?)", v); err != nil {
			return fmt.Errorf("migrate to schema version %d: %w", v, err)
		}
	}
	return tx.Commit()
}
