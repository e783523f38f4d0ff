package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/bus"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

// runner answers Run with the error its action name asks for, so that the
// error mapping of the API can be checked.
type runner struct{}

func (runner) Run(_ context.Context, req api.RunRequest, user string) (store.Execution, error) {
	switch req.Action {
	case "p.invalid":
		return store.Execution{}, &enforcer.ParameterError{Action: req.Action, Problems: []enforcer.Problem{{Pointer: "/n", Message: "got string, want integer"}}}
	case "p.missing":
		return store.Execution{}, fmt.Errorf("running: %w", store.ErrNotFound)
	case "p.disabled":
		return store.Execution{}, fmt.Errorf("running: %w", store.ErrConflict)
	case "p.broken":
		return store.Execution{}, errors.New("disk on fire")
	}
	return store.Execution{ID: "ex-1", Action: req.Action, Context: store.ExecutionContext{User: user}}, nil
}

func (runner) ReRun(context.Context, string, api.ReRunRequest, string) (store.Execution, error) {
	return store.Execution{}, store.ErrNotFound
}
func (runner) Cancel(context.Context, string) (store.Execution, error) {
	return store.Execution{}, store.ErrConflict
}
func (runner) Pause(context.Context, string) (store.Execution, error) {
	return store.Execution{}, store.ErrConflict
}
func (runner) Resume(context.Context, string) (store.Execution, error) {
	return store.Execution{}, store.ErrConflict
}

type inquiries struct{}

func (inquiries) Respond(_ context.Context, id string, _ map[string]any, _ string) (store.Inquiry, error) {
	if id == "iq-tok" {
		return store.Inquiry{ID: id, Status: store.InquiryResponded, TaskToken: "tok-secret"}, nil
	}
	return store.Inquiry{}, store.ErrNotFound
}

type catalog struct{}

func (catalog) TriggerType(ref string) *pack.TriggerType {
	if ref != "p.event" {
		return nil
	}
	return &pack.TriggerType{Ref: ref, PayloadSchema: map[string]any{
		"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}, "required": []any{"n"},
	}}
}
func (catalog) HasWebhook(url string) bool       { return url == "hooks/a" }
func (catalog) Action(string) *pack.Action       { return nil }
func (catalog) Verifier(string) webhook.Verifier { return nil }

