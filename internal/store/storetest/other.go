package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

func testConcurrent(e *env) {
	const writers = 8
	// Racing creates of one id: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			x := sampleExecution("race")
			x.Status = store.StatusRunning
			x.Runner = fmt.Sprint(i)
			_, errs[i] = e.s.CreateExecution(e.ctx, x)
		})
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case !errors.Is(err, store.ErrAlreadyExists):
			e.fatalf("racing create: %v", err)
		}
	}
	if created != 1 {
		e.fatalf("%d racing creates succeeded, want 1", created)
	}
	// Racing status changes from running: exactly one wins, the others
	// conflict.
	outcomes := []store.ExecutionStatus{store.StatusSucceeded, store.StatusFailed, store.StatusCanceled, store.StatusTimeout}
	won := make([]bool, writers)
	errs = make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := e.s.UpdateExecution(e.ctx, "race", store.ExecutionUpdate{From: store.StatusRunning, To: outcomes[i%len(outcomes)]})
			switch {
			case err == nil:
				won[i] = true
			case !errors.Is(err, store.ErrConflict):
				errs[i] = err
			}
		})
	}
	wg.Wait()
	winners := 0
	for i := range writers {
		if won[i] {
			winners++
		}
		if errs[i] != nil {
			e.fatalf("racing update: %v", errs[i])
		}
	}
	if winners != 1 {
		e.fatalf("%d racing updates succeeded, want 1", winners)
	}
	x, err := e.s.GetExecution(e.ctx, "race")
	e.must(err, "get")
	if len(x.StatusLog) != 2 || x.Version != 2 {
		e.fatalf("after the race: log %v version %d", x.StatusLog, x.Version)
	}
	// Many writers creating distinct records and output at once: all kept.
	var mu sync.Mutex
	var failures []error
	for w := range writers {
		wg.Go(func() {
			for j := range 10 {
				id := fmt.Sprintf("w%d-%d", w, j)
				if _, err := e.s.CreateExecution(e.ctx, store.Execution{ID: id, Action: "a.conc", Status: store.StatusRunning}); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
				if err := e.s.AppendOutput(e.ctx, store.OutputChunk{ExecutionID: "race", Seq: int64(w*10 + j + 1), Stream: store.Stdout, Data: id}); err != nil {
					mu.Lock()
					failures = append(failures, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		e.fatalf("concurrent writers: %v", failures[0])
	}
	n := 0
	tok := ""
	for {
		p, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{Action: "a.conc", Limit: 30, Token: tok})
		e.must(err, "list")
		n += len(p.Items)
		if tok = p.Next; tok == "" {
			break
		}
	}
	if n != writers*10 {
		e.fatalf("%d executions after concurrent creates, want %d", n, writers*10)
	}
	out, err := e.s.ListOutput(e.ctx, "race", 0, 1000)
	e.must(err, "output")
	if len(out) != writers*10 {
		e.fatalf("%d output chunks, want %d", len(out), writers*10)
	}
}

func testOutput(e *env) {
	for i := 1; i <= 25; i++ {
		s := store.Stdout
		if i%5 == 0 {
			s = store.Stderr
		}
		err := e.s.AppendOutput(e.ctx, store.OutputChunk{ExecutionID: "ex-o", Seq: int64(i), Stream: s, Data: fmt.Sprintf("line %d\n", i), At: T0.Add(time.Duration(i) * time.Millisecond)})
		e.must(err, "append")
	}
	err := e.s.AppendOutput(e.ctx, store.OutputChunk{ExecutionID: "ex-o", Seq: 3, Stream: store.Stdout, Data: "again"})
	e.wantErr(err, store.ErrAlreadyExists, "redelivered chunk")
	err = e.s.AppendOutput(e.ctx, store.OutputChunk{ExecutionID: "ex-other", Seq: 1, Stream: store.Stdout, Data: "other"})
	e.must(err, "other execution")
	all, err := e.s.ListOutput(e.ctx, "ex-o", 0, 100)
	e.must(err, "list")
	if len(all) != 25 {
		e.fatalf("%d chunks, want 25", len(all))
	}
	var sb strings.Builder
	for i, c := range all {
		if c.Seq != int64(i+1) || c.ExecutionID != "ex-o" {
			e.fatalf("chunk %d: %+v", i, c)
		}
		sb.WriteString(c.Data)
	}
	if !strings.HasPrefix(sb.String(), "line 1\nline 2\nline 3\n") || all[4].Stream != store.Stderr {
		e.fatalf("output: %q, chunk 5 on %s", sb.String()[:30], all[4].Stream)
	}
	e.sameJSON(all[9].At, T0.Add(10*time.Millisecond), "chunk time")
	tail, err := e.s.ListOutput(e.ctx, "ex-o", 20, 3)
	e.must(err, "tail")
	e.sameJSON(ids(tail, func(c store.OutputChunk) string { return fmt.Sprint(c.Seq) }), []string{"21", "22", "23"}, "tail after 20")
	none, err := e.s.ListOutput(e.ctx, "ex-o", 25, 10)
	e.must(err, "tail at the end")
	if len(none) != 0 {
		e.fatalf("%d chunks after the last", len(none))
	}
	err = e.s.AppendOutput(e.ctx, store.OutputChunk{ExecutionID: "ex-o", Seq: 0, Stream: store.Stdout})
	e.wantErr(err, store.ErrInvalid, "seq 0")
}

func testTrace(e *env) {
	_, err := e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{ID: "ti-a", Trigger: "core.webhook", TraceTag: "tag-1", OccurredAt: T0})
	e.must(err, "ti")
	_, err = e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{ID: "ti-b", Trigger: "core.webhook", TraceTag: "tag-2", OccurredAt: T0})
	e.must(err, "ti b")
	for i, r := range []string{"p.r1", "p.r2"} {
		_, err = e.s.CreateEnforcement(e.ctx, store.Enforcement{ID: "en-" + r, Rule: r, TriggerInstanceID: "ti-a", Status: store.EnforcementSucceeded, TraceTag: "tag-1", EnforcedAt: T0.Add(time.Duration(i+1) * time.Second)})
		e.must(err, "enforcement")
	}
	for i, id := range []string{"ex-a", "ex-b", "ex-c"} {
		x := store.Execution{ID: id, Action: "a.b", StartedAt: T0.Add(time.Duration(10+i) * time.Second), Context: store.ExecutionContext{TraceTag: "tag-1"}}
		_, err = e.s.CreateExecution(e.ctx, x)
		e.must(err, "execution")
	}
	_, err = e.s.CreateExecution(e.ctx, store.Execution{ID: "ex-z", Action: "a.b", Context: store.ExecutionContext{TraceTag: "tag-2"}})
	e.must(err, "execution z")
	tr, err := e.s.GetTrace(e.ctx, "tag-1")
	e.must(err, "GetTrace")
	e.sameJSON(tr, store.Trace{Tag: "tag-1", TriggerInstanceIDs: []string{"ti-a"}, EnforcementIDs: []string{"en-p.r1", "en-p.r2"}, ExecutionIDs: []string{"ex-a", "ex-b", "ex-c"}}, "trace")
	_, err = e.s.GetTrace(e.ctx, "tag-none")
	e.wantErr(err, store.ErrNotFound, "unknown tag")
}

func kvNames(p store.Page[store.KeyValue]) []string {
	return ids(p.Items, func(kv store.KeyValue) string { return kv.Name })
}

func testKeyValues(e *env) {
	put := func(scope store.Scope, user, name, value string) store.KeyValue {
		kv, err := e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: scope, User: user, Name: name}, Value: value})
		e.must(err, "put "+name)
		return kv
	}
	for i := range 12 {
		put(store.ScopeSystem, "", fmt.Sprintf("app.cfg.%02d", i), fmt.Sprint("v", i))
	}
	put(store.ScopeSystem, "", "app.other", "x")
	put(store.ScopeSystem, "", "zzz", "x")
	put(store.ScopeUser, "alice", "app.cfg.01", "alice's")
	put(store.ScopeUser, "bob", "app.cfg.01", "bob's")

	e.clock.Advance(time.Minute)
	upd := put(store.ScopeSystem, "", "app.cfg.03", "new")
	got, err := e.s.GetKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeSystem, Name: "app.cfg.03"}, false)
	e.must(err, "get")
	e.sameJSON(got, upd, "updated pair")
	if got.Value != "new" || !got.UpdatedAt.Equal(e.clock.Now()) {
		e.fatalf("after update: %+v", got)
	}
	got, err = e.s.GetKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeUser, User: "alice", Name: "app.cfg.01"}, false)
	e.must(err, "get user")
	if got.Value != "alice's" {
		e.fatalf("user scope read %q", got.Value)
	}
	_, err = e.s.GetKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeUser, User: "carol", Name: "app.cfg.01"}, false)
	e.wantErr(err, store.ErrNotFound, "other user's key")

	var names []string
	tok := ""
	for range 10 {
		p, err := e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: store.ScopeSystem, Prefix: "app.cfg.", Limit: 5, Token: tok})
		e.must(err, "list prefix")
		names = append(names, kvNames(p)...)
		if tok = p.Next; tok == "" {
			break
		}
	}
	var want []string
	for i := range 12 {
		want = append(want, fmt.Sprintf("app.cfg.%02d", i))
	}
	e.sameJSON(names, want, "prefix app.cfg. by name over pages")
	p, err := e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: store.ScopeUser, User: "bob"})
	e.must(err, "list user")
	if len(p.Items) != 1 || p.Items[0].Value != "bob's" {
		e.fatalf("bob's keys: %+v", p.Items)
	}
	p, err = e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: store.ScopeSystem})
	e.must(err, "list all system")
	if len(p.Items) != 14 {
		e.fatalf("%d system keys, want 14", len(p.Items))
	}

	e.must(e.s.DeleteKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeSystem, Name: "zzz"}), "delete")
	_, err = e.s.GetKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeSystem, Name: "zzz"}, false)
	e.wantErr(err, store.ErrNotFound, "get deleted")
	e.wantErr(e.s.DeleteKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeSystem, Name: "zzz"}), store.ErrNotFound, "delete again")
	_, err = e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeUser, Name: "x"}, Value: "v"})
	e.wantErr(err, store.ErrInvalid, "user scope without a user")
}

