package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
)

// Publisher puts trigger events on the bus; *bus.Bus satisfies it.
type Publisher interface {
	PutEvents(ctx context.Context, entries []bus.Entry) (bus.Output, error)
}

// Runner runs and cancels actions. Errors: store.ErrNotFound (unknown
// action or execution), enforcer.ErrInvalidParameters (a
// *enforcer.ParameterError), store.ErrConflict (a finished execution, a
// disabled action), others are internal.
type Runner interface {
	Run(ctx context.Context, req RunRequest, user string) (store.Execution, error)
	// ReRun starts the action of an execution again, its parameters
	// overridden by req.Parameters; with req.Tasks, a workflow starts at
	// those tasks with the variables the original had there.
	ReRun(ctx context.Context, id string, req ReRunRequest, user string) (store.Execution, error)
	Cancel(ctx context.Context, id string) (store.Execution, error)
	// Pause and Resume pause and resume a workflow.
	Pause(ctx context.Context, id string) (store.Execution, error)
	Resume(ctx context.Context, id string) (store.Execution, error)
}

// Inquiries answers inquiries (core.ask). Errors of Respond:
// store.ErrNotFound; a *enforcer.ParameterError for a response that does
// not match the inquiry's schema; store.ErrConflict when the inquiry is not
// pending or the user may not answer.
type Inquiries interface {
	Respond(ctx context.Context, id string, response map[string]any, user string) (store.Inquiry, error)
}

// Records reads the audit trail and the API keys; store.Store satisfies it.
type Records interface {
	GetExecution(ctx context.Context, id string) (store.Execution, error)
	ListExecutions(ctx context.Context, q store.ExecutionQuery) (store.Page[store.Execution], error)
	ListOutput(ctx context.Context, executionID string, afterSeq int64, limit int) ([]store.OutputChunk, error)
	GetTriggerInstance(ctx context.Context, id string) (store.TriggerInstance, error)
	ListTriggerInstances(ctx context.Context, q store.TriggerInstanceQuery) (store.Page[store.TriggerInstance], error)
	GetEnforcement(ctx context.Context, id string) (store.Enforcement, error)
	ListEnforcements(ctx context.Context, q store.EnforcementQuery) (store.Page[store.Enforcement], error)
	GetTrace(ctx context.Context, tag string) (store.Trace, error)
	GetInquiry(ctx context.Context, id string) (store.Inquiry, error)
	PutKeyValue(ctx context.Context, kv store.KeyValue) (store.KeyValue, error)
	GetKeyValue(ctx context.Context, ref store.KeyRef, decrypt bool) (store.KeyValue, error)
	ListKeyValues(ctx context.Context, q store.KeyValueQuery) (store.Page[store.KeyValue], error)
	DeleteKeyValue(ctx context.Context, ref store.KeyRef) error
	ListInquiries(ctx context.Context, q store.InquiryQuery) (store.Page[store.Inquiry], error)
	APIKeyByHash(ctx context.Context, hash string) (store.APIKey, error)
}

// Catalog answers what the loaded packs define.
type Catalog interface {
	// TriggerType returns the trigger type, or nil.
	TriggerType(ref string) *pack.TriggerType
	// HasWebhook reports whether an enabled rule listens on core.webhook
	// with this url (without a leading slash).
	HasWebhook(url string) bool
	// Action returns the action, or nil.
	Action(ref string) *pack.Action
	// Verifier returns the signature verifier of a webhook url, or nil
	// when the webhook is authenticated by API key.
	Verifier(url string) webhook.Verifier
}

// WebhookTrigger is the trigger type of webhooks at /api/v1/webhooks/<url>.
const WebhookTrigger = "core.webhook"

