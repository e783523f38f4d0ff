package dynamo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/store"
)

// resultChunk is the size of one result chunk item, well under DynamoDB's
// 400 KB item limit.
const resultChunk = 300 << 10

// Filter attributes of execution items (FilterExpression operands).
const (
	fAction  = "f_action"
	fStatus  = "f_status"
	fRule    = "f_rule"
	fTrigger = "f_ti"
	fParent  = "f_parent"
	fTrace   = "f_trace"
	fUser    = "f_user"
)

func executionPK(id string) string { return "EX#" + id }

// attrSecrets holds, on an execution's main item, its secret parameters
// sealed with the store's cipher (store.SealSecrets); reads decode only
// the doc, so it never reaches GetExecution or ListExecutions.
const attrSecrets = "secp"

func withoutResult(x store.Execution) store.Execution {
	x.Result = nil
	return x
}

// executionItem is the execution's main item; its result lives in chunk
// items of generation gen (chunks of them).
func executionItem(x store.Execution, gen int64, chunks int) (item, error) {
	it, err := docItem(executionPK(x.ID), recordSK, "EX", withoutResult(x), x.ExpiresAt)
	if err != nil {
		return nil, err
	}
	it["ver"] = n(x.Version)
	it["rgen"] = n(gen)
	it["rchunks"] = n(int64(chunks))
	tk := timeKey(x.StartedAt, x.ID)
	c := x.Context
	setIndex(it, gFeed, "EX", tk)
	setIndex(it, gName, "EXA#"+x.Action, tk)
	setIndex(it, gStatus, "EXS#"+string(x.Status), tk)
	setIndex(it, gActionState, "EXAS#"+x.Action+"#"+string(x.Status), tk)
	it[fAction] = s(x.Action)
	it[fStatus] = s(string(x.Status))
	for _, o := range []struct {
		idx       int
		prefix    string
		attr, val string
	}{
		{gRule, "EXR#", fRule, c.Rule},
		{gTrigger, "EXT#", fTrigger, c.TriggerInstanceID},
		{gParent, "EXP#", fParent, x.ParentID},
		{gTrace, "TR#", fTrace, c.TraceTag},
		{gUser, "EXU#", fUser, c.User},
	} {
		if o.val != "" {
			setIndex(it, o.idx, o.prefix+o.val, tk)
			it[o.attr] = s(o.val)
		}
	}
	return it, nil
}

func newGeneration() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

func chunkKey(id string, gen int64, i int) item {
	return item{attrPK: s(executionPK(id)), attrSK: s(fmt.Sprintf("RES#%019d#%06d", gen, i))}
}

// writeResult stores result as chunk items of a new generation.
func (d *DB) writeResult(ctx context.Context, id string, result []byte, exp time.Time) (gen int64, chunks int, err error) {
	if result == nil {
		return 0, 0, nil
	}
	gen = newGeneration()
	var reqs []types.WriteRequest
	for i := 0; i == 0 || i*resultChunk < len(result); i++ {
		part := result[i*resultChunk : min((i+1)*resultChunk, len(result))]
		it := chunkKey(id, gen, i)
		it["data"] = &types.AttributeValueMemberB{Value: part}
		setExpiry(it, exp)
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
	}
	if err := d.batchWrite(ctx, reqs); err != nil {
		return 0, 0, fmt.Errorf("writing result: %w", err)
	}
	return gen, len(reqs), nil
}

// deleteResult removes the chunks of a generation (best effort: chunks
// left over by a crash expire with their TTL).
func (d *DB) deleteResult(ctx context.Context, id string, gen int64, chunks int) {
	var reqs []types.WriteRequest
	for i := range chunks {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: chunkKey(id, gen, i)}})
	}
	_ = d.batchWrite(ctx, reqs)
}

// readResult reads the result generation the main item names.
func (d *DB) readResult(ctx context.Context, it item) ([]byte, error) {
	chunks := int(getN(it, "rchunks"))
	if chunks == 0 {
		return nil, nil
	}
	id := getS(it, attrPK)
	prefix := fmt.Sprintf("RES#%019d#", getN(it, "rgen"))
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(d.table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: item{":pk": s(id), ":p": s(prefix)},
	}
	var buf bytes.Buffer
	got := 0
	for {
		out, err := d.api.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("reading result: %w", err)
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
		return nil, fmt.Errorf("reading result of %s: %d chunks of %d", id, got, chunks)
	}
	return buf.Bytes(), nil
}

// createExecution writes a prepared execution: result chunks first, then
// the main item (with the sealed secrets) if its id is free.
func (d *DB) createExecution(ctx context.Context, x store.Execution, sealed []byte) (store.Execution, error) {
	gen, chunks, err := d.writeResult(ctx, x.ID, x.Result, x.ExpiresAt)
	if err != nil {
		return x, err
	}
	it, err := executionItem(x, gen, chunks)
	if err != nil {
		return x, err
	}
	if sealed != nil {
		it[attrSecrets] = &types.AttributeValueMemberB{Value: sealed}
	}
	exists, err := d.putNew(ctx, it)
	if err != nil || exists {
		d.deleteResult(ctx, x.ID, gen, chunks)
	}
	if err != nil {
		return x, err
	}
	if exists {
		cur, err := d.getExecution(ctx, x.ID)
		if errors.Is(err, store.ErrNotFound) {
			return x, fmt.Errorf("record changed during create: %w", store.ErrConflict)
		}
		if err != nil {
			return x, err
		}
		return cur, store.ErrAlreadyExists
	}
	return x, nil
}