func setup(t *testing.T) (*httptest.Server, *sqlite.DB, string) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	const key = "bwc_test_key"
	if _, err := db.CreateAPIKey(context.Background(), store.APIKey{ID: "k1", KeyHash: store.HashAPIKey(key), User: "alice", Role: "admin", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAPIKey(context.Background(), store.APIKey{ID: "k2", KeyHash: store.HashAPIKey("bwc_off"), User: "bob", Role: "admin", Enabled: false}); err != nil {
		t.Fatal(err)
	}
	b := bus.New(db, bus.TargetFunc(func(context.Context, string, rule.Envelope) error { return nil }), bus.Options{})
	srv := httptest.NewServer(api.New(b, runner{}, inquiries{}, db, catalog{}, api.Options{}))
	t.Cleanup(srv.Close)
	return srv, db, key
}

func TestErrorsAndAuth(t *testing.T) {
	srv, db, key := setup(t)
	tests := []struct {
		name, method, path, key, body string
		status                        int
		code                          string
		pointers                      string
	}{
		{"health needs no key", "GET", "/api/v1/health", "", "", 200, "", ""},
		{"no key", "GET", "/api/v1/executions", "", "", 401, api.CodeUnauthorized, ""},
		{"unknown key", "GET", "/api/v1/executions", "bwc_nope", "", 401, api.CodeUnauthorized, ""},
		{"disabled key", "GET", "/api/v1/executions", "bwc_off", "", 401, api.CodeUnauthorized, ""},
		{"run", "POST", "/api/v1/executions", key, `{"action": "p.ok"}`, 201, "", ""},
		{"run without action", "POST", "/api/v1/executions", key, `{}`, 400, api.CodeBadRequest, "/action"},
		{"run with a body that is not JSON", "POST", "/api/v1/executions", key, `{`, 400, api.CodeBadRequest, ""},
		{"invalid parameters", "POST", "/api/v1/executions", key, `{"action": "p.invalid"}`, 400, api.CodeInvalidParameters, "/parameters/n"},
		{"unknown action", "POST", "/api/v1/executions", key, `{"action": "p.missing"}`, 404, api.CodeNotFound, ""},
		{"conflict", "POST", "/api/v1/executions", key, `{"action": "p.disabled"}`, 409, api.CodeConflict, ""},
		{"internal", "POST", "/api/v1/executions", key, `{"action": "p.broken"}`, 500, api.CodeInternal, ""},
		{"unknown execution", "GET", "/api/v1/executions/ex-nope", key, "", 404, api.CodeNotFound, ""},
		{"bad limit", "GET", "/api/v1/executions?limit=x", key, "", 400, api.CodeBadRequest, ""},
		{"bad since", "GET", "/api/v1/executions?since=yesterday", key, "", 400, api.CodeBadRequest, ""},
		{"bad page token", "GET", "/api/v1/executions?token=!!", key, "", 400, api.CodeBadRequest, ""},
		{"cancel conflict", "POST", "/api/v1/executions/ex-1/cancel", key, "", 409, api.CodeConflict, ""},
		{"unknown route", "GET", "/api/v2/nothing", key, "", 404, api.CodeNotFound, ""},
		{"webhook nobody listens to", "POST", "/api/v1/webhooks/hooks/b", key, `{}`, 404, api.CodeNotFound, ""},
		{"webhook without key", "POST", "/api/v1/webhooks/hooks/a", "", `{}`, 401, api.CodeUnauthorized, ""},
		{"webhook", "POST", "/api/v1/webhooks/hooks/a", key, `{"x": 1}`, 202, "", ""},
		{"generic: bad payload", "POST", "/api/v1/webhooks/st2", key, `{"trigger": "p.event", "payload": {"n": "one"}}`, 400, api.CodeInvalidPayload, "/payload/n"},
		{"generic: no trigger", "POST", "/api/v1/webhooks/st2", key, `{"payload": {}}`, 400, api.CodeBadRequest, "/trigger"},
		{"generic", "POST", "/api/v1/webhooks/st2", key, `{"trigger": "p.event", "payload": {"n": 1}}`, 202, "", ""},
		{"respond to an unknown inquiry", "POST", "/api/v1/inquiries/iq-1/respond", key, `{"response": {}}`, 404, api.CodeNotFound, ""},
		{"respond without a response", "POST", "/api/v1/inquiries/iq-1/respond", key, `{}`, 400, api.CodeBadRequest, "/response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if tc.key != "" {
				req.Header.Set(api.HeaderAPIKey, tc.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d %s, want %d", resp.StatusCode, raw, tc.status)
			}
			if tc.code == "" {
				return
			}
			var eb api.ErrorBody
			if err := json.Unmarshal(raw, &eb); err != nil {
				t.Fatalf("error body %s: %v", raw, err)
			}
			var ptrs []string
			for _, p := range eb.Error.Problems {
				ptrs = append(ptrs, p.Pointer)
			}
			if eb.Error.Code != tc.code || strings.Join(ptrs, ",") != tc.pointers || eb.Error.Message == "" {
				t.Errorf("error %+v, want code %s and pointers %q", eb.Error, tc.code, tc.pointers)
			}
		})
	}
	// Two events were accepted; the rejected bodies recorded nothing.
	page, err := db.ListTriggerInstances(context.Background(), store.TriggerInstanceQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 {
		t.Errorf("%d trigger instances recorded, want 2", len(page.Items))
	}
	// The user of the key is passed on.
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/executions", strings.NewReader(`{"action": "p.ok"}`))
	req.Header.Set(api.HeaderSt2APIKey, key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ex store.Execution
	if err := json.NewDecoder(resp.Body).Decode(&ex); err != nil || ex.Context.User != "alice" {
		t.Errorf("execution %+v, %v; want user alice (St2-Api-Key accepted)", ex, err)
	}
}

// The Step Functions task token of an inquiry answers its task to whoever
// holds it: the API never shows it.
func TestInquiriesHideTheTaskToken(t *testing.T) {
	srv, db, key := setup(t)
	if _, err := db.CreateInquiry(context.Background(), store.Inquiry{ID: "iq-tok", ExecutionID: "ex-1", Status: store.InquiryPending,
		Schema: json.RawMessage(`{"type": "object"}`), TaskToken: "tok-secret"}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/inquiries/iq-tok", ""},
		{"GET", "/api/v1/inquiries", ""},
		{"POST", "/api/v1/inquiries/iq-tok/respond", `{"response": {}}`},
	} {
		req, err := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-BWC-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "iq-tok") || strings.Contains(string(b), "tok-secret") {
			t.Errorf("%s %s: %d %s; want the inquiry without its task token", r.method, r.path, resp.StatusCode, b)
		}
	}
}
