package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

func sampleExecution(id string) store.Execution {
	return store.Execution{
		ID: id, Action: "linux.check_disk", Runner: "local-shell-cmd",
		Parameters:       map[string]any{"host": "web-1", "password": "hunter2", "limit": 90.5, "tags": []any{"a", "b"}},
		SecretParameters: []string{"password"},
		Status:           store.StatusRequested,
		StartedAt:        T0,
		ParentID:         "wf-1",
		Context:          store.ExecutionContext{User: "alice", Rule: "ops.disk_alert", TriggerInstanceID: "ti-9", TraceTag: "trace-9", WorkflowTask: "check"},
	}
}

func testExecutionCreateGet(e *env) {
	got, err := e.s.CreateExecution(e.ctx, sampleExecution("ex-1"))
	e.must(err, "CreateExecution")
	if got.Parameters["password"] != store.Masked || got.Parameters["host"] != "web-1" {
		e.fatalf("parameters as stored: %v", got.Parameters)
	}
	if len(got.StatusLog) != 1 || got.StatusLog[0].Status != store.StatusRequested || got.Version != 1 {
		e.fatalf("created: log %v version %d", got.StatusLog, got.Version)
	}
	read, err := e.s.GetExecution(e.ctx, "ex-1")
	e.must(err, "GetExecution")
	e.sameJSON(read, got, "read back")
	b, _ := json.Marshal(read)
	if bytes.Contains(b, []byte("hunter2")) {
		e.fatalf("secret parameter stored in clear: %s", b)
	}
	_, err = e.s.GetExecution(e.ctx, "ex-none")
	e.wantErr(err, store.ErrNotFound, "missing")
}

func testExecutionIdempotent(e *env) {
	first, err := e.s.CreateExecution(e.ctx, sampleExecution("ex-1"))
	e.must(err, "create")
	second := sampleExecution("ex-1")
	second.Action = "other.action"
	second.Status = store.StatusRunning
	got, err := e.s.CreateExecution(e.ctx, second)
	e.wantErr(err, store.ErrAlreadyExists, "second create")
	e.sameJSON(got, first, "second create returns the stored record")
	p, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{})
	e.must(err, "list")
	if len(p.Items) != 1 || p.Items[0].Action != "linux.check_disk" {
		e.fatalf("after a duplicate create: %+v", p.Items)
	}
}

func testExecutionBatch(e *env) {
	_, err := e.s.CreateExecution(e.ctx, sampleExecution("b-005"))
	e.must(err, "create one")
	var batch []store.Execution
	for i := range 40 {
		x := sampleExecution(fmt.Sprintf("b-%03d", i))
		x.StartedAt = T0.Add(time.Duration(i) * time.Second)
		batch = append(batch, x)
	}
	n, err := e.s.CreateExecutions(e.ctx, batch)
	e.must(err, "CreateExecutions")
	if n != 39 {
		e.fatalf("created %d, want 39 (one existed)", n)
	}
	n, err = e.s.CreateExecutions(e.ctx, batch)
	e.must(err, "CreateExecutions again")
	if n != 0 {
		e.fatalf("second batch created %d, want 0", n)
	}
	p, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{Limit: 100})
	e.must(err, "list")
	if len(p.Items) != 40 {
		e.fatalf("listed %d, want 40", len(p.Items))
	}
	x, err := e.s.GetExecution(e.ctx, "b-017")
	e.must(err, "get one of the batch")
	if x.Parameters["password"] != store.Masked {
		e.fatalf("batch did not mask: %v", x.Parameters)
	}
	bad := []store.Execution{sampleExecution("b-100"), {ID: "b-101"}}
	_, err = e.s.CreateExecutions(e.ctx, bad)
	e.wantErr(err, store.ErrInvalid, "batch with an invalid execution")
	_, err = e.s.GetExecution(e.ctx, "b-100")
	e.wantErr(err, store.ErrNotFound, "an invalid batch writes nothing")
}