func testSecrets(e *env) {
	ref := store.KeyRef{Scope: store.ScopeSystem, Name: "db.password"}
	put, err := e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: ref, Value: "hunter2", Secret: true})
	e.must(err, "put secret")
	if put.Value != store.Masked || !put.Secret {
		e.fatalf("put returned %+v, want masked", put)
	}
	if e.ciph.Encrypts != 1 {
		e.fatalf("cipher Encrypt called %d times, want 1", e.ciph.Encrypts)
	}
	_, err = e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "db.host"}, Value: "db-1"})
	e.must(err, "put plain")
	got, err := e.s.GetKeyValue(e.ctx, ref, false)
	e.must(err, "get masked")
	if got.Value != store.Masked {
		e.fatalf("secret read without decryption: %q", got.Value)
	}
	got, err = e.s.GetKeyValue(e.ctx, ref, true)
	e.must(err, "get decrypted")
	if got.Value != "hunter2" {
		e.fatalf("decrypted %q", got.Value)
	}
	p, err := e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: store.ScopeSystem, Prefix: "db."})
	e.must(err, "list")
	if len(p.Items) != 2 {
		e.fatalf("listed %d", len(p.Items))
	}
	for _, kv := range p.Items {
		if kv.Name == "db.password" && kv.Value != store.Masked {
			e.fatalf("listing shows the secret: %q", kv.Value)
		}
		if kv.Name == "db.host" && kv.Value != "db-1" {
			e.fatalf("listing masks a plain value: %q", kv.Value)
		}
	}
	p, err = e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: store.ScopeSystem, Prefix: "db.", Decrypt: true})
	e.must(err, "list decrypted")
	for _, kv := range p.Items {
		if kv.Name == "db.password" && kv.Value != "hunter2" {
			e.fatalf("decrypted listing: %q", kv.Value)
		}
	}
}