// Options configure a Server.
type Options struct {
	Version string
	// MaxBodyBytes bounds request bodies; default 1 MiB.
	MaxBodyBytes int64
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Server serves the API.
type Server struct {
	pub     Publisher
	runner  Runner
	inq     Inquiries
	records Records
	catalog Catalog
	opts    Options
	mux     *http.ServeMux
	// patterns are the routes registered, for the test against Routes.
	patterns []string

	keysMu sync.Mutex
	keys   map[string]cachedKey // by hash

	schemasMu sync.Mutex
	schemas   map[string]*schemaEntry // payload schema by trigger ref
}

type cachedKey struct {
	key     store.APIKey
	expires time.Time
}

// New builds the server.
func New(pub Publisher, runner Runner, inq Inquiries, records Records, catalog Catalog, opts Options) *Server {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Server{pub: pub, runner: runner, inq: inq, records: records, catalog: catalog, opts: opts,
		keys: map[string]cachedKey{}, schemas: map[string]*schemaEntry{}}
	m := newPatternMux() // remembers the patterns: see Routes
	m.HandleFunc("GET /api/v1/health", s.health)
	m.HandleFunc("POST /api/v1/webhooks/st2", s.auth(s.genericWebhook))
	m.HandleFunc("POST /api/v1/webhooks/{url...}", s.webhook) // API key or signature: see webhook
	m.HandleFunc("POST /api/v1/executions", s.auth(s.runAction))
	m.HandleFunc("GET /api/v1/executions", s.auth(s.listExecutions))
	m.HandleFunc("GET /api/v1/executions/{id}", s.auth(getByID(s, "execution", "id", s.records.GetExecution)))
	m.HandleFunc("GET /api/v1/executions/{id}/output", s.auth(s.output))
	m.HandleFunc("POST /api/v1/executions/{id}/cancel", s.auth(s.cancel))
	m.HandleFunc("POST /api/v1/executions/{id}/re-run", s.auth(s.reRun))
	m.HandleFunc("POST /api/v1/executions/{id}/pause", s.auth(s.control(s.runner.Pause, "pausing")))
	m.HandleFunc("POST /api/v1/executions/{id}/resume", s.auth(s.control(s.runner.Resume, "resuming")))
	m.HandleFunc("DELETE /api/v1/executions/{id}", s.auth(s.cancel))
	m.HandleFunc("GET /api/v1/actions/{ref}", s.auth(s.getAction))
	m.HandleFunc("GET /api/v1/trigger-instances", s.auth(s.listTriggerInstances))
	m.HandleFunc("GET /api/v1/trigger-instances/{id}", s.auth(getByID(s, "trigger instance", "id", s.records.GetTriggerInstance)))
	m.HandleFunc("GET /api/v1/enforcements", s.auth(s.listEnforcements))
	m.HandleFunc("GET /api/v1/enforcements/{id}", s.auth(getByID(s, "enforcement", "id", s.records.GetEnforcement)))
	m.HandleFunc("GET /api/v1/traces/{tag}", s.auth(getByID(s, "trace", "tag", s.records.GetTrace)))
	m.HandleFunc("GET /api/v1/keys/{scope}", s.auth(s.listKeys))
	m.HandleFunc("GET /api/v1/keys/{scope}/{name}", s.auth(s.getKey))
	m.HandleFunc("PUT /api/v1/keys/{scope}/{name}", s.auth(s.putKey))
	m.HandleFunc("DELETE /api/v1/keys/{scope}/{name}", s.auth(s.deleteKey))
	m.HandleFunc("GET /api/v1/inquiries", s.auth(s.listInquiries))
	m.HandleFunc("GET /api/v1/inquiries/{id}", s.auth(getByID(s, "inquiry", "id", func(ctx context.Context, id string) (store.Inquiry, error) {
		q, err := s.records.GetInquiry(ctx, id)
		return publicInquiry(q), err
	})))
	m.HandleFunc("POST /api/v1/inquiries/{id}/respond", s.auth(s.respond))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no route %s %s", r.Method, r.URL.Path), nil)
	})
	s.mux, s.patterns = m.ServeMux, m.patterns
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

type userKey struct{}

// auth checks the API key and puts its user in the request context.
func (s *Server) auth(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r, ok := s.authenticate(w, r); ok {
			next(w, r)
		}
	}
}