func testExecutionUpdate(e *env) {
	_, err := e.s.CreateExecution(e.ctx, sampleExecution("ex-u"))
	e.must(err, "create")
	steps := []store.ExecutionStatus{store.StatusScheduled, store.StatusRunning}
	from := store.StatusRequested
	for _, to := range steps {
		e.clock.Advance(time.Second)
		_, err := e.s.UpdateExecution(e.ctx, "ex-u", store.ExecutionUpdate{From: from, To: to})
		e.must(err, fmt.Sprintf("%s->%s", from, to))
		from = to
	}
	e.clock.Advance(time.Second)
	end := e.clock.Now()
	done, err := e.s.UpdateExecution(e.ctx, "ex-u", store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusSucceeded, Result: json.RawMessage(`{"stdout":"ok","exit_code":0}`)})
	e.must(err, "running->succeeded")
	if !done.EndedAt.Equal(end) || done.Version != 4 || len(done.StatusLog) != 4 {
		e.fatalf("finished: ended %v version %d log %v", done.EndedAt, done.Version, done.StatusLog)
	}
	var log []store.ExecutionStatus
	for _, c := range done.StatusLog {
		log = append(log, c.Status)
	}
	e.sameJSON(log, []store.ExecutionStatus{"requested", "scheduled", "running", "succeeded"}, "status log")
	read, err := e.s.GetExecution(e.ctx, "ex-u")
	e.must(err, "get")
	e.sameJSON(read, done, "read back")

	// A stale writer loses and sees the current record.
	cur, err := e.s.UpdateExecution(e.ctx, "ex-u", store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusFailed})
	e.wantErr(err, store.ErrConflict, "stale running->failed")
	if cur.Status != store.StatusSucceeded {
		e.fatalf("conflict returned %q, want the current status", cur.Status)
	}
	// A finished execution never runs again.
	_, err = e.s.UpdateExecution(e.ctx, "ex-u", store.ExecutionUpdate{From: store.StatusSucceeded, To: store.StatusRunning})
	e.wantErr(err, store.ErrIllegalTransition, "succeeded->running")
	_, err = e.s.UpdateExecution(e.ctx, "ex-none", store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusFailed})
	e.wantErr(err, store.ErrNotFound, "missing")
	read, err = e.s.GetExecution(e.ctx, "ex-u")
	e.must(err, "get")
	if read.Status != store.StatusSucceeded || read.Version != 4 {
		e.fatalf("refused updates changed the record: %s v%d", read.Status, read.Version)
	}
}

func testExecutionIllegal(e *env) {
	// One execution per status; every transition the table refuses is
	// refused by the store and leaves the record as it was.
	for _, from := range store.ExecutionStatuses {
		id := "ill-" + string(from)
		x := sampleExecution(id)
		x.Status = from
		_, err := e.s.CreateExecution(e.ctx, x)
		e.must(err, "create "+id)
		for _, to := range store.ExecutionStatuses {
			if store.CanTransition(from, to) {
				continue
			}
			_, err := e.s.UpdateExecution(e.ctx, id, store.ExecutionUpdate{From: from, To: to})
			e.wantErr(err, store.ErrIllegalTransition, fmt.Sprintf("%s->%s", from, to))
		}
		read, err := e.s.GetExecution(e.ctx, id)
		e.must(err, "get "+id)
		if read.Status != from || read.Version != 1 {
			e.fatalf("%s after refused transitions: %s v%d", id, read.Status, read.Version)
		}
	}
}