func testNoCipher(e *env) {
	_, err := e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "s"}, Value: "v", Secret: true})
	e.wantErr(err, store.ErrNoCipher, "secret without a cipher")
	_, err = e.s.GetKeyValue(e.ctx, store.KeyRef{Scope: store.ScopeSystem, Name: "s"}, false)
	e.wantErr(err, store.ErrNotFound, "the refused secret was not written")
	_, err = e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "p"}, Value: "v"})
	e.must(err, "plain value without a cipher")
}

func testKeyValueTTL(e *env) {
	ref := store.KeyRef{Scope: store.ScopeSystem, Name: "lease"}
	_, err := e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: ref, Value: "v", ExpiresAt: T0.Add(time.Hour)})
	e.must(err, "put")
	_, err = e.s.GetKeyValue(e.ctx, ref, false)
	e.must(err, "get before expiry")
	e.clock.Advance(time.Hour)
	_, err = e.s.GetKeyValue(e.ctx, ref, false)
	e.wantErr(err, store.ErrNotFound, "get at expiry")
	p, err := e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: store.ScopeSystem})
	e.must(err, "list")
	if len(p.Items) != 0 {
		e.fatalf("expired pair listed")
	}
	// An expired pair can be put again.
	_, err = e.s.PutKeyValue(e.ctx, store.KeyValue{KeyRef: ref, Value: "v2"})
	e.must(err, "put again")
	got, err := e.s.GetKeyValue(e.ctx, ref, false)
	e.must(err, "get new")
	if got.Value != "v2" || !got.ExpiresAt.IsZero() {
		e.fatalf("re-put pair: %+v", got)
	}
}

