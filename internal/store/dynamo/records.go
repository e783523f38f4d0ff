package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bwc-project/bwc/internal/store"
)

// Item keys. Every record is PK=<TYPE>#<id>, SK="#"; see docs/storage.md.
const recordSK = "#"

// Index numbers, named by what they hold (several record types share one).
const (
	gFeed        = 1 // every record of a type, by time: TI, EN, EX, IQ, AK
	gName        = 2 // by trigger type (TI), rule (EN), action (EX), key hash (AK)
	gStatus      = 3 // by status: EX, IQ
	gActionState = 4 // EX by action and status
	gRule        = 5 // EX by rule
	gTrigger     = 6 // EX by trigger instance
	gParent      = 7 // EX by parent
	gTrace       = 8 // TI, EN, EX by trace tag
	gUser        = 9 // EX by user
)

func setIndex(it item, idx int, pk, sk string) {
	it[gsiPK(idx)] = s(pk)
	it[gsiSK(idx)] = s(sk)
}

// --- trigger instances ---

func triggerItem(ti store.TriggerInstance) (item, error) {
	it, err := docItem("TI#"+ti.ID, recordSK, "TI", ti, ti.ExpiresAt)
	if err != nil {
		return nil, err
	}
	tk := timeKey(ti.OccurredAt, ti.ID)
	setIndex(it, gFeed, "TI", tk)
	setIndex(it, gName, "TIT#"+ti.Trigger, tk)
	if ti.TraceTag != "" {
		setIndex(it, gTrace, "TR#"+ti.TraceTag, tk)
	}
	it["ver"] = n(1)
	return it, nil
}

// CreateTriggerInstance implements store.TriggerInstances.
func (d *DB) CreateTriggerInstance(ctx context.Context, ti store.TriggerInstance) (store.TriggerInstance, error) {
	ti, err := store.PrepareTriggerInstance(ti, d.now(), d.opts.Retention)
	if err != nil {
		return ti, fmt.Errorf("creating trigger instance: %w", err)
	}
	it, err := triggerItem(ti)
	if err != nil {
		return ti, err
	}
	got, err := createDoc(ctx, d, it, ti)
	if err != nil {
		return got, fmt.Errorf("creating trigger instance %s: %w", ti.ID, err)
	}
	return got, nil
}

// GetTriggerInstance implements store.TriggerInstances.
func (d *DB) GetTriggerInstance(ctx context.Context, id string) (store.TriggerInstance, error) {
	ti, _, err := getDoc[store.TriggerInstance](ctx, d, "TI#"+id, recordSK)
	if err != nil {
		return ti, fmt.Errorf("getting trigger instance %s: %w", id, err)
	}
	return ti, nil
}

// SetTriggerInstanceStatus implements store.TriggerInstances.
func (d *DB) SetTriggerInstanceStatus(ctx context.Context, id string, from, to store.TriggerInstanceStatus) (store.TriggerInstance, error) {
	for {
		ti, it, err := getDoc[store.TriggerInstance](ctx, d, "TI#"+id, recordSK)
		if err != nil {
			return ti, fmt.Errorf("setting trigger instance %s status: %w", id, err)
		}
		if ti.Status != from {
			return ti, fmt.Errorf("setting trigger instance %s status: is %s, expected %s: %w", id, ti.Status, from, store.ErrConflict)
		}
		if err := store.CheckTriggerTransition(from, to); err != nil {
			return ti, fmt.Errorf("setting trigger instance %s status: %w", id, err)
		}
		ti.Status = to
		next, err := triggerItem(ti)
		if err != nil {
			return ti, err
		}
		ver := getN(it, "ver")
		next["ver"] = n(ver + 1)
		err = d.putIfVersion(ctx, next, ver)
		if errors.Is(err, store.ErrConflict) {
			continue // someone else wrote it: read again
		}
		if err != nil {
			return ti, fmt.Errorf("setting trigger instance %s status: %w", id, err)
		}
		return ti, nil
	}
}

// ListTriggerInstances implements store.TriggerInstances.
func (d *DB) ListTriggerInstances(ctx context.Context, q store.TriggerInstanceQuery) (store.Page[store.TriggerInstance], error) {
	idx, part := gFeed, "TI"
	if q.Trigger != "" {
		idx, part = gName, "TIT#"+q.Trigger
	}
	items, next, err := d.indexQuery(ctx, idx, part, q.TimeRange, "", nil, nil, store.PageLimit(q.Limit), q.Token, false)
	if err != nil {
		return store.Page[store.TriggerInstance]{}, fmt.Errorf("listing trigger instances: %w", err)
	}
	out, err := decodeAll[store.TriggerInstance](items)
	return store.Page[store.TriggerInstance]{Items: out, Next: next}, err
}