// authenticate checks the API key; it answers 401 (or 500) and reports
// false when the request may not go on.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	key := r.Header.Get(HeaderAPIKey)
	if key == "" {
		key = r.Header.Get(HeaderSt2APIKey)
	}
	if key == "" {
		writeError(w, http.StatusUnauthorized, CodeUnauthorized, "an API key is required in the "+HeaderAPIKey+" header", nil)
		return r, false
	}
	k, err := s.lookupKey(r.Context(), key)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusUnauthorized, CodeUnauthorized, "the API key is not valid", nil)
		return r, false
	}
	if err != nil {
		s.internal(w, "checking the API key", err)
		return r, false
	}
	return r.WithContext(context.WithValue(r.Context(), userKey{}, k.User)), true
}

func (s *Server) lookupKey(ctx context.Context, key string) (store.APIKey, error) {
	hash := store.HashAPIKey(key)
	now := s.opts.Now()
	s.keysMu.Lock()
	c, ok := s.keys[hash]
	s.keysMu.Unlock()
	if ok && now.Before(c.expires) {
		return c.key, nil
	}
	k, err := s.records.APIKeyByHash(ctx, hash)
	if err != nil {
		return store.APIKey{}, err
	}
	if !k.Enabled {
		return store.APIKey{}, fmt.Errorf("api key %s is disabled: %w", k.ID, store.ErrNotFound)
	}
	s.keysMu.Lock()
	s.keys[hash] = cachedKey{key: k, expires: now.Add(time.Minute)}
	s.keysMu.Unlock()
	return k, nil
}

func userOf(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

func (s *Server) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok", Version: s.opts.Version})
}

// readJSON decodes the request body into v; on failure it answers 400.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("reading the request body: %v", err), nil)
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("the request body is not the JSON expected: %v", err), []Problem{{Pointer: "", Message: err.Error()}})
		return false
	}
	return true
}

func (s *Server) runAction(w http.ResponseWriter, r *http.Request) {
	var req RunRequest
	if !s.readJSON(w, r, &req) {
		return
	}
	if req.Action == "" {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "the action to run is missing", []Problem{{Pointer: "/action", Message: "required"}})
		return
	}
	ex, err := s.runner.Run(r.Context(), req, userOf(r))
	if err != nil {
		s.fail(w, fmt.Sprintf("running %s", req.Action), err)
		return
	}
	writeJSON(w, http.StatusCreated, ex)
}

func (s *Server) listExecutions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, tr, ok := pageParams(w, q)
	if !ok {
		return
	}
	page, err := s.records.ListExecutions(r.Context(), store.ExecutionQuery{
		Status:            store.ExecutionStatus(q.Get("status")),
		Action:            q.Get("action"),
		Rule:              q.Get("rule"),
		TriggerInstanceID: q.Get("trigger_instance_id"),
		ParentID:          q.Get("parent_id"),
		TraceTag:          q.Get("trace_tag"),
		User:              q.Get("user"),
		TimeRange:         tr,
		Limit:             limit,
		Token:             q.Get("token"),
	})
	if err != nil {
		s.fail(w, "listing executions", err)
		return
	}
	writeJSON(w, http.StatusOK, ExecutionList{Items: nonNilSlice(page.Items), Next: page.Next})
}

func (s *Server) output(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q := r.URL.Query()
	after, ok := intParam(w, q.Get("after"), "after")
	if !ok {
		return
	}
	limit, ok := intParam(w, q.Get("limit"), "limit")
	if !ok {
		return
	}
	if limit <= 0 {
		limit = 1000
	}
	// Read the status first: chunks written before a final status are all
	// visible once the status is.
	ex, err := s.records.GetExecution(r.Context(), id)
	if err != nil {
		s.fail(w, "reading execution "+id, err)
		return
	}
	chunks, err := s.records.ListOutput(r.Context(), id, int64(after), limit)
	if err != nil {
		s.fail(w, "reading the output of "+id, err)
		return
	}
	writeJSON(w, http.StatusOK, Output{Chunks: nonNilSlice(chunks), Status: ex.Status})
}

func (s *Server) cancel(w http.ResponseWriter, r *http.Request) {
	ex, err := s.runner.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, "canceling execution "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, ex)
}