func testInquiries(e *env) {
	for i := range 5 {
		q := store.Inquiry{ID: fmt.Sprintf("iq-%d", i), ExecutionID: fmt.Sprintf("ex-%d", i), Schema: json.RawMessage(`{"type":"object","properties":{"approve":{"type":"boolean"}}}`),
			Roles: []string{"ops"}, Users: []string{"alice"}, TaskToken: "tok-" + fmt.Sprint(i), CreatedAt: T0.Add(time.Duration(i) * time.Second),
			TimeoutAt: T0.Add(time.Duration(i)*time.Second + time.Hour)}
		got, err := e.s.CreateInquiry(e.ctx, q)
		e.must(err, "create")
		if got.Status != store.InquiryPending {
			e.fatalf("new inquiry is %s", got.Status)
		}
	}
	_, err := e.s.CreateInquiry(e.ctx, store.Inquiry{ID: "iq-0", ExecutionID: "other"})
	e.wantErr(err, store.ErrAlreadyExists, "duplicate")
	e.clock.Advance(time.Minute)
	got, err := e.s.ResolveInquiry(e.ctx, "iq-1", store.InquiryResponded, json.RawMessage(`{"approve":true}`), "alice")
	e.must(err, "respond")
	if got.Status != store.InquiryResponded || got.RespondedBy != "alice" || string(got.Response) != `{"approve":true}` || !got.UpdatedAt.Equal(e.clock.Now()) {
		e.fatalf("responded: %+v", got)
	}
	read, err := e.s.GetInquiry(e.ctx, "iq-1")
	e.must(err, "get")
	e.sameJSON(read, got, "read back")
	cur, err := e.s.ResolveInquiry(e.ctx, "iq-1", store.InquiryResponded, json.RawMessage(`{"approve":false}`), "bob")
	e.wantErr(err, store.ErrConflict, "second response")
	if string(cur.Response) != `{"approve":true}` {
		e.fatalf("second response changed the first: %s", cur.Response)
	}
	_, err = e.s.ResolveInquiry(e.ctx, "iq-2", store.InquiryPending, nil, "")
	e.wantErr(err, store.ErrIllegalTransition, "pending->pending")
	timedOut, err := e.s.ResolveInquiry(e.ctx, "iq-3", store.InquiryTimeout, nil, "")
	e.must(err, "timeout")
	// The deadline is kept, through the resolution too.
	if read, err := e.s.GetInquiry(e.ctx, "iq-3"); err != nil || read.Status != store.InquiryTimeout || !read.TimeoutAt.Equal(T0.Add(3*time.Second+time.Hour)) || !timedOut.TimeoutAt.Equal(read.TimeoutAt) {
		e.fatalf("timed-out inquiry: %+v (%v), want status timeout and timeout_at %s", read, err, T0.Add(3*time.Second+time.Hour))
	}
	_, err = e.s.ResolveInquiry(e.ctx, "iq-none", store.InquiryResponded, nil, "")
	e.wantErr(err, store.ErrNotFound, "missing")
	var pending []string
	tok := ""
	for range 5 {
		p, err := e.s.ListInquiries(e.ctx, store.InquiryQuery{Status: store.InquiryPending, Limit: 2, Token: tok})
		e.must(err, "list pending")
		pending = append(pending, ids(p.Items, func(q store.Inquiry) string { return q.ID })...)
		if tok = p.Next; tok == "" {
			break
		}
	}
	e.sameJSON(pending, []string{"iq-4", "iq-2", "iq-0"}, "pending inquiries newest first")
	p, err := e.s.ListInquiries(e.ctx, store.InquiryQuery{})
	e.must(err, "list all")
	if len(p.Items) != 5 {
		e.fatalf("%d inquiries", len(p.Items))
	}
}