// CreateExecution implements store.Executions.
func (d *DB) CreateExecution(ctx context.Context, x store.Execution) (store.Execution, error) {
	sealed, err := store.SealSecrets(ctx, d.opts.Cipher, x)
	if err != nil {
		return x, fmt.Errorf("creating execution: %w", err)
	}
	x, err = store.PrepareExecution(x, d.now(), d.opts.Retention)
	if err != nil {
		return x, fmt.Errorf("creating execution: %w", err)
	}
	got, err := d.createExecution(ctx, x, sealed)
	if err != nil {
		return got, fmt.Errorf("creating execution %s: %w", x.ID, err)
	}
	return got, nil
}

// batchWorkers bounds the conditional puts CreateExecutions runs at once
// (BatchWriteItem cannot be conditional, so it would overwrite).
const batchWorkers = 16

// CreateExecutions implements store.Executions.
func (d *DB) CreateExecutions(ctx context.Context, xs []store.Execution) (int, error) {
	now := d.now()
	type sealedExecution struct {
		x      store.Execution
		sealed []byte
	}
	prepared := make([]sealedExecution, len(xs))
	for i, x := range xs {
		sealed, err := store.SealSecrets(ctx, d.opts.Cipher, x)
		if err != nil {
			return 0, fmt.Errorf("creating executions: item %d: %w", i, err)
		}
		p, err := store.PrepareExecution(x, now, d.opts.Retention)
		if err != nil {
			return 0, fmt.Errorf("creating executions: item %d: %w", i, err)
		}
		prepared[i] = sealedExecution{p, sealed}
	}
	var (
		mu      sync.Mutex
		created int
		first   error
		wg      sync.WaitGroup
	)
	work := make(chan sealedExecution)
	for range min(batchWorkers, len(prepared)) {
		wg.Go(func() {
			for p := range work {
				x := p.x
				_, err := d.createExecution(ctx, x, p.sealed)
				mu.Lock()
				switch {
				case err == nil:
					created++
				case errors.Is(err, store.ErrAlreadyExists):
				case first == nil:
					first = fmt.Errorf("creating execution %s: %w", x.ID, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, x := range prepared {
		work <- x
	}
	close(work)
	wg.Wait()
	if first != nil {
		return created, fmt.Errorf("creating %d executions: %w", len(xs), first)
	}
	return created, nil
}

func (d *DB) getExecution(ctx context.Context, id string) (store.Execution, error) {
	x, it, err := getDoc[store.Execution](ctx, d, executionPK(id), recordSK)
	if err != nil {
		return x, err
	}
	if x.Result, err = d.readResult(ctx, it); err != nil {
		return x, err
	}
	return x, nil
}

// ExecutionSecrets implements store.Executions.
func (d *DB) ExecutionSecrets(ctx context.Context, id string) (map[string]any, error) {
	_, it, err := getDoc[store.Execution](ctx, d, executionPK(id), recordSK)
	if err != nil {
		return nil, fmt.Errorf("reading the secrets of execution %s: %w", id, err)
	}
	return store.OpenSecrets(ctx, d.opts.Cipher, id, getB(it, attrSecrets))
}

// GetExecution implements store.Executions.
func (d *DB) GetExecution(ctx context.Context, id string) (store.Execution, error) {
	x, err := d.getExecution(ctx, id)
	if err != nil {
		return x, fmt.Errorf("getting execution %s: %w", id, err)
	}
	return x, nil
}

// UpdateExecution implements store.Executions: read, check, write
// conditioned on the version read; a lost race reads again.
func (d *DB) UpdateExecution(ctx context.Context, id string, u store.ExecutionUpdate) (store.Execution, error) {
	if err := store.CheckUpdate(u); err != nil {
		return store.Execution{}, fmt.Errorf("updating execution %s: %w", id, err)
	}
	for {
		cur, it, err := getDoc[store.Execution](ctx, d, executionPK(id), recordSK)
		if err != nil {
			return cur, fmt.Errorf("updating execution %s: %w", id, err)
		}
		next, err := store.ApplyUpdate(cur, u, d.now())
		if err != nil {
			if errors.Is(err, store.ErrConflict) {
				cur.Result, _ = d.readResult(ctx, it) // best effort: the error is what matters
			}
			return cur, fmt.Errorf("updating execution %s: %w", id, err)
		}
		oldGen, oldChunks := getN(it, "rgen"), int(getN(it, "rchunks"))
		gen, chunks := oldGen, oldChunks
		if u.Result != nil {
			if gen, chunks, err = d.writeResult(ctx, id, u.Result, next.ExpiresAt); err != nil {
				return cur, fmt.Errorf("updating execution %s: %w", id, err)
			}
		}
		nit, err := executionItem(next, gen, chunks)
		if err != nil {
			return cur, err
		}
		if sec, ok := it[attrSecrets]; ok {
			nit[attrSecrets] = sec // the item is replaced whole: keep them
		}
		err = d.putIfVersion(ctx, nit, cur.Version)
		if err != nil {
			if u.Result != nil {
				d.deleteResult(ctx, id, gen, chunks)
			}
			if errors.Is(err, store.ErrConflict) {
				continue
			}
			return cur, fmt.Errorf("updating execution %s: %w", id, err)
		}
		if u.Result != nil {
			d.deleteResult(ctx, id, oldGen, oldChunks)
		} else if next.Result, err = d.readResult(ctx, nit); err != nil {
			return next, fmt.Errorf("updating execution %s: %w", id, err)
		}
		return next, nil
	}
}

// ListExecutions implements store.Executions: it queries the index of the
// most selective filter given and filters on the others.
func (d *DB) ListExecutions(ctx context.Context, q store.ExecutionQuery) (store.Page[store.Execution], error) {
	type dim struct {
		idx       int
		part      string
		attr, val string
	}
	dims := []dim{
		{gTrace, "TR#" + q.TraceTag, fTrace, q.TraceTag},
		{gParent, "EXP#" + q.ParentID, fParent, q.ParentID},
		{gTrigger, "EXT#" + q.TriggerInstanceID, fTrigger, q.TriggerInstanceID},
		{gRule, "EXR#" + q.Rule, fRule, q.Rule},
		{gName, "EXA#" + q.Action, fAction, q.Action},
		{gStatus, "EXS#" + string(q.Status), fStatus, string(q.Status)},
		{gUser, "EXU#" + q.User, fUser, q.User},
	}
	idx, part := gFeed, "EX"
	covered := map[string]bool{}
	if q.Action != "" && q.Status != "" && q.TraceTag == "" && q.ParentID == "" && q.TriggerInstanceID == "" && q.Rule == "" {
		idx, part = gActionState, "EXAS#"+q.Action+"#"+string(q.Status)
		covered[fAction], covered[fStatus] = true, true
	} else {
		for _, dm := range dims {
			if dm.val != "" {
				idx, part = dm.idx, dm.part
				covered[dm.attr] = true
				break
			}
		}
	}
	var filters []string
	names := map[string]string{}
	vals := item{}
	if idx == gTrace {
		filters = append(filters, "#typ = :typ")
		names["#typ"], vals[":typ"] = "typ", s("EX")
	}
	for i, dm := range dims {
		if dm.val == "" || covered[dm.attr] {
			continue
		}
		k := fmt.Sprint(i)
		filters = append(filters, "#f"+k+" = :f"+k)
		names["#f"+k], vals[":f"+k] = dm.attr, s(dm.val)
	}
	filter := ""
	for i, f := range filters {
		if i > 0 {
			filter += " AND "
		}
		filter += f
	}
	items, next, err := d.indexQuery(ctx, idx, part, q.TimeRange, filter, vals, names, store.PageLimit(q.Limit), q.Token, false)
	if err != nil {
		return store.Page[store.Execution]{}, fmt.Errorf("listing executions: %w", err)
	}
	out, err := decodeAll[store.Execution](items)
	return store.Page[store.Execution]{Items: out, Next: next}, err
}

// AppendOutput implements store.Output.
func (d *DB) AppendOutput(ctx context.Context, c store.OutputChunk) error {
	c, exp, err := store.PrepareOutput(c, d.now(), d.opts.Retention)
	if err != nil {
		return fmt.Errorf("appending output: %w", err)
	}
	it, err := docItem(executionPK(c.ExecutionID), fmt.Sprintf("OUT#%020d", c.Seq), "OUT", c, exp)
	if err != nil {
		return err
	}
	exists, err := d.putNew(ctx, it)
	if err == nil && exists {
		err = store.ErrAlreadyExists
	}
	if err != nil {
		return fmt.Errorf("appending output %s#%d: %w", c.ExecutionID, c.Seq, err)
	}
	return nil
}

// ListOutput implements store.Output.
func (d *DB) ListOutput(ctx context.Context, executionID string, afterSeq int64, limit int) ([]store.OutputChunk, error) {
	in := &dynamodb.QueryInput{
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: item{
			":pk": s(executionPK(executionID)),
			":lo": s(fmt.Sprintf("OUT#%020d", afterSeq+1)),
			":hi": s("OUT#99999999999999999999"),
		},
	}
	items, _, err := d.query(ctx, in, store.PageLimit(limit), "", []string{attrPK, attrSK})
	if err != nil {
		return nil, fmt.Errorf("listing output of %s: %w", executionID, err)
	}
	out, err := decodeAll[store.OutputChunk](items)
	if err != nil {
		return nil, fmt.Errorf("listing output of %s: %w", executionID, err)
	}
	return out, nil
}
