package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeListAPI is an API on loopback whose key listing answers, for each
// page token asked for, the page next[token] (one key named after the
// token, and the next token); after 50 calls it answers 500, so that a
// listing that never stops fails instead of hanging the test. Inquiries
// and executions answer an empty page. It records the queries it got.
type fakeListAPI struct {
	next map[string]string

	mu      sync.Mutex
	calls   int
	queries []string
}

func (f *fakeListAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls++
	calls := f.calls
	f.queries = append(f.queries, r.URL.Path+"?"+r.URL.RawQuery)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case calls > 50:
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"the CLI keeps paging"}`))
	case r.URL.Path == "/api/v1/keys/system":
		tok := r.URL.Query().Get("token")
		page := map[string]any{
			"items": []map[string]any{{"name": "k-" + tok, "scope": "system", "value": "v"}},
			"next":  f.next[tok],
		}
		_ = json.NewEncoder(w).Encode(page)
	case r.URL.Path == "/api/v1/inquiries", r.URL.Path == "/api/v1/executions":
		_, _ = w.Write([]byte(`{"items":[]}`))
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeListAPI) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeListAPI) lastQuery() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queries) == 0 {
		return ""
	}
	return f.queries[len(f.queries)-1]
}

// TestKeyListPaging: key list reads every page, and stops with an error
// naming the token when the API answers a token it gave before.
func TestKeyListPaging(t *testing.T) {
	tests := []struct {
		name   string
		next   map[string]string
		code   int
		calls  int
		stdout []string
		stderr string
	}{
		{"pages until no token", map[string]string{"": "a", "a": "b"}, 0, 3, []string{"k-", "k-a", "k-b"}, ""},
		{"same token again", map[string]string{"": "stuck", "stuck": "stuck"}, 1, 2, nil, `page token "stuck" a second time`},
		{"token cycle", map[string]string{"": "a", "a": "b", "b": "a"}, 1, 3, nil, `page token "a" a second time`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeListAPI{next: tc.next}
			srv := httptest.NewServer(api)
			defer srv.Close()
			t.Setenv("BWC_API_URL", srv.URL)
			t.Setenv("BWC_API_KEY", "test-key")
			out, errOut, code := engineCLI("key", "list")
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
			if got := api.callCount(); got != tc.calls {
				t.Errorf("%d calls to the API, want %d", got, tc.calls)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestListLimit: inquiry list and execution list take --limit 0 (the
// API's default: no limit sent) and N, and refuse a negative one (exit 2)
// with a message that says what is allowed.
func TestListLimit(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		query  string // the last query the API got, for exit 0
		stderr string
	}{
		{"inquiry limit 0", []string{"inquiry", "list", "--limit", "0"}, 0, "/api/v1/inquiries?", ""},
		{"inquiry limit 3", []string{"inquiry", "list", "--limit", "3"}, 0, "/api/v1/inquiries?limit=3", ""},
		{"inquiry negative limit", []string{"inquiry", "list", "--limit", "-1"}, 2, "", "--limit -1: expected 0 (the API's page size) or more"},
		{"execution limit 0", []string{"execution", "list", "--limit", "0"}, 0, "/api/v1/executions?", ""},
		{"execution limit 3", []string{"execution", "list", "--limit", "3"}, 0, "/api/v1/executions?limit=3", ""},
		{"execution negative limit", []string{"execution", "list", "--limit", "-2"}, 2, "", "--limit -2: expected 0 (the default, 50) or more"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeListAPI{}
			srv := httptest.NewServer(api)
			defer srv.Close()
			t.Setenv("BWC_API_URL", srv.URL)
			t.Setenv("BWC_API_KEY", "test-key")
			_, errOut, code := engineCLI(tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, tc.code, tc.stderr)
			}
			if strings.Contains(errOut, "positive") {
				t.Errorf("stderr %q says positive, but 0 is allowed", errOut)
			}
			if tc.code != 0 {
				if n := api.callCount(); n != 0 {
					t.Errorf("bad usage called the API %d times", n)
				}
				return
			}
			if got := api.lastQuery(); got != tc.query {
				t.Errorf("API got %q, want %q", got, tc.query)
			}
		})
	}
}