func testAPIKeys(e *env) {
	for i := range 4 {
		k := store.APIKey{ID: fmt.Sprintf("ak-%d", i), KeyHash: store.HashAPIKey(fmt.Sprint("secret-key-", i)), User: "svc", Role: "admin", Enabled: true, CreatedAt: T0.Add(time.Duration(i) * time.Second)}
		_, err := e.s.CreateAPIKey(e.ctx, k)
		e.must(err, "create")
	}
	_, err := e.s.CreateAPIKey(e.ctx, store.APIKey{ID: "ak-0", KeyHash: store.HashAPIKey("x"), User: "u"})
	e.wantErr(err, store.ErrAlreadyExists, "duplicate id")
	k, err := e.s.APIKeyByHash(e.ctx, store.HashAPIKey("secret-key-2"))
	e.must(err, "by hash")
	if k.ID != "ak-2" || k.Role != "admin" || !k.Enabled {
		e.fatalf("by hash: %+v", k)
	}
	_, err = e.s.APIKeyByHash(e.ctx, store.HashAPIKey("wrong"))
	e.wantErr(err, store.ErrNotFound, "unknown key")
	p, err := e.s.ListAPIKeys(e.ctx, 3, "")
	e.must(err, "list")
	if len(p.Items) != 3 || p.Next == "" || p.Items[0].ID != "ak-3" {
		e.fatalf("first page: %+v next %q", ids(p.Items, func(k store.APIKey) string { return k.ID }), p.Next)
	}
	p2, err := e.s.ListAPIKeys(e.ctx, 3, p.Next)
	e.must(err, "list page 2")
	e.sameJSON(ids(p2.Items, func(k store.APIKey) string { return k.ID }), []string{"ak-0"}, "second page")
	e.must(e.s.DeleteAPIKey(e.ctx, "ak-2"), "delete")
	_, err = e.s.APIKeyByHash(e.ctx, store.HashAPIKey("secret-key-2"))
	e.wantErr(err, store.ErrNotFound, "deleted key")
	e.wantErr(e.s.DeleteAPIKey(e.ctx, "ak-2"), store.ErrNotFound, "delete again")
}

