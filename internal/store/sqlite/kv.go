package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// PutKeyValue implements store.KeyValues.
func (d *DB) PutKeyValue(ctx context.Context, kv store.KeyValue) (store.KeyValue, error) {
	kv, err := store.PrepareKeyValue(kv, d.now())
	if err != nil {
		return kv, fmt.Errorf("putting key %s: %w", kv.KeyRef, err)
	}
	value, err := store.SealValue(ctx, d.opts.Cipher, kv)
	if err != nil {
		return kv, fmt.Errorf("putting key %s: %w", kv.KeyRef, err)
	}
	err = d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := d.stmts.exec(ctx, tx, `INSERT INTO key_values (scope, user_name, name, value, secret, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (scope, user_name, name) DO UPDATE SET value = excluded.value, secret = excluded.secret, updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
			kv.Scope, kv.User, kv.Name, value, kv.Secret, kv.UpdatedAt.UnixNano(), nanos(kv.ExpiresAt))
		return err
	})
	if err != nil {
		return kv, fmt.Errorf("putting key %s: %w", kv.KeyRef, err)
	}
	if kv.Secret {
		kv.Value = store.Masked
	}
	return kv, nil
}

func scanKV(ctx context.Context, c store.Cipher, scan func(...any) error, ref store.KeyRef, decrypt bool) (store.KeyValue, error) {
	kv := store.KeyValue{KeyRef: ref}
	var value []byte
	var updated int64
	var expires sql.NullInt64
	if err := scan(&kv.Name, &value, &kv.Secret, &updated, &expires); err != nil {
		return kv, err
	}
	kv.UpdatedAt = time.Unix(0, updated).UTC()
	if expires.Valid {
		kv.ExpiresAt = time.Unix(0, expires.Int64).UTC()
	}
	return store.OpenValue(ctx, c, kv, value, decrypt)
}

// GetKeyValue implements store.KeyValues.
func (d *DB) GetKeyValue(ctx context.Context, ref store.KeyRef, decrypt bool) (store.KeyValue, error) {
	if err := ref.Validate(); err != nil {
		return store.KeyValue{KeyRef: ref}, fmt.Errorf("getting key: %w", err)
	}
	row := d.stmts.queryRow(ctx, nil, `SELECT name, value, secret, updated_at, expires_at FROM key_values WHERE scope = ? AND user_name = ? AND name = ? AND `+live,
		ref.Scope, ref.User, ref.Name, d.now().UnixNano())
	kv, err := scanKV(ctx, d.opts.Cipher, row.Scan, ref, decrypt)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return kv, fmt.Errorf("getting key %s: %w", ref, err)
	}
	return kv, nil
}

// ListKeyValues implements store.KeyValues.
func (d *DB) ListKeyValues(ctx context.Context, q store.KeyValueQuery) (store.Page[store.KeyValue], error) {
	page := store.Page[store.KeyValue]{Items: []store.KeyValue{}}
	ref := store.KeyRef{Scope: q.Scope, User: q.User, Name: "-"}
	if err := ref.Validate(); err != nil {
		return page, fmt.Errorf("listing keys: %w", err)
	}
	limit := store.PageLimit(q.Limit)
	where := []string{"scope = ?", "user_name = ?", live}
	args := []any{q.Scope, q.User, d.now().UnixNano()}
	if q.Prefix != "" {
		where = append(where, "name >= ?")
		args = append(args, q.Prefix)
		if end, ok := store.PrefixEnd(q.Prefix); ok {
			where = append(where, "name < ?")
			args = append(args, end)
		}
	}
	if q.Token != "" {
		var c cursor
		if err := store.DecodeToken(q.Token, &c); err != nil {
			return page, fmt.Errorf("listing keys: %w", err)
		}
		where = append(where, "name > ?")
		args = append(args, c.ID)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT name, value, secret, updated_at, expires_at FROM key_values WHERE `+strings.Join(where, " AND ")+` ORDER BY name LIMIT ?`,
		append(args, limit+1)...)
	if err != nil {
		return page, fmt.Errorf("listing keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		if len(page.Items) == limit {
			tok, err := store.EncodeToken(cursor{ID: page.Items[limit-1].Name})
			if err != nil {
				return page, err
			}
			page.Next = tok
			break
		}
		kv, err := scanKV(ctx, d.opts.Cipher, rows.Scan, store.KeyRef{Scope: q.Scope, User: q.User}, q.Decrypt)
		if err != nil {
			return page, fmt.Errorf("listing keys: %w", err)
		}
		page.Items = append(page.Items, kv)
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("listing keys: %w", err)
	}
	return page, nil
}

// DeleteKeyValue implements store.KeyValues.
func (d *DB) DeleteKeyValue(ctx context.Context, ref store.KeyRef) error {
	now := d.now().UnixNano()
	err := d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := d.stmts.exec(ctx, tx, `DELETE FROM key_values WHERE scope = ? AND user_name = ? AND name = ? AND `+live,
			ref.Scope, ref.User, ref.Name, now)
		if err != nil {
			return err
		}
		return affected(res)
	})
	if err != nil {
		return fmt.Errorf("deleting key %s: %w", ref, err)
	}
	return nil
}

// purges lists, per record type, the statements that delete one batch of
// expired rows; the last one's count is the batch size.
var purges = [][]string{
	{
		`DELETE FROM execution_results WHERE id IN (SELECT id FROM executions WHERE expires_at <= ?1 ORDER BY expires_at, id LIMIT ?2)`,
		`DELETE FROM execution_secrets WHERE id IN (SELECT id FROM executions WHERE expires_at <= ?1 ORDER BY expires_at, id LIMIT ?2)`,
		`DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE expires_at <= ?1 ORDER BY expires_at, id LIMIT ?2)`,
	},
	{`DELETE FROM output WHERE (execution_id, seq) IN (SELECT execution_id, seq FROM output WHERE expires_at <= ?1 LIMIT ?2)`},
	{`DELETE FROM trigger_instances WHERE id IN (SELECT id FROM trigger_instances WHERE expires_at <= ?1 LIMIT ?2)`},
	{`DELETE FROM enforcements WHERE id IN (SELECT id FROM enforcements WHERE expires_at <= ?1 LIMIT ?2)`},
	{`DELETE FROM inquiries WHERE id IN (SELECT id FROM inquiries WHERE expires_at <= ?1 LIMIT ?2)`},
	{`DELETE FROM key_values WHERE (scope, user_name, name) IN (SELECT scope, user_name, name FROM key_values WHERE expires_at <= ?1 LIMIT ?2)`},
}

// purgeBatch is how many rows one purge transaction deletes, so that
// writers are never held up for long.
const purgeBatch = 1000

// Purge implements store.Purger.
func (d *DB) Purge(ctx context.Context) (int, error) {
	now := d.now().UnixNano()
	total := 0
	for _, stmts := range purges {
		for {
			var n int64
			err := d.withTx(ctx, func(tx *sql.Tx) error {
				for _, s := range stmts {
					res, err := tx.ExecContext(ctx, s, now, purgeBatch)
					if err != nil {
						return err
					}
					if n, err = res.RowsAffected(); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("purging expired records: %w", err)
			}
			total += int(n)
			if n < purgeBatch {
				break
			}
		}
	}
	return total, nil
}
