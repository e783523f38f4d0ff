package dynamo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/store"
)

var _ store.Checkpoints = (*DB)(nil)

// checkpointInline is the largest checkpoint kept in its head item; a
// larger one is split into chunk items of resultChunk bytes.
const checkpointInline = 300 << 10

func checkpointPK(id string) string { return "CP#" + id }

func checkpointChunkKey(id string, gen int64, i int) item {
	return item{attrPK: s(checkpointPK(id)), attrSK: s(fmt.Sprintf("DATA#%019d#%06d", gen, i))}
}

// checkpointHead is the head item of a checkpoint: the version, and either
// the data (chunks 0) or the generation and count of its chunk items.
func checkpointHead(cp store.Checkpoint, gen int64, chunks int) item {
	it := item{
		attrPK: s(checkpointPK(cp.ExecutionID)), attrSK: s(recordSK), "typ": s("CP"),
		"ver": n(cp.Version), "upd": n(cp.UpdatedAt.UnixNano()),
		"gen": n(gen), "chunks": n(int64(chunks)),
	}
	if chunks == 0 {
		it["data"] = &types.AttributeValueMemberB{Value: cp.Data}
	}
	return it
}

// writeCheckpointChunks stores data as chunk items of a new generation.
func (d *DB) writeCheckpointChunks(ctx context.Context, id string, data []byte) (gen int64, chunks int, err error) {
	gen = newGeneration()
	var reqs []types.WriteRequest
	for i := 0; i*resultChunk < len(data); i++ {
		it := checkpointChunkKey(id, gen, i)
		it["data"] = &types.AttributeValueMemberB{Value: data[i*resultChunk : min((i+1)*resultChunk, len(data))]}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	if err := d.batchWrite(ctx, reqs); err != nil {
		return 0, 0, fmt.Errorf("writing checkpoint chunks: %w", err)
	}
	return gen, len(reqs), nil
}

// deleteCheckpointChunks removes the chunks a head item names (best effort:
// chunks left by a crash are unreachable and harmless).
func (d *DB) deleteCheckpointChunks(ctx context.Context, head item) {
	chunks := int(getN(head, "chunks"))
	if chunks == 0 {
		return
	}
	id := getS(head, attrPK)[len("CP#"):]
	var reqs []types.WriteRequest
	for i := range chunks {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: checkpointChunkKey(id, getN(head, "gen"), i)}})
	}
	_ = d.batchWrite(ctx, reqs)
}

// PutCheckpoint implements store.Checkpoints: a large checkpoint's chunks
// are written first, under a fresh generation; then the head item is put
// on condition that the stored version is the expected one. The old
// generation's chunks are deleted after.
func (d *DB) PutCheckpoint(ctx context.Context, cp store.Checkpoint) (store.Checkpoint, error) {
	if err := cp.Validate(); err != nil {
		return cp, fmt.Errorf("putting checkpoint: %w", err)
	}
	next := cp
	next.Version = cp.Version + 1
	next.UpdatedAt = d.now()
	var gen int64
	chunks := 0
	if len(cp.Data) > checkpointInline {
		var err error
		if gen, chunks, err = d.writeCheckpointChunks(ctx, cp.ExecutionID, cp.Data); err != nil {
			return cp, fmt.Errorf("putting checkpoint of %s: %w", cp.ExecutionID, err)
		}
	}
	head := checkpointHead(next, gen, chunks)
	in := &dynamodb.PutItemInput{TableName: aws.String(d.table), Item: head, ReturnValues: types.ReturnValueAllOld}
	if cp.Version == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(PK)")
	} else {
		in.ConditionExpression = aws.String("ver = :ver")
		in.ExpressionAttributeValues = item{":ver": n(cp.Version)}
	}
	out, err := d.api.PutItem(ctx, in)
	if err != nil {
		d.deleteCheckpointChunks(context.WithoutCancel(ctx), head)
		if isConditionFailed(err) {
			cur, gerr := d.GetCheckpoint(ctx, cp.ExecutionID)
			if gerr != nil && !errors.Is(gerr, store.ErrNotFound) {
				return cp, fmt.Errorf("putting checkpoint of %s: %w", cp.ExecutionID, gerr)
			}
			cur.ExecutionID = cp.ExecutionID
			return cur, fmt.Errorf("putting checkpoint of %s version %d (stored: %d): %w", cp.ExecutionID, cp.Version, cur.Version, store.ErrConflict)
		}
		return cp, fmt.Errorf("putting checkpoint of %s: %w", cp.ExecutionID, err)
	}
	if out.Attributes != nil {
		d.deleteCheckpointChunks(context.WithoutCancel(ctx), out.Attributes)
	}
	return next, nil
}

// GetCheckpoint implements store.Checkpoints. A read that races a put may
// find the chunks of the generation it read replaced; it reads again.
func (d *DB) GetCheckpoint(ctx context.Context, executionID string) (store.Checkpoint, error) {
	var err error
	for range 5 {
		var cp store.Checkpoint
		if cp, err = d.getCheckpoint(ctx, executionID); err == nil || errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return cp, fmt.Errorf("getting checkpoint of %s: %w", executionID, err)
			}
			return cp, nil
		}
	}
	return store.Checkpoint{ExecutionID: executionID}, fmt.Errorf("getting checkpoint of %s: %w", executionID, err)
}

func (d *DB) getCheckpoint(ctx context.Context, id string) (store.Checkpoint, error) {
	cp := store.Checkpoint{ExecutionID: id}
	head, err := d.get(ctx, checkpointPK(id), recordSK)
	if err != nil {
		return cp, err
	}
	cp.Version = getN(head, "ver")
	cp.UpdatedAt = time.Unix(0, getN(head, "upd")).UTC()
	chunks := int(getN(head, "chunks"))
	if chunks == 0 {
		cp.Data = getB(head, "data")
		return cp, nil
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(d.table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: item{":pk": s(checkpointPK(id)), ":p": s(fmt.Sprintf("DATA#%019d#", getN(head, "gen")))},
	}
	var buf bytes.Buffer
	got := 0
	for {
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return cp, fmt.Errorf("reading chunks: %w", err)
		}
		for _, c := range out.Items {
			buf.Write(getB(c, "data"))
			got++
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if got != chunks {
		return cp, fmt.Errorf("reading chunks: %d of %d (replaced meanwhile)", got, chunks)
	}
	cp.Data = buf.Bytes()
	return cp, nil
}

// DeleteCheckpoint implements store.Checkpoints.
func (d *DB) DeleteCheckpoint(ctx context.Context, executionID string) error {
	out, err := d.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:           aws.String(d.table),
		Key:                 item{attrPK: s(checkpointPK(executionID)), attrSK: s(recordSK)},
		ConditionExpression: aws.String("attribute_exists(PK)"),
		ReturnValues:        types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("deleting checkpoint of %s: %w", executionID, err)
	}
	d.deleteCheckpointChunks(context.WithoutCancel(ctx), out.Attributes)
	return nil
}