func testRetention(e *env) {
	_, err := e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{ID: "ti-r", Trigger: "t.r", TraceTag: "tr-r"})
	e.must(err, "ti")
	_, err = e.s.CreateEnforcement(e.ctx, store.Enforcement{ID: "en-r", Rule: "r.r", Status: store.EnforcementSucceeded, TraceTag: "tr-r"})
	e.must(err, "enforcement")
	x, err := e.s.CreateExecution(e.ctx, store.Execution{ID: "ex-r", Action: "a.r", Status: store.StatusSucceeded, Result: randomJSON(e.t, 600<<10), Context: store.ExecutionContext{TraceTag: "tr-r"}})
	e.must(err, "execution")
	if !x.ExpiresAt.Equal(T0.Add(2 * time.Hour)) {
		e.fatalf("execution expires at %v, want created+2h", x.ExpiresAt)
	}
	e.must(e.s.AppendOutput(e.ctx, store.OutputChunk{ExecutionID: "ex-r", Seq: 1, Stream: store.Stdout, Data: "x"}), "output")
	_, err = e.s.CreateInquiry(e.ctx, store.Inquiry{ID: "iq-r", ExecutionID: "ex-r"})
	e.must(err, "inquiry")
	_, err = e.s.CreateAPIKey(e.ctx, store.APIKey{ID: "ak-r", KeyHash: store.HashAPIKey("k"), User: "u"})
	e.must(err, "api key")

	e.clock.Advance(time.Hour) // trigger instances, enforcements, inquiries expire; executions stay.
	_, err = e.s.GetTriggerInstance(e.ctx, "ti-r")
	e.wantErr(err, store.ErrNotFound, "expired trigger instance")
	_, err = e.s.GetEnforcement(e.ctx, "en-r")
	e.wantErr(err, store.ErrNotFound, "expired enforcement")
	_, err = e.s.GetInquiry(e.ctx, "iq-r")
	e.wantErr(err, store.ErrNotFound, "expired inquiry")
	tp, err := e.s.ListTriggerInstances(e.ctx, store.TriggerInstanceQuery{})
	e.must(err, "list ti")
	ep, err := e.s.ListEnforcements(e.ctx, store.EnforcementQuery{})
	e.must(err, "list enforcements")
	ip, err := e.s.ListInquiries(e.ctx, store.InquiryQuery{Status: store.InquiryPending})
	e.must(err, "list inquiries")
	if len(tp.Items)+len(ep.Items)+len(ip.Items) != 0 {
		e.fatalf("expired records listed: %d %d %d", len(tp.Items), len(ep.Items), len(ip.Items))
	}
	_, err = e.s.GetExecution(e.ctx, "ex-r")
	e.must(err, "execution within retention")
	tr, err := e.s.GetTrace(e.ctx, "tr-r")
	e.must(err, "trace")
	if len(tr.TriggerInstanceIDs)+len(tr.EnforcementIDs) != 0 || len(tr.ExecutionIDs) != 1 {
		e.fatalf("trace after partial expiry: %+v", tr)
	}
	_, err = e.s.Purge(e.ctx)
	e.must(err, "purge")

	e.clock.Advance(time.Hour)
	_, err = e.s.GetExecution(e.ctx, "ex-r")
	e.wantErr(err, store.ErrNotFound, "expired execution")
	xp, err := e.s.ListExecutions(e.ctx, store.ExecutionQuery{})
	e.must(err, "list executions")
	if len(xp.Items) != 0 {
		e.fatalf("expired execution listed")
	}
	out, err := e.s.ListOutput(e.ctx, "ex-r", 0, 10)
	e.must(err, "output")
	if len(out) != 0 {
		e.fatalf("expired output listed")
	}
	_, err = e.s.GetTrace(e.ctx, "tr-r")
	e.wantErr(err, store.ErrNotFound, "expired trace")
	_, err = e.s.Purge(e.ctx)
	e.must(err, "purge again")
	// Retention does not apply to API keys; an expired id may be reused.
	_, err = e.s.APIKeyByHash(e.ctx, store.HashAPIKey("k"))
	e.must(err, "api key kept")
	_, err = e.s.CreateExecution(e.ctx, store.Execution{ID: "ex-r", Action: "a.r2"})
	e.must(err, "reuse an expired execution id")
	got, err := e.s.GetExecution(e.ctx, "ex-r")
	e.must(err, "get reused")
	if got.Action != "a.r2" || got.Result != nil {
		e.fatalf("reused id kept old data: %s result %d bytes", got.Action, len(got.Result))
	}
}

func testInvalid(e *env) {
	_, err := e.s.CreateExecution(e.ctx, store.Execution{ID: "x"})
	e.wantErr(err, store.ErrInvalid, "execution without action")
	_, err = e.s.CreateExecution(e.ctx, store.Execution{ID: "x", Action: "a.b", Status: "done"})
	e.wantErr(err, store.ErrInvalid, "unknown status")
	_, err = e.s.CreateTriggerInstance(e.ctx, store.TriggerInstance{ID: "x"})
	e.wantErr(err, store.ErrInvalid, "trigger instance without trigger")
	_, err = e.s.CreateEnforcement(e.ctx, store.Enforcement{ID: "x", Rule: "r"})
	e.wantErr(err, store.ErrInvalid, "enforcement without status")
	_, err = e.s.ListExecutions(e.ctx, store.ExecutionQuery{Token: "%%%"})
	e.wantErr(err, store.ErrInvalid, "bad execution token")
	_, err = e.s.ListKeyValues(e.ctx, store.KeyValueQuery{Scope: "team"})
	e.wantErr(err, store.ErrInvalid, "bad scope")
}
