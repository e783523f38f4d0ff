package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/bwc-project/bwc/internal/store"
)

// CreateTriggerInstance implements store.TriggerInstances.
func (d *DB) CreateTriggerInstance(ctx context.Context, ti store.TriggerInstance) (store.TriggerInstance, error) {
	now := d.now()
	ti, err := store.PrepareTriggerInstance(ti, now, d.opts.Retention)
	if err != nil {
		return ti, fmt.Errorf("creating trigger instance: %w", err)
	}
	doc, err := marshal(ti)
	if err != nil {
		return ti, err
	}
	old, found, err := createDoc[store.TriggerInstance](ctx, d, "trigger_instances", ti.ID, now,
		`INSERT INTO trigger_instances (id, trigger_ref, status, occurred_at, trace_tag, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		[]any{ti.ID, ti.Trigger, ti.Status, ti.OccurredAt.UnixNano(), nullStr(ti.TraceTag), nanos(ti.ExpiresAt), doc}, nil)
	switch {
	case err != nil:
		return ti, fmt.Errorf("creating trigger instance %s: %w", ti.ID, err)
	case found:
		return old, fmt.Errorf("creating trigger instance %s: %w", ti.ID, store.ErrAlreadyExists)
	}
	return ti, nil
}

// GetTriggerInstance implements store.TriggerInstances.
func (d *DB) GetTriggerInstance(ctx context.Context, id string) (store.TriggerInstance, error) {
	ti, err := readDoc[store.TriggerInstance](ctx, d, nil, "trigger_instances", id, d.now())
	if err != nil {
		return ti, fmt.Errorf("getting trigger instance %s: %w", id, err)
	}
	return ti, nil
}

// SetTriggerInstanceStatus implements store.TriggerInstances.
func (d *DB) SetTriggerInstanceStatus(ctx context.Context, id string, from, to store.TriggerInstanceStatus) (store.TriggerInstance, error) {
	now := d.now()
	var ti store.TriggerInstance
	if err := store.CheckTriggerTransition(from, to); err != nil {
		return ti, fmt.Errorf("setting trigger instance %s status: %w", id, err)
	}
	// One statement: the status column and the doc's status field change
	// together, compare-and-set on the status; the doc is decoded after
	// the commit, outside the writer.
	var doc []byte
	changed := false
	err := d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		changed = true
		err := d.stmts.queryRow(ctx, tx, `UPDATE trigger_instances SET status = ?1, doc = CAST(json_set(CAST(doc AS TEXT), '$.status', ?1) AS BLOB)
WHERE id = ?2 AND status = ?3 AND `+liveAt4+` RETURNING doc`, to, id, from, now.UnixNano()).Scan(&doc)
		if errors.Is(err, sql.ErrNoRows) {
			changed = false
			err = d.stmts.queryRow(ctx, tx, `SELECT doc FROM trigger_instances WHERE id = ?1 AND `+liveAt2, id, now.UnixNano()).Scan(&doc)
		}
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		if err = json.Unmarshal(doc, &ti); err != nil {
			err = fmt.Errorf("decoding %s: %w", id, err)
		} else if !changed {
			err = fmt.Errorf("trigger instance is %s, expected %s: %w", ti.Status, from, store.ErrConflict)
		}
	}
	if err != nil {
		return ti, fmt.Errorf("setting trigger instance %s status: %w", id, err)
	}
	return ti, nil
}

// ListTriggerInstances implements store.TriggerInstances.
func (d *DB) ListTriggerInstances(ctx context.Context, q store.TriggerInstanceQuery) (store.Page[store.TriggerInstance], error) {
	limit := store.PageLimit(q.Limit)
	var tq timeQuery
	tq.eq("trigger_ref", q.Trigger)
	tail, args, err := tq.tail("occurred_at", q.TimeRange, q.Token, limit, d.now())
	if err != nil {
		return store.Page[store.TriggerInstance]{}, fmt.Errorf("listing trigger instances: %w", err)
	}
	p, err := listDocs[store.TriggerInstance](ctx, d, `SELECT occurred_at, id, doc FROM trigger_instances`+tail, args, limit)
	if err != nil {
		return p, fmt.Errorf("listing trigger instances: %w", err)
	}
	return p, nil
}

// CreateEnforcement implements store.Enforcements.
func (d *DB) CreateEnforcement(ctx context.Context, e store.Enforcement) (store.Enforcement, error) {
	now := d.now()
	e, err := store.PrepareEnforcement(e, now, d.opts.Retention)
	if err != nil {
		return e, fmt.Errorf("creating enforcement: %w", err)
	}
	doc, err := marshal(e)
	if err != nil {
		return e, err
	}
	old, found, err := createDoc[store.Enforcement](ctx, d, "enforcements", e.ID, now,
		`INSERT INTO enforcements (id, rule, enforced_at, trace_tag, expires_at, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		[]any{e.ID, e.Rule, e.EnforcedAt.UnixNano(), nullStr(e.TraceTag), nanos(e.ExpiresAt), doc}, nil)
	switch {
	case err != nil:
		return e, fmt.Errorf("creating enforcement %s: %w", e.ID, err)
	case found:
		return old, fmt.Errorf("creating enforcement %s: %w", e.ID, store.ErrAlreadyExists)
	}
	return e, nil
}

// GetEnforcement implements store.Enforcements.
func (d *DB) GetEnforcement(ctx context.Context, id string) (store.Enforcement, error) {
	e, err := readDoc[store.Enforcement](ctx, d, nil, "enforcements", id, d.now())
	if err != nil {
		return e, fmt.Errorf("getting enforcement %s: %w", id, err)
	}
	return e, nil
}

// ListEnforcements implements store.Enforcements.
func (d *DB) ListEnforcements(ctx context.Context, q store.EnforcementQuery) (store.Page[store.Enforcement], error) {
	limit := store.PageLimit(q.Limit)
	var tq timeQuery
	tq.eq("rule", q.Rule)
	tail, args, err := tq.tail("enforced_at", q.TimeRange, q.Token, limit, d.now())
	if err != nil {
		return store.Page[store.Enforcement]{}, fmt.Errorf("listing enforcements: %w", err)
	}
	p, err := listDocs[store.Enforcement](ctx, d, `SELECT enforced_at, id, doc FROM enforcements`+tail, args, limit)
	if err != nil {
		return p, fmt.Errorf("listing enforcements: %w", err)
	}
	return p, nil
}

// GetTrace implements store.Traces.
func (d *DB) GetTrace(ctx context.Context, tag string) (store.Trace, error) {
	tr := store.Trace{Tag: tag}
	now := d.now().UnixNano()
	lists := []struct {
		query string
		out   *[]string
	}{
		{`SELECT id FROM trigger_instances WHERE trace_tag = ? AND ` + live + ` ORDER BY occurred_at, id`, &tr.TriggerInstanceIDs},
		{`SELECT id FROM enforcements WHERE trace_tag = ? AND ` + live + ` ORDER BY enforced_at, id`, &tr.EnforcementIDs},
		{`SELECT id FROM executions WHERE trace_tag = ? AND ` + live + ` ORDER BY started_at, id`, &tr.ExecutionIDs},
	}
	for _, l := range lists {
		ids, err := d.ids(ctx, l.query, tag, now)
		if err != nil {
			return tr, fmt.Errorf("getting trace %s: %w", tag, err)
		}
		*l.out = ids
	}
	if len(tr.TriggerInstanceIDs)+len(tr.EnforcementIDs)+len(tr.ExecutionIDs) == 0 {
		return tr, fmt.Errorf("getting trace %s: %w", tag, store.ErrNotFound)
	}
	return tr, nil
}

func (d *DB) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// CreateInquiry implements store.Inquiries.
func (d *DB) CreateInquiry(ctx context.Context, q store.Inquiry) (store.Inquiry, error) {
	now := d.now()
	q, err := store.PrepareInquiry(q, now, d.opts.Retention)
	if err != nil {
		return q, fmt.Errorf("creating inquiry: %w", err)
	}
	doc, err := marshal(q)
	if err != nil {
		return q, err
	}
	old, found, err := createDoc[store.Inquiry](ctx, d, "inquiries", q.ID, now,
		`INSERT INTO inquiries (id, status, created_at, expires_at, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		[]any{q.ID, q.Status, q.CreatedAt.UnixNano(), nanos(q.ExpiresAt), doc}, nil)
	switch {
	case err != nil:
		return q, fmt.Errorf("creating inquiry %s: %w", q.ID, err)
	case found:
		return old, fmt.Errorf("creating inquiry %s: %w", q.ID, store.ErrAlreadyExists)
	}
	return q, nil
}

// GetInquiry implements store.Inquiries.
func (d *DB) GetInquiry(ctx context.Context, id string) (store.Inquiry, error) {
	q, err := readDoc[store.Inquiry](ctx, d, nil, "inquiries", id, d.now())
	if err != nil {
		return q, fmt.Errorf("getting inquiry %s: %w", id, err)
	}
	return q, nil
}

// ResolveInquiry implements store.Inquiries.
func (d *DB) ResolveInquiry(ctx context.Context, id string, to store.InquiryStatus, response json.RawMessage, by string) (store.Inquiry, error) {
	now := d.now()
	var q store.Inquiry
	err := d.withTx(ctx, func(tx *sql.Tx) error {
		cur, err := readDoc[store.Inquiry](ctx, d, tx, "inquiries", id, now)
		if err != nil {
			return err
		}
		q = cur
		next, err := store.ApplyResolution(cur, to, response, by, now)
		if err != nil {
			return err
		}
		doc, err := marshal(next)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inquiries SET status = ?, doc = ? WHERE id = ?`, next.Status, doc, id); err != nil {
			return err
		}
		q = next
		return nil
	})
	if err != nil {
		return q, fmt.Errorf("resolving inquiry %s: %w", id, err)
	}
	return q, nil
}