func testExecutionListFilters(e *env) {
	type spec struct {
		id, action, status, rule, ti, parent, trace, user string
		min                                               int
	}
	specs := []spec{
		{"f-01", "a.one", "failed", "r.x", "ti-1", "", "t1", "alice", 1},
		{"f-02", "a.one", "succeeded", "r.x", "ti-1", "", "t1", "alice", 2},
		{"f-03", "a.two", "failed", "r.y", "ti-2", "f-01", "t1", "bob", 3},
		{"f-04", "a.one", "failed", "", "", "f-01", "t2", "bob", 4},
		{"f-05", "a.two", "running", "r.x", "ti-3", "", "t2", "alice", 5},
		{"f-06", "a.one", "failed", "r.y", "ti-3", "", "t3", "carol", 6},
		{"f-07", "a.one", "requested", "", "", "f-06", "t3", "alice", 7},
	}
	for _, s := range specs {
		x := store.Execution{ID: s.id, Action: s.action, Runner: "noop", Status: store.ExecutionStatus(s.status),
			StartedAt: T0.Add(time.Duration(s.min) * time.Minute), ParentID: s.parent,
			Context: store.ExecutionContext{Rule: s.rule, TriggerInstanceID: s.ti, TraceTag: s.trace, User: s.user}}
		_, err := e.s.CreateExecution(e.ctx, x)
		e.must(err, "create "+s.id)
	}
	at := func(m int) time.Time { return T0.Add(time.Duration(m) * time.Minute) }
	cases := []struct {
		name string
		q    store.ExecutionQuery
		want []string
	}{
		{"all", store.ExecutionQuery{}, []string{"f-07", "f-06", "f-05", "f-04", "f-03", "f-02", "f-01"}},
		{"status", store.ExecutionQuery{Status: store.StatusFailed}, []string{"f-06", "f-04", "f-03", "f-01"}},
		{"action", store.ExecutionQuery{Action: "a.two"}, []string{"f-05", "f-03"}},
		{"action and status", store.ExecutionQuery{Action: "a.one", Status: store.StatusFailed}, []string{"f-06", "f-04", "f-01"}},
		{"rule", store.ExecutionQuery{Rule: "r.x"}, []string{"f-05", "f-02", "f-01"}},
		{"trigger instance", store.ExecutionQuery{TriggerInstanceID: "ti-3"}, []string{"f-06", "f-05"}},
		{"parent", store.ExecutionQuery{ParentID: "f-01"}, []string{"f-04", "f-03"}},
		{"trace", store.ExecutionQuery{TraceTag: "t1"}, []string{"f-03", "f-02", "f-01"}},
		{"user", store.ExecutionQuery{User: "alice"}, []string{"f-07", "f-05", "f-02", "f-01"}},
		{"since", store.ExecutionQuery{TimeRange: store.TimeRange{Since: at(5)}}, []string{"f-07", "f-06", "f-05"}},
		{"until", store.ExecutionQuery{TimeRange: store.TimeRange{Until: at(2)}}, []string{"f-02", "f-01"}},
		{"action in range", store.ExecutionQuery{Action: "a.one", TimeRange: store.TimeRange{Since: at(2), Until: at(6)}}, []string{"f-06", "f-04", "f-02"}},
		{"user and status", store.ExecutionQuery{User: "bob", Status: store.StatusFailed}, []string{"f-04", "f-03"}},
		{"rule and action and status", store.ExecutionQuery{Rule: "r.y", Action: "a.one", Status: store.StatusFailed}, []string{"f-06"}},
		{"no match", store.ExecutionQuery{Action: "a.none"}, []string{}},
	}
	for _, c := range cases {
		p, err := e.s.ListExecutions(e.ctx, c.q)
		e.must(err, c.name)
		e.sameJSON(ids(p.Items, exID), c.want, c.name)
		if p.Next != "" {
			e.fatalf("%s: Next %q on the only page", c.name, p.Next)
		}
	}
	// A status change moves the execution between status lists.
	_, err := e.s.UpdateExecution(e.ctx, "f-05", store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusFailed})
	e.must(err, "update f-05")
	p, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{Status: store.StatusFailed, Action: "a.two"})
	e.must(err, "failed a.two")
	e.sameJSON(ids(p.Items, exID), []string{"f-05", "f-03"}, "after update")
	p, err = e.s.ListExecutions(e.ctx, store.ExecutionQuery{Status: store.StatusRunning})
	e.must(err, "running")
	e.sameJSON(ids(p.Items, exID), []string{}, "running after update")
}