func (s *Server) getAction(w http.ResponseWriter, r *http.Request) {
	a := s.catalog.Action(r.PathValue("ref"))
	if a == nil {
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no action %q is loaded", r.PathValue("ref")), nil)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (s *Server) control(fn func(context.Context, string) (store.Execution, error), verb string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ex, err := fn(r.Context(), r.PathValue("id"))
		if err != nil {
			s.fail(w, verb+" execution "+r.PathValue("id"), err)
			return
		}
		writeJSON(w, http.StatusOK, ex)
	}
}

func (s *Server) reRun(w http.ResponseWriter, r *http.Request) {
	var req ReRunRequest
	if r.ContentLength != 0 && !s.readJSON(w, r, &req) {
		return
	}
	ex, err := s.runner.ReRun(r.Context(), r.PathValue("id"), req, userOf(r))
	if err != nil {
		s.fail(w, "re-running execution "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusCreated, ex)
}

func (s *Server) listTriggerInstances(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, tr, ok := pageParams(w, q)
	if !ok {
		return
	}
	page, err := s.records.ListTriggerInstances(r.Context(), store.TriggerInstanceQuery{Trigger: q.Get("trigger"), TimeRange: tr, Limit: limit, Token: q.Get("token")})
	if err != nil {
		s.fail(w, "listing trigger instances", err)
		return
	}
	writeJSON(w, http.StatusOK, TriggerInstanceList{Items: nonNilSlice(page.Items), Next: page.Next})
}

func (s *Server) listEnforcements(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, tr, ok := pageParams(w, q)
	if !ok {
		return
	}
	page, err := s.records.ListEnforcements(r.Context(), store.EnforcementQuery{Rule: q.Get("rule"), TimeRange: tr, Limit: limit, Token: q.Get("token")})
	if err != nil {
		s.fail(w, "listing enforcements", err)
		return
	}
	writeJSON(w, http.StatusOK, EnforcementList{Items: nonNilSlice(page.Items), Next: page.Next})
}

func (s *Server) listInquiries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(w, q.Get("limit"), "limit")
	if !ok {
		return
	}
	page, err := s.records.ListInquiries(r.Context(), store.InquiryQuery{Status: store.InquiryStatus(q.Get("status")), Limit: limit, Token: q.Get("token")})
	if err != nil {
		s.fail(w, "listing inquiries", err)
		return
	}
	for i := range page.Items {
		page.Items[i] = publicInquiry(page.Items[i])
	}
	writeJSON(w, http.StatusOK, InquiryList{Items: nonNilSlice(page.Items), Next: page.Next})
}

func (s *Server) respond(w http.ResponseWriter, r *http.Request) {
	var req RespondRequest
	if !s.readJSON(w, r, &req) {
		return
	}
	if req.Response == nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "the response is missing", []Problem{{Pointer: "/response", Message: "required: an object that satisfies the inquiry's schema"}})
		return
	}
	q, err := s.inq.Respond(r.Context(), r.PathValue("id"), req.Response, userOf(r))
	if err != nil {
		s.fail(w, "responding to inquiry "+r.PathValue("id"), err)
		return
	}
	writeJSON(w, http.StatusOK, publicInquiry(q))
}

// publicInquiry is an inquiry as the API shows it: without the Step
// Functions task token, which answers the waiting task to whoever holds it
// (with AWS rights) and is no business of the API's callers.
func publicInquiry(q store.Inquiry) store.Inquiry {
	q.TaskToken = ""
	return q
}

// keyRef is the datastore key of a /api/v1/keys route: scope system, or
// user (the caller's own keys).
func keyRef(r *http.Request) store.KeyRef {
	ref := store.KeyRef{Scope: store.Scope(r.PathValue("scope")), Name: r.PathValue("name")}
	if ref.Scope == store.ScopeUser {
		ref.User = userOf(r)
	}
	return ref
}

