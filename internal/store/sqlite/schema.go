package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migrations are applied in order; the schema version is their count.
// Never edit a released migration: append a new one.
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE trigger_instances (
	id          TEXT PRIMARY KEY,
	trigger_ref TEXT NOT NULL,
	status      TEXT NOT NULL,
	occurred_at INTEGER NOT NULL,
	trace_tag   TEXT,
	expires_at  INTEGER,
	doc         BLOB NOT NULL
);
CREATE INDEX ti_time    ON trigger_instances (occurred_at, id);
CREATE INDEX ti_trigger ON trigger_instances (trigger_ref, occurred_at, id);
CREATE INDEX ti_trace   ON trigger_instances (trace_tag, occurred_at) WHERE trace_tag IS NOT NULL;
CREATE INDEX ti_expires ON trigger_instances (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE enforcements (
	id          TEXT PRIMARY KEY,
	rule        TEXT NOT NULL,
	enforced_at INTEGER NOT NULL,
	trace_tag   TEXT,
	expires_at  INTEGER,
	doc         BLOB NOT NULL
);
CREATE INDEX en_time    ON enforcements (enforced_at, id);
CREATE INDEX en_rule    ON enforcements (rule, enforced_at, id);
CREATE INDEX en_trace   ON enforcements (trace_tag, enforced_at) WHERE trace_tag IS NOT NULL;
CREATE INDEX en_expires ON enforcements (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE executions (
	id                  TEXT PRIMARY KEY,
	action              TEXT NOT NULL,
	status              TEXT NOT NULL,
	rule                TEXT,
	trigger_instance_id TEXT,
	parent_id           TEXT,
	trace_tag           TEXT,
	user_name           TEXT,
	started_at          INTEGER NOT NULL,
	expires_at          INTEGER,
	version             INTEGER NOT NULL,
	doc                 BLOB NOT NULL
);
CREATE INDEX ex_time          ON executions (started_at, id);
CREATE INDEX ex_action        ON executions (action, started_at, id);
CREATE INDEX ex_action_status ON executions (action, status, started_at, id);
CREATE INDEX ex_status        ON executions (status, started_at, id);
CREATE INDEX ex_rule    ON executions (rule, started_at, id) WHERE rule IS NOT NULL;
CREATE INDEX ex_trigger ON executions (trigger_instance_id, started_at, id) WHERE trigger_instance_id IS NOT NULL;
CREATE INDEX ex_parent  ON executions (parent_id, started_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX ex_trace   ON executions (trace_tag, started_at, id) WHERE trace_tag IS NOT NULL;
CREATE INDEX ex_user    ON executions (user_name, started_at, id) WHERE user_name IS NOT NULL;
CREATE INDEX ex_expires ON executions (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE execution_results (
	id     TEXT PRIMARY KEY,
	result BLOB NOT NULL
);

CREATE TABLE output (
	execution_id TEXT NOT NULL,
	seq          INTEGER NOT NULL,
	stream       TEXT NOT NULL,
	data         TEXT NOT NULL,
	at           INTEGER NOT NULL,
	expires_at   INTEGER,
	PRIMARY KEY (execution_id, seq)
) WITHOUT ROWID;
CREATE INDEX out_expires ON output (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE key_values (
	scope      TEXT NOT NULL,
	user_name  TEXT NOT NULL,
	name       TEXT NOT NULL,
	value      BLOB NOT NULL,
	secret     INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	expires_at INTEGER,
	PRIMARY KEY (scope, user_name, name)
) WITHOUT ROWID;
CREATE INDEX kv_expires ON key_values (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE inquiries (
	id         TEXT PRIMARY KEY,
	status     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	doc        BLOB NOT NULL
);
CREATE INDEX iq_time    ON inquiries (created_at, id);
CREATE INDEX iq_status  ON inquiries (status, created_at, id);
CREATE INDEX iq_expires ON inquiries (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE api_keys (
	id         TEXT PRIMARY KEY,
	key_hash   TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	doc        BLOB NOT NULL
);
CREATE INDEX ak_time ON api_keys (created_at, id);
`,
	// 2: workflow checkpoints, one per running workflow execution.
	`
CREATE TABLE checkpoints (
	execution_id TEXT PRIMARY KEY,
	version      INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	data         BLOB NOT NULL
);
`,
	// 3: the secret parameters of executions, sealed with the store's
	// cipher (store.SealSecrets), apart from the doc that reads return.
	`
CREATE TABLE execution_secrets (
	id     TEXT PRIMARY KEY,
	sealed BLOB NOT NULL
);
`,
}

// migrate brings the schema up to date in one IMMEDIATE transaction, so
// processes opening the file at once do not race.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&version)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
			return fmt.Errorf("migrating schema: %w", err)
		}
	case err != nil:
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this bwc (%d): upgrade bwc", version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("applying migration %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, len(migrations)); err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating schema: %w", err)
	}
	return nil
}