// --- enforcements ---

// CreateEnforcement implements store.Enforcements.
func (d *DB) CreateEnforcement(ctx context.Context, e store.Enforcement) (store.Enforcement, error) {
	e, err := store.PrepareEnforcement(e, d.now(), d.opts.Retention)
	if err != nil {
		return e, fmt.Errorf("creating enforcement: %w", err)
	}
	it, err := enforcementItem(e)
	if err != nil {
		return e, err
	}
	got, err := createDoc(ctx, d, it, e)
	if err != nil {
		return got, fmt.Errorf("creating enforcement %s: %w", e.ID, err)
	}
	return got, nil
}

// enforcementItem renders EnforcementTemplate, the layout the direct rule
// machines write too.
func enforcementItem(e store.Enforcement) (item, error) {
	v, err := EnforcementValues(e)
	if err != nil {
		return nil, err
	}
	it, err := RenderItem(EnforcementTemplate(), v)
	if err != nil {
		return nil, fmt.Errorf("creating enforcement %s: %w", e.ID, err)
	}
	return it, nil
}

// GetEnforcement implements store.Enforcements.
func (d *DB) GetEnforcement(ctx context.Context, id string) (store.Enforcement, error) {
	e, _, err := getDoc[store.Enforcement](ctx, d, "EN#"+id, recordSK)
	if err != nil {
		return e, fmt.Errorf("getting enforcement %s: %w", id, err)
	}
	return e, nil
}

// ListEnforcements implements store.Enforcements.
func (d *DB) ListEnforcements(ctx context.Context, q store.EnforcementQuery) (store.Page[store.Enforcement], error) {
	idx, part := gFeed, "EN"
	if q.Rule != "" {
		idx, part = gName, "ENR#"+q.Rule
	}
	items, next, err := d.indexQuery(ctx, idx, part, q.TimeRange, "", nil, nil, store.PageLimit(q.Limit), q.Token, false)
	if err != nil {
		return store.Page[store.Enforcement]{}, fmt.Errorf("listing enforcements: %w", err)
	}
	out, err := decodeAll[store.Enforcement](items)
	return store.Page[store.Enforcement]{Items: out, Next: next}, err
}

// --- traces ---

// GetTrace implements store.Traces with one query of the trace index.
func (d *DB) GetTrace(ctx context.Context, tag string) (store.Trace, error) {
	tr := store.Trace{Tag: tag, TriggerInstanceIDs: []string{}, EnforcementIDs: []string{}, ExecutionIDs: []string{}}
	token := ""
	for {
		items, next, err := d.indexQuery(ctx, gTrace, "TR#"+tag, store.TimeRange{}, "", nil, nil, store.MaxLimit, token, true)
		if err != nil {
			return tr, fmt.Errorf("getting trace %s: %w", tag, err)
		}
		for _, it := range items {
			id := getS(it, attrPK)[3:]
			switch getS(it, "typ") {
			case "TI":
				tr.TriggerInstanceIDs = append(tr.TriggerInstanceIDs, id)
			case "EN":
				tr.EnforcementIDs = append(tr.EnforcementIDs, id)
			case "EX":
				tr.ExecutionIDs = append(tr.ExecutionIDs, id)
			}
		}
		if token = next; token == "" {
			break
		}
	}
	if len(tr.TriggerInstanceIDs)+len(tr.EnforcementIDs)+len(tr.ExecutionIDs) == 0 {
		return tr, fmt.Errorf("getting trace %s: %w", tag, store.ErrNotFound)
	}
	return tr, nil
}

// --- inquiries ---

func inquiryItem(q store.Inquiry) (item, error) {
	it, err := docItem("IQ#"+q.ID, recordSK, "IQ", q, q.ExpiresAt)
	if err != nil {
		return nil, err
	}
	tk := timeKey(q.CreatedAt, q.ID)
	setIndex(it, gFeed, "IQ", tk)
	setIndex(it, gStatus, "IQS#"+string(q.Status), tk)
	return it, nil
}

// CreateInquiry implements store.Inquiries.
func (d *DB) CreateInquiry(ctx context.Context, q store.Inquiry) (store.Inquiry, error) {
	q, err := store.PrepareInquiry(q, d.now(), d.opts.Retention)
	if err != nil {
		return q, fmt.Errorf("creating inquiry: %w", err)
	}
	it, err := inquiryItem(q)
	if err != nil {
		return q, err
	}
	it["ver"] = n(1)
	got, err := createDoc(ctx, d, it, q)
	if err != nil {
		return got, fmt.Errorf("creating inquiry %s: %w", q.ID, err)
	}
	return got, nil
}