func testExecutionPagination(e *env) {
	// 60 executions; several share a start time, so ordering needs the id
	// as a tie-break. Listing omits results.
	var batch []store.Execution
	for i := range 60 {
		x := sampleExecution(fmt.Sprintf("p-%03d", i))
		x.Status = store.StatusFailed
		x.StartedAt = T0.Add(time.Duration(i/3) * time.Second)
		x.Result = json.RawMessage(`{"n":1}`)
		if i%4 == 0 {
			x.Action = "other.action"
		}
		batch = append(batch, x)
	}
	_, err := e.s.CreateExecutions(e.ctx, batch)
	e.must(err, "batch")
	var want []string
	for i := 59; i >= 0; i-- {
		if i%4 != 0 {
			want = append(want, fmt.Sprintf("p-%03d", i))
		}
	}
	// Two query shapes: one an index answers alone, one that needs filtering
	// after the index (on DynamoDB: parent index, then action and status).
	shapes := []store.ExecutionQuery{
		{Action: "linux.check_disk", Status: store.StatusFailed},
		{ParentID: "wf-1", Action: "linux.check_disk", Status: store.StatusFailed, User: "alice"},
	}
	for i, limit := range []int{1, 7, 45, 1000, 4, 1000} {
		var got []string
		tok := ""
		pages := 0
		for {
			q := shapes[i/4]
			q.Limit, q.Token = limit, tok
			p, err := e.s.ListExecutions(e.ctx, q)
			e.must(err, "page")
			pages++
			if len(p.Items) > limit {
				e.fatalf("page of %d for limit %d", len(p.Items), limit)
			}
			for _, x := range p.Items {
				if x.Result != nil {
					e.fatalf("listing carries the result of %s", x.ID)
				}
			}
			got = append(got, ids(p.Items, exID)...)
			if p.Next == "" {
				break
			}
			tok = p.Next
			if pages > 100 {
				e.fatalf("pagination does not end")
			}
		}
		e.sameJSON(got, want, fmt.Sprintf("limit %d", limit))
		if wantPages := (len(want) + limit - 1) / limit; pages < wantPages {
			e.fatalf("limit %d: %d pages, want at least %d", limit, pages, wantPages)
		}
	}
}

func testLargeResult(e *env) {
	_, err := e.s.CreateExecution(e.ctx, store.Execution{ID: "big", Action: "a.b", Status: store.StatusRunning})
	e.must(err, "create")
	big := randomJSON(e.t, 6<<20) // 6 MB, past DynamoDB's 400 KB item limit
	got, err := e.s.UpdateExecution(e.ctx, "big", store.ExecutionUpdate{From: store.StatusRunning, To: store.StatusPausing, Result: big})
	e.must(err, "write a 6 MB result")
	if !bytes.Equal(got.Result, big) {
		e.fatalf("update returned a result of %d bytes, want %d", len(got.Result), len(big))
	}
	read, err := e.s.GetExecution(e.ctx, "big")
	e.must(err, "read")
	if !bytes.Equal(read.Result, big) {
		e.fatalf("read back %d bytes, want %d intact", len(read.Result), len(big))
	}
	// Replacing it with a smaller large result leaves no trace of the first.
	big2 := randomJSON(e.t, 1<<20+17)
	_, err = e.s.UpdateExecution(e.ctx, "big", store.ExecutionUpdate{From: store.StatusPausing, To: store.StatusFailed, Result: big2})
	e.must(err, "replace")
	read, err = e.s.GetExecution(e.ctx, "big")
	e.must(err, "read again")
	if !bytes.Equal(read.Result, big2) {
		e.fatalf("after replace read %d bytes, want %d", len(read.Result), len(big2))
	}
	// A large result written at creation.
	x := store.Execution{ID: "big-created", Action: "a.b", Status: store.StatusSucceeded, Result: big}
	_, err = e.s.CreateExecution(e.ctx, x)
	e.must(err, "create with a large result")
	read, err = e.s.GetExecution(e.ctx, "big-created")
	e.must(err, "read created")
	if !bytes.Equal(read.Result, big) {
		e.fatalf("created result read back as %d bytes", len(read.Result))
	}
	p, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{Action: "a.b"})
	e.must(err, "list")
	if len(p.Items) != 2 {
		e.fatalf("listed %d", len(p.Items))
	}
}

