package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/store"
)

// dynamoAPI is the subset of the DynamoDB client the store calls.
type dynamoAPI interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// DB is the DynamoDB store.
type DB struct {
	api   dynamoAPI
	table string
	opts  store.Options
}

var _ store.Store = (*DB)(nil)

// New returns a store over an existing table (see CreateTable).
func New(api dynamoAPI, table string, opts store.Options) *DB {
	return &DB{api: api, table: table, opts: opts.WithDefaults()}
}

// Close implements store.Store; the SDK client holds nothing to release.
func (d *DB) Close() error { return nil }

func (d *DB) now() time.Time { return d.opts.Clock.Now().UTC() }

// Purge implements store.Purger: DynamoDB's TTL deletes expired items, so
// there is nothing to do.
func (d *DB) Purge(context.Context) (int, error) { return 0, nil }

// item is one DynamoDB item.
type item = map[string]types.AttributeValue

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func n(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func getS(it item, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getN(it item, name string) int64 {
	if v, ok := it[name].(*types.AttributeValueMemberN); ok {
		i, _ := strconv.ParseInt(v.Value, 10, 64)
		return i
	}
	return 0
}

func getB(it item, name string) []byte {
	if v, ok := it[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

// timeKey is a sort key ordering by time then id.
func timeKey(t time.Time, id string) string { return fmt.Sprintf("%020d#%s", t.UnixNano(), id) }

// setExpiry writes the exact expiry (exp) and the TTL attribute.
func setExpiry(it item, exp time.Time) {
	if exp.IsZero() {
		return
	}
	it["exp"] = n(exp.UnixNano())
	it[attrTTL] = n(ttlSeconds(exp))
}

func live(it item, now time.Time) bool {
	_, has := it["exp"]
	return !has || getN(it, "exp") > now.UnixNano()
}

// docItem builds an item holding rec as JSON in doc.
func docItem(pk, sk, typ string, rec any, exp time.Time) (item, error) {
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encoding record: %w", err)
	}
	it := item{attrPK: s(pk), attrSK: s(sk), "typ": s(typ), "doc": s(string(b))}
	setExpiry(it, exp)
	return it, nil
}

func decodeDoc[T any](it item) (T, error) {
	var v T
	if err := json.Unmarshal([]byte(getS(it, "doc")), &v); err != nil {
		return v, fmt.Errorf("decoding %s: %w", getS(it, attrPK), err)
	}
	return v, nil
}

func isConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// get reads a live item.
func (d *DB) get(ctx context.Context, pk, sk string) (item, error) {
	out, err := d.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(d.table), ConsistentRead: aws.Bool(true),
		Key: item{attrPK: s(pk), attrSK: s(sk)},
	})
	if err != nil {
		return nil, err
	}
	if out.Item == nil || !live(out.Item, d.now()) {
		return nil, store.ErrNotFound
	}
	return out.Item, nil
}

// putNew writes it unless a live item has its key. It reports whether a
// live item was there (and then writes nothing).
func (d *DB) putNew(ctx context.Context, it item) (exists bool, err error) {
	_, err = d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(d.table),
		Item:                      it,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR exp <= :now"),
		ExpressionAttributeValues: item{":now": n(d.now().UnixNano())},
	})
	if isConditionFailed(err) {
		return true, nil
	}
	return false, err
}

// putIfVersion replaces an item if its version is still ver.
func (d *DB) putIfVersion(ctx context.Context, it item, ver int64) error {
	_, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(d.table),
		Item:                      it,
		ConditionExpression:       aws.String("ver = :ver"),
		ExpressionAttributeValues: item{":ver": n(ver)},
	})
	if isConditionFailed(err) {
		return store.ErrConflict
	}
	return err
}

// createDoc is the idempotent create of a document record: it returns the
// existing record with ErrAlreadyExists when the id is taken.
func createDoc[T any](ctx context.Context, d *DB, it item, rec T) (T, error) {
	exists, err := d.putNew(ctx, it)
	if err != nil {
		return rec, err
	}
	if !exists {
		return rec, nil
	}
	cur, err := d.get(ctx, getS(it, attrPK), getS(it, attrSK))
	if errors.Is(err, store.ErrNotFound) {
		// It expired between the two calls: try once more.
		if exists, err = d.putNew(ctx, it); err == nil && !exists {
			return rec, nil
		}
		return rec, fmt.Errorf("record changed during create: %w", store.ErrConflict)
	}
	if err != nil {
		return rec, err
	}
	old, err := decodeDoc[T](cur)
	if err != nil {
		return rec, err
	}
	return old, store.ErrAlreadyExists
}