// GetInquiry implements store.Inquiries.
func (d *DB) GetInquiry(ctx context.Context, id string) (store.Inquiry, error) {
	q, _, err := getDoc[store.Inquiry](ctx, d, "IQ#"+id, recordSK)
	if err != nil {
		return q, fmt.Errorf("getting inquiry %s: %w", id, err)
	}
	return q, nil
}

// ResolveInquiry implements store.Inquiries.
func (d *DB) ResolveInquiry(ctx context.Context, id string, to store.InquiryStatus, response json.RawMessage, by string) (store.Inquiry, error) {
	for {
		cur, it, err := getDoc[store.Inquiry](ctx, d, "IQ#"+id, recordSK)
		if err != nil {
			return cur, fmt.Errorf("resolving inquiry %s: %w", id, err)
		}
		next, err := store.ApplyResolution(cur, to, response, by, d.now())
		if err != nil {
			return cur, fmt.Errorf("resolving inquiry %s: %w", id, err)
		}
		nit, err := inquiryItem(next)
		if err != nil {
			return cur, err
		}
		ver := getN(it, "ver")
		nit["ver"] = n(ver + 1)
		err = d.putIfVersion(ctx, nit, ver)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return cur, fmt.Errorf("resolving inquiry %s: %w", id, err)
		}
		return next, nil
	}
}

// ListInquiries implements store.Inquiries.
func (d *DB) ListInquiries(ctx context.Context, q store.InquiryQuery) (store.Page[store.Inquiry], error) {
	idx, part := gFeed, "IQ"
	if q.Status != "" {
		idx, part = gStatus, "IQS#"+string(q.Status)
	}
	items, next, err := d.indexQuery(ctx, idx, part, store.TimeRange{}, "", nil, nil, store.PageLimit(q.Limit), q.Token, false)
	if err != nil {
		return store.Page[store.Inquiry]{}, fmt.Errorf("listing inquiries: %w", err)
	}
	out, err := decodeAll[store.Inquiry](items)
	return store.Page[store.Inquiry]{Items: out, Next: next}, err
}

// --- API keys ---

// CreateAPIKey implements store.APIKeys.
func (d *DB) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	k, err := store.PrepareAPIKey(k, d.now())
	if err != nil {
		return k, fmt.Errorf("creating api key: %w", err)
	}
	it, err := docItem("AK#"+k.ID, recordSK, "AK", k, time.Time{}) // API keys never expire
	if err != nil {
		return k, err
	}
	setIndex(it, gFeed, "AK", timeKey(k.CreatedAt, k.ID))
	setIndex(it, gName, "AKH#"+k.KeyHash, "0")
	got, err := createDoc(ctx, d, it, k)
	if err != nil {
		return got, fmt.Errorf("creating api key %s: %w", k.ID, err)
	}
	return got, nil
}

// APIKeyByHash implements store.APIKeys (an eventually consistent index
// read: a key works a moment after it is created).
func (d *DB) APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error) {
	items, _, err := d.indexQuery(ctx, gName, "AKH#"+hash, store.TimeRange{}, "", nil, nil, 1, "", true)
	if err == nil && len(items) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.APIKey{}, fmt.Errorf("finding api key: %w", err)
	}
	return decodeDoc[store.APIKey](items[0])
}

// ListAPIKeys implements store.APIKeys.
func (d *DB) ListAPIKeys(ctx context.Context, limit int, token string) (store.Page[store.APIKey], error) {
	items, next, err := d.indexQuery(ctx, gFeed, "AK", store.TimeRange{}, "", nil, nil, store.PageLimit(limit), token, false)
	if err != nil {
		return store.Page[store.APIKey]{}, fmt.Errorf("listing api keys: %w", err)
	}
	out, err := decodeAll[store.APIKey](items)
	return store.Page[store.APIKey]{Items: out, Next: next}, err
}

// DeleteAPIKey implements store.APIKeys.
func (d *DB) DeleteAPIKey(ctx context.Context, id string) error {
	if err := d.deleteExisting(ctx, item{attrPK: s("AK#" + id), attrSK: s(recordSK)}); err != nil {
		return fmt.Errorf("deleting api key %s: %w", id, err)
	}
	return nil
}

// deleteExisting deletes a live item, or reports ErrNotFound.
func (d *DB) deleteExisting(ctx context.Context, key item) error {
	_, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(d.table),
		Key:                       key,
		ConditionExpression:       aws.String("attribute_exists(PK) AND (attribute_not_exists(exp) OR exp > :now)"),
		ExpressionAttributeValues: item{":now": n(d.now().UnixNano())},
	})
	if isConditionFailed(err) {
		return store.ErrNotFound
	}
	return err
}