// testExecutionSecrets checks that an execution's secret parameters are
// kept sealed with the cipher beside the record, decrypt with
// ExecutionSecrets (also after updates and from a batch create), and never
// show in what Get and List return.
func testExecutionSecrets(e *env) {
	_, err := e.s.CreateExecution(e.ctx, sampleExecution("ex-1"))
	e.must(err, "CreateExecution")
	if e.ciph.Encrypts != 1 {
		e.fatalf("cipher Encrypt called %d times for one execution with a secret, want 1", e.ciph.Encrypts)
	}
	got, err := e.s.ExecutionSecrets(e.ctx, "ex-1")
	e.must(err, "ExecutionSecrets")
	e.sameJSON(got, map[string]any{"password": "hunter2"}, "secrets of ex-1")
	if e.ciph.Decrypts != 1 {
		e.fatalf("cipher Decrypt called %d times, want 1", e.ciph.Decrypts)
	}
	_, err = e.s.UpdateExecution(e.ctx, "ex-1", store.ExecutionUpdate{From: store.StatusRequested, To: store.StatusScheduled})
	e.must(err, "update")
	_, err = e.s.UpdateExecution(e.ctx, "ex-1", store.ExecutionUpdate{From: store.StatusScheduled, To: store.StatusRunning, Result: json.RawMessage(`{"partial":1}`)})
	e.must(err, "update with a result")
	got, err = e.s.ExecutionSecrets(e.ctx, "ex-1")
	e.must(err, "ExecutionSecrets after updates")
	e.sameJSON(got, map[string]any{"password": "hunter2"}, "secrets after updates")

	// A duplicate create neither replaces nor adds secrets.
	dup := sampleExecution("ex-1")
	dup.Parameters["password"] = "other"
	_, err = e.s.CreateExecution(e.ctx, dup)
	e.wantErr(err, store.ErrAlreadyExists, "duplicate create")
	got, err = e.s.ExecutionSecrets(e.ctx, "ex-1")
	e.must(err, "ExecutionSecrets after a duplicate create")
	e.sameJSON(got, map[string]any{"password": "hunter2"}, "secrets after a duplicate create")

	// Nothing to keep: no secret parameter, or one given masked (a re-run).
	plain := sampleExecution("ex-2")
	plain.SecretParameters = nil
	delete(plain.Parameters, "password")
	masked := sampleExecution("ex-3")
	masked.Parameters["password"] = store.Masked
	batch := sampleExecution("ex-4")
	batch.Parameters["password"] = "s3cret-batch"
	n, err := e.s.CreateExecutions(e.ctx, []store.Execution{plain, masked, batch})
	e.must(err, "CreateExecutions")
	if n != 3 {
		e.fatalf("created %d, want 3", n)
	}
	for _, c := range []struct {
		id   string
		want map[string]any
	}{
		{"ex-2", map[string]any{}},
		{"ex-3", map[string]any{}},
		{"ex-4", map[string]any{"password": "s3cret-batch"}},
	} {
		got, err := e.s.ExecutionSecrets(e.ctx, c.id)
		e.must(err, "ExecutionSecrets "+c.id)
		e.sameJSON(got, c.want, "secrets of "+c.id)
	}
	_, err = e.s.ExecutionSecrets(e.ctx, "ex-none")
	e.wantErr(err, store.ErrNotFound, "secrets of a missing execution")

	// What reads return holds neither the values nor their ciphertext.
	read, err := e.s.GetExecution(e.ctx, "ex-1")
	e.must(err, "GetExecution")
	page, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{})
	e.must(err, "ListExecutions")
	if len(page.Items) != 4 {
		e.fatalf("listed %d executions, want 4", len(page.Items))
	}
	for what, v := range map[string]any{"GetExecution": read, "ListExecutions": page} {
		b, err := json.Marshal(v)
		e.must(err, "marshal")
		for _, leak := range []string{"hunter2", "s3cret-batch", "tc1:"} {
			if bytes.Contains(b, []byte(leak)) {
				e.fatalf("%s shows %q: %s", what, leak, b)
			}
		}
	}
	if read.Parameters["password"] != store.Masked {
		e.fatalf("read parameters: %v", read.Parameters)
	}
}

// testExecutionSecretsWithoutCipher checks that a store without a cipher
// stores an execution with secret parameters masked and keeps no value.
func testExecutionSecretsWithoutCipher(e *env) {
	x, err := e.s.CreateExecution(e.ctx, sampleExecution("ex-1"))
	e.must(err, "CreateExecution")
	if x.Parameters["password"] != store.Masked {
		e.fatalf("parameters: %v", x.Parameters)
	}
	got, err := e.s.ExecutionSecrets(e.ctx, "ex-1")
	e.must(err, "ExecutionSecrets")
	if len(got) != 0 {
		e.fatalf("a store without a cipher kept secrets: %v", got)
	}
}
