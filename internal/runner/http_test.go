package runner_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/runner"
)

// echoServer answers with what it received, as JSON, except on the paths
// that test other answers.
func echoServer(t *testing.T) (*httptest.Server, chan struct{}) {
	t.Helper()
	hanging := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		user, pass, _ := r.BasicAuth()
		cookie, _ := r.Cookie("session")
		var cookieValue string
		if cookie != nil {
			cookieValue = cookie.Value
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Reply", "yes")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "query": r.URL.RawQuery, "body": string(body),
			"content_type": r.Header.Get("Content-Type"), "custom": r.Header.Get("X-Custom"),
			"action": r.Header.Get("X-BWC-Action"), "execution": r.Header.Get("X-BWC-Execution-ID"),
			"user": user, "pass": pass, "cookie": cookieValue,
		})
	})
	mux.HandleFunc("/text", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "plain {not json}")
	})
	mux.HandleFunc("/badjson", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{oops")
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.URL.Path[len("/status/"):])
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "status body")
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/text")
		w.WriteHeader(http.StatusFound)
		_, _ = io.WriteString(w, "moved")
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		hanging <- struct{}{}
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, hanging
}

func TestHTTPRequest(t *testing.T) {
	srv, _ := echoServer(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	action := runner.Action{Ref: "demo.http", RunnerType: runner.TypeHTTPRequest}
	tests := []struct {
		name       string
		params     map[string]any
		rparams    map[string]any
		wantErr    string
		retryable  bool
		wantStatus int
		wantBody   any
		wantParsed bool
	}{
		{
			name:       "GET with query, headers, cookies, basic auth; JSON parsed",
			rparams:    map[string]any{"url": srv.URL + "/echo?a=1", "headers": map[string]any{"X-Custom": "c"}, "cookies": map[string]any{"session": "s1"}, "username": "u", "password": "p"},
			params:     map[string]any{"params": map[string]any{"b": "2"}},
			wantStatus: 200, wantParsed: true,
			wantBody: map[string]any{"method": "GET", "query": "a=1&b=2", "body": "", "content_type": "", "custom": "c",
				"action": "demo.http", "execution": "ex-9", "user": "u", "pass": runner.Masked, "cookie": "s1"}, // a secret (password) is masked
		},
		{
			name:       "object body is sent as JSON with POST",
			rparams:    map[string]any{"url": srv.URL + "/echo"},
			params:     map[string]any{"body": map[string]any{"k": []any{1.0, "two"}}},
			wantStatus: 200, wantParsed: true,
			wantBody: map[string]any{"method": "POST", "query": "", "body": `{"k":[1,"two"]}`, "content_type": "application/json", "custom": "",
				"action": "demo.http", "execution": "ex-9", "user": "", "pass": "", "cookie": ""},
		},
		{
			name:       "string body as is, explicit method",
			rparams:    map[string]any{"url": srv.URL + "/echo", "headers": map[string]any{"Content-Type": "text/csv"}},
			params:     map[string]any{"body": "a,b", "method": "put"},
			wantStatus: 200, wantParsed: true,
			wantBody: map[string]any{"method": "PUT", "query": "", "body": "a,b", "content_type": "text/csv", "custom": "",
				"action": "demo.http", "execution": "ex-9", "user": "", "pass": "", "cookie": ""},
		},
		{
			name:       "text is not parsed",
			rparams:    map[string]any{"url": srv.URL + "/text"},
			wantStatus: 200, wantBody: "plain {not json}",
		},
		{
			name:       "bad JSON stays a string",
			rparams:    map[string]any{"url": srv.URL + "/badjson"},
			wantStatus: 200, wantBody: "{oops",
		},
		{
			name:       "404 fails, not retryable",
			rparams:    map[string]any{"url": srv.URL + "/status/404"},
			wantErr:    runner.ErrNameActionFailed,
			wantStatus: 404, wantBody: "status body",
		},
		{
			name:    "503 fails, retryable",
			rparams: map[string]any{"url": srv.URL + "/status/503"},
			wantErr: runner.ErrNameActionFailed, retryable: true,
			wantStatus: 503, wantBody: "status body",
		},
		{
			name:       "redirects not followed by default (st2)",
			rparams:    map[string]any{"url": srv.URL + "/redirect"},
			wantErr:    runner.ErrNameActionFailed,
			wantStatus: 302, wantBody: "moved",
		},
		{
			name:       "allow_redirects",
			rparams:    map[string]any{"url": srv.URL + "/redirect", "allow_redirects": true},
			wantStatus: 200, wantBody: "plain {not json}",
		},
		{
			name:      "connection refused",
			rparams:   map[string]any{"url": closedURL},
			wantErr:   runner.ErrNameHTTPRequestFailed,
			retryable: true,
		},
		{
			name:    "blacklisted host",
			rparams: map[string]any{"url": srv.URL + "/echo", "url_hosts_blacklist": []any{"127.0.0.1"}},
			wantErr: runner.ErrNameInvalidParameters,
		},
		{
			name:    "not whitelisted host",
			rparams: map[string]any{"url": srv.URL + "/echo", "url_hosts_whitelist": []any{"example.com"}},
			wantErr: runner.ErrNameInvalidParameters,
		},
		{
			name:    "bad URL",
			rparams: map[string]any{"url": "ftp://x"},
			wantErr: runner.ErrNameInvalidParameters,
		},
	}
	reg := runner.New(runner.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := reg.Run(context.Background(), runner.Request{ExecutionID: "ex-9", Action: action, Parameters: tt.params, RunnerParameters: tt.rparams})
			if got := errName(t, err); got != tt.wantErr {
				t.Fatalf("error = %v, want name %q", err, tt.wantErr)
			}
			if err != nil {
				var ae *runner.ActionError
				errors.As(err, &ae)
				if ae.Retryable != tt.retryable {
					t.Errorf("retryable = %v, want %v", ae.Retryable, tt.retryable)
				}
			}
			if tt.wantStatus == 0 {
				return
			}
			v := res.Value.(map[string]any)
			if v["status_code"] != tt.wantStatus || v["parsed"] != tt.wantParsed || !reflect.DeepEqual(v["body"], tt.wantBody) {
				t.Errorf("result = %#v\nwant status %d parsed %v body %#v", v, tt.wantStatus, tt.wantParsed, tt.wantBody)
			}
			if tt.wantParsed && v["headers"].(map[string]any)["X-Reply"] != "yes" {
				t.Errorf("headers = %#v", v["headers"])
			}
		})
	}
}

func TestHTTPRequestTimeout(t *testing.T) {
	srv, hanging := echoServer(t)
	clock := newFakeClock()
	reg := runner.New(runner.Options{Clock: clock})
	done := startAsync(context.Background(), reg, runner.Request{
		Action:           runner.Action{RunnerType: runner.TypeHTTPRequest},
		RunnerParameters: map[string]any{"url": srv.URL + "/hang", "timeout": 2},
	})
	select {
	case <-hanging:
	case <-time.After(hangGuard):
		t.Fatal("the request never reached the server")
	}
	clock.Advance(2 * time.Second)
	o := waitOutcome(t, done)
	if got := errName(t, o.err); got != runner.ErrNameActionTimeout {
		t.Fatalf("error = %v, want %s", o.err, runner.ErrNameActionTimeout)
	}
}