// getDoc reads a document record.
func getDoc[T any](ctx context.Context, d *DB, pk, sk string) (T, item, error) {
	var v T
	it, err := d.get(ctx, pk, sk)
	if err != nil {
		return v, nil, err
	}
	v, err = decodeDoc[T](it)
	return v, it, err
}

// pageKey is the position of the last item of a page: the table key and,
// for an index query, the index key.
type pageKey map[string]string

// query runs a Query, skipping expired items, until it has limit+1 items
// or the index is exhausted. keyNames are the attributes of the index's
// position (table key plus index key).
func (d *DB) query(ctx context.Context, in *dynamodb.QueryInput, limit int, token string, keyNames []string) ([]item, string, error) {
	in.TableName = aws.String(d.table)
	if token != "" {
		var pk pageKey
		if err := store.DecodeToken(token, &pk); err != nil {
			return nil, "", err
		}
		start := item{}
		for _, k := range keyNames {
			v, ok := pk[k]
			if !ok {
				return nil, "", fmt.Errorf("%w: page token is for another list", store.ErrInvalid)
			}
			start[k] = s(v)
		}
		in.ExclusiveStartKey = start
	}
	now := d.now()
	var items []item
	for {
		in.Limit = aws.Int32(int32(max(limit+1-len(items), 50)))
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return nil, "", err
		}
		for _, it := range out.Items {
			if live(it, now) {
				items = append(items, it)
			}
		}
		if len(items) > limit || out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if len(items) <= limit {
		return items, "", nil
	}
	last := items[limit-1]
	pk := pageKey{}
	for _, k := range keyNames {
		pk[k] = getS(last, k)
	}
	tok, err := store.EncodeToken(pk)
	if err != nil {
		return nil, "", err
	}
	return items[:limit], tok, nil
}

// indexQuery lists an index partition newest first within a time range.
func (d *DB) indexQuery(ctx context.Context, idx int, partition string, r store.TimeRange, filter string, vals item, names map[string]string, limit int, token string, ascending bool) ([]item, string, error) {
	cond := "#ipk = :ipk"
	exprNames := map[string]string{"#ipk": gsiPK(idx), "#isk": gsiSK(idx)}
	exprVals := item{":ipk": s(partition)}
	switch {
	case !r.Since.IsZero() && !r.Until.IsZero():
		cond += " AND #isk BETWEEN :lo AND :hi"
		exprVals[":lo"] = s(fmt.Sprintf("%020d", r.Since.UnixNano()))
		exprVals[":hi"] = s(fmt.Sprintf("%020d$", r.Until.UnixNano()))
	case !r.Since.IsZero():
		cond += " AND #isk >= :lo"
		exprVals[":lo"] = s(fmt.Sprintf("%020d", r.Since.UnixNano()))
	case !r.Until.IsZero():
		cond += " AND #isk <= :hi"
		exprVals[":hi"] = s(fmt.Sprintf("%020d$", r.Until.UnixNano()))
	default:
		delete(exprNames, "#isk")
	}
	for k, v := range vals {
		exprVals[k] = v
	}
	for k, v := range names {
		exprNames[k] = v
	}
	in := &dynamodb.QueryInput{
		IndexName:                 aws.String(gsiName(idx)),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  exprNames,
		ExpressionAttributeValues: exprVals,
		ScanIndexForward:          aws.Bool(ascending),
	}
	if filter != "" {
		in.FilterExpression = aws.String(filter)
	}
	return d.query(ctx, in, limit, token, []string{attrPK, attrSK, gsiPK(idx), gsiSK(idx)})
}

func decodeAll[T any](items []item) ([]T, error) {
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := decodeDoc[T](it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// batchWrite writes or deletes items 25 at a time, retrying unprocessed
// ones.
func (d *DB) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	for len(reqs) > 0 {
		k := min(25, len(reqs))
		pending := map[string][]types.WriteRequest{d.table: reqs[:k]}
		reqs = reqs[k:]
		for attempt := 0; len(pending[d.table]) > 0; attempt++ {
			out, err := d.api.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return err
			}
			pending = out.UnprocessedItems
			if len(pending[d.table]) > 0 {
				if attempt > 8 {
					return fmt.Errorf("batch write: %d items still unprocessed", len(pending[d.table]))
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(time.Duration(10<<attempt) * time.Millisecond):
				}
			}
		}
	}
	return nil
}