// ListInquiries implements store.Inquiries.
func (d *DB) ListInquiries(ctx context.Context, q store.InquiryQuery) (store.Page[store.Inquiry], error) {
	limit := store.PageLimit(q.Limit)
	var tq timeQuery
	tq.eq("status", string(q.Status))
	tail, args, err := tq.tail("created_at", store.TimeRange{}, q.Token, limit, d.now())
	if err != nil {
		return store.Page[store.Inquiry]{}, fmt.Errorf("listing inquiries: %w", err)
	}
	p, err := listDocs[store.Inquiry](ctx, d, `SELECT created_at, id, doc FROM inquiries`+tail, args, limit)
	if err != nil {
		return p, fmt.Errorf("listing inquiries: %w", err)
	}
	return p, nil
}

// CreateAPIKey implements store.APIKeys.
func (d *DB) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	now := d.now()
	k, err := store.PrepareAPIKey(k, now)
	if err != nil {
		return k, fmt.Errorf("creating api key: %w", err)
	}
	doc, err := marshal(k)
	if err != nil {
		return k, err
	}
	old, found, err := createDoc[store.APIKey](ctx, d, "api_keys", k.ID, now,
		`INSERT INTO api_keys (id, key_hash, created_at, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		[]any{k.ID, k.KeyHash, k.CreatedAt.UnixNano(), doc}, nil)
	switch {
	case err != nil:
		return k, fmt.Errorf("creating api key %s: %w", k.ID, err)
	case found:
		return old, fmt.Errorf("creating api key %s: %w", k.ID, store.ErrAlreadyExists)
	}
	return k, nil
}

// APIKeyByHash implements store.APIKeys.
func (d *DB) APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	var k store.APIKey
	var doc []byte
	err := d.stmts.queryRow(ctx, nil, `SELECT doc FROM api_keys WHERE key_hash = ?`, hash).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("finding api key: %w", store.ErrNotFound)
	}
	if err == nil {
		err = json.Unmarshal(doc, &k)
	}
	if err != nil {
		return k, fmt.Errorf("finding api key: %w", err)
	}
	return k, nil
}

// ListAPIKeys implements store.APIKeys.
func (d *DB) ListAPIKeys(ctx context.Context, limit int, token string) (store.Page[store.APIKey], error) {
	limit = store.PageLimit(limit)
	var tq timeQuery
	tail, args, err := tq.tail("created_at", store.TimeRange{}, token, limit, d.now())
	if err != nil {
		return store.Page[store.APIKey]{}, fmt.Errorf("listing api keys: %w", err)
	}
	p, err := listDocs[store.APIKey](ctx, d, `SELECT created_at, id, doc FROM api_keys`+tail, args, limit)
	if err != nil {
		return p, fmt.Errorf("listing api keys: %w", err)
	}
	return p, nil
}

// DeleteAPIKey implements store.APIKeys.
func (d *DB) DeleteAPIKey(ctx context.Context, id string) error {
	err := d.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := d.stmts.exec(ctx, tx, `DELETE FROM api_keys WHERE id = ?`, id)
		if err != nil {
			return err
		}
		return affected(res)
	})
	if err != nil {
		return fmt.Errorf("deleting api key %s: %w", id, err)
	}
	return nil
}

// affected turns "no row changed" into ErrNotFound.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
