package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/store"
)

func kvPK(scope store.Scope, user string) string { return "KV#" + string(scope) + "#" + user }

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
	it := item{
		attrPK: s(kvPK(kv.Scope, kv.User)), attrSK: s(kv.Name), "typ": s("KV"),
		"val": &types.AttributeValueMemberB{Value: value},
		"sec": &types.AttributeValueMemberBOOL{Value: kv.Secret},
		"upd": n(kv.UpdatedAt.UnixNano()),
	}
	if len(value) == 0 {
		it["val"] = s("") // a binary attribute may not be empty
	}
	setExpiry(it, kv.ExpiresAt)
	if _, err := d.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(d.table), Item: it}); err != nil {
		return kv, fmt.Errorf("putting key %s: %w", kv.KeyRef, err)
	}
	if kv.Secret {
		kv.Value = store.Masked
	}
	return kv, nil
}

func (d *DB) decodeKV(ctx context.Context, it item, ref store.KeyRef, decrypt bool) (store.KeyValue, error) {
	ref.Name = getS(it, attrSK)
	kv := store.KeyValue{KeyRef: ref, UpdatedAt: time.Unix(0, getN(it, "upd")).UTC()}
	if b, ok := it["sec"].(*types.AttributeValueMemberBOOL); ok {
		kv.Secret = b.Value
	}
	if _, ok := it["exp"]; ok {
		kv.ExpiresAt = time.Unix(0, getN(it, "exp")).UTC()
	}
	return store.OpenValue(ctx, d.opts.Cipher, kv, getB(it, "val"), decrypt)
}

// GetKeyValue implements store.KeyValues.
func (d *DB) GetKeyValue(ctx context.Context, ref store.KeyRef, decrypt bool) (store.KeyValue, error) {
	if err := ref.Validate(); err != nil {
		return store.KeyValue{KeyRef: ref}, fmt.Errorf("getting key: %w", err)
	}
	it, err := d.get(ctx, kvPK(ref.Scope, ref.User), ref.Name)
	if err != nil {
		return store.KeyValue{KeyRef: ref}, fmt.Errorf("getting key %s: %w", ref, err)
	}
	kv, err := d.decodeKV(ctx, it, ref, decrypt)
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
	in := &dynamodb.QueryInput{
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: item{":pk": s(kvPK(q.Scope, q.User))},
	}
	if q.Prefix != "" {
		in.KeyConditionExpression = aws.String("PK = :pk AND begins_with(SK, :prefix)")
		in.ExpressionAttributeValues[":prefix"] = s(q.Prefix)
	}
	items, next, err := d.query(ctx, in, store.PageLimit(q.Limit), q.Token, []string{attrPK, attrSK})
	if err != nil {
		return page, fmt.Errorf("listing keys: %w", err)
	}
	for _, it := range items {
		kv, err := d.decodeKV(ctx, it, store.KeyRef{Scope: q.Scope, User: q.User}, q.Decrypt)
		if err != nil {
			return page, fmt.Errorf("listing keys: %w", err)
		}
		page.Items = append(page.Items, kv)
	}
	page.Next = next
	return page, nil
}

// DeleteKeyValue implements store.KeyValues.
func (d *DB) DeleteKeyValue(ctx context.Context, ref store.KeyRef) error {
	if err := d.deleteExisting(ctx, item{attrPK: s(kvPK(ref.Scope, ref.User)), attrSK: s(ref.Name)}); err != nil {
		return fmt.Errorf("deleting key %s: %w", ref, err)
	}
	return nil
}