func (s *Server) putKey(w http.ResponseWriter, r *http.Request) {
	var req KeyRequest
	if !s.readJSON(w, r, &req) {
		return
	}
	kv := store.KeyValue{KeyRef: keyRef(r), Value: req.Value, Secret: req.Secret}
	if req.TTL > 0 {
		kv.ExpiresAt = s.opts.Now().Add(time.Duration(req.TTL) * time.Second)
	}
	got, err := s.records.PutKeyValue(r.Context(), kv)
	if err != nil {
		s.fail(w, "storing key "+kv.Name, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request) {
	ref := keyRef(r)
	got, err := s.records.GetKeyValue(r.Context(), ref, r.URL.Query().Get("decrypt") == "true")
	if err != nil {
		s.fail(w, "reading key "+ref.Name, err)
		return
	}
	writeJSON(w, http.StatusOK, got)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(w, q.Get("limit"), "limit")
	if !ok {
		return
	}
	ref := keyRef(r)
	page, err := s.records.ListKeyValues(r.Context(), store.KeyValueQuery{Scope: ref.Scope, User: ref.User, Prefix: q.Get("prefix"), Limit: limit, Token: q.Get("token")})
	if err != nil {
		s.fail(w, "listing keys", err)
		return
	}
	writeJSON(w, http.StatusOK, KeyList{Items: nonNilSlice(page.Items), Next: page.Next})
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request) {
	ref := keyRef(r)
	if err := s.records.DeleteKeyValue(r.Context(), ref); err != nil {
		s.fail(w, "deleting key "+ref.Name, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func intParam(w http.ResponseWriter, v, name string) (int, bool) {
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("query parameter %s=%q: expected a non-negative integer", name, v), nil)
		return 0, false
	}
	return n, true
}

func timeRange(w http.ResponseWriter, q map[string][]string) (store.TimeRange, bool) {
	var tr store.TimeRange
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"since", &tr.Since}, {"until", &tr.Until}} {
		v := ""
		if vs := q[f.name]; len(vs) > 0 {
			v = vs[0]
		}
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("query parameter %s=%q: expected an RFC 3339 time", f.name, v), nil)
			return tr, false
		}
		*f.dst = t
	}
	return tr, true
}

// fail answers an error from a port with the status it calls for.
func (s *Server) fail(w http.ResponseWriter, doing string, err error) {
	var pe *enforcer.ParameterError
	switch {
	case errors.As(err, &pe):
		in := pe.In
		if in == "" {
			in = "/parameters"
		}
		ps := make([]Problem, len(pe.Problems))
		for i, p := range pe.Problems {
			ps[i] = Problem{Pointer: in + p.Pointer, Message: p.Message}
		}
		writeError(w, http.StatusBadRequest, CodeInvalidParameters, fmt.Sprintf("%s: %v", doing, err), ps)
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("%s: %v", doing, err), nil)
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrIllegalTransition):
		writeError(w, http.StatusConflict, CodeConflict, fmt.Sprintf("%s: %v", doing, err), nil)
	case errors.Is(err, store.ErrInvalid):
		writeError(w, http.StatusBadRequest, CodeBadRequest, fmt.Sprintf("%s: %v", doing, err), nil)
	default:
		s.internal(w, doing, err)
	}
}

func (s *Server) internal(w http.ResponseWriter, doing string, err error) {
	s.opts.Logger.Error("api: "+doing, "err", err)
	writeError(w, http.StatusInternalServerError, CodeInternal, doing+": "+err.Error(), nil)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, errCode, msg string, problems []Problem) {
	writeJSON(w, code, ErrorBody{Error: ErrorDetail{Code: errCode, Message: msg, Problems: problems}})
}

func nonNilSlice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// getByID serves GET of one record whose id is the path value param.
func getByID[T any](s *Server, what, param string, get func(context.Context, string) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue(param)
		v, err := get(r.Context(), id)
		if err != nil {
			s.fail(w, "reading "+what+" "+id, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// pageParams reads the limit and the time range (since, until) of a list;
// on a bad value it has written the 400 and returns false.
func pageParams(w http.ResponseWriter, q url.Values) (int, store.TimeRange, bool) {
	limit, ok := intParam(w, q.Get("limit"), "limit")
	if !ok {
		return 0, store.TimeRange{}, false
	}
	tr, ok := timeRange(w, q)
	return limit, tr, ok
}
