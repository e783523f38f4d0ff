package localcloud

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/bwc-project/bwc/internal/api/routes"
)

// fakeRIE stands in for aws-lambda-rie: it records the invocations and
// answers with status and body.
func fakeRIE(t *testing.T, status int, body string) (*RIE, chan []byte) {
	t.Helper()
	got := make(chan []byte, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != InvocationPath {
			t.Errorf("invoked with %s %s", r.Method, r.URL.Path)
		}
		b, _ := io.ReadAll(r.Body)
		got <- b
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &RIE{URL: srv.URL}, got
}

func TestRIE(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		result    string
		errorType string
	}{
		{"result", 200, `{"ok": true}`, `{"ok": true}`, ""},
		{"a result that only looks like an error", 200, `{"errorType": "x", "errorMessage": "y", "more": 1}`, `{"errorType": "x", "errorMessage": "y", "more": 1}`, ""},
		{"function error, as rie answers it", 200, `{"errorMessage":"boom","errorType":"bwc.ActionFailed"}`, "", "bwc.ActionFailed"},
		{"panic", 502, `{"errorMessage":"oh no","errorType":"string","stackTrace":[]}`, "", "string"},
		{"other failure", 500, `gateway down`, "", "Runtime.Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, got := fakeRIE(t, tt.status, tt.body)
			out, err := r.Invoke(context.Background(), []byte(`{"in": 1}`))
			if string(<-got) != `{"in": 1}` {
				t.Error("the payload was not passed as is")
			}
			var fe *FunctionError
			switch {
			case tt.errorType == "" && err != nil:
				t.Fatalf("err %v", err)
			case tt.errorType == "" && string(out) != tt.result:
				t.Errorf("result %s, want %s", out, tt.result)
			case tt.errorType != "" && !errors.As(err, &fe):
				t.Fatalf("err %v, want a *FunctionError", err)
			case tt.errorType != "" && fe.ErrorType != tt.errorType:
				t.Errorf("errorType %q, want %q", fe.ErrorType, tt.errorType)
			}
		})
	}
}

func TestAPIGatewayEvent(t *testing.T) {
	webhook, got := fakeRIE(t, 200, `{"statusCode": 201, "headers": {"X-One": "1"}, "multiValueHeaders": {"X-Many": ["a", "b"]},
		"cookies": ["c=1; Path=/", "d=2"], "body": "aGk=", "isBase64Encoded": true}`)
	inquiry, gotInquiry := fakeRIE(t, 200, `{"answered": true}`)
	broken, _ := fakeRIE(t, 200, `{"errorMessage": "boom", "errorType": "Oops"}`)
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Fallback", r.URL.Path)
		w.WriteHeader(http.StatusTeapot)
	})
	at := time.Date(2026, 11, 30, 1, 2, 3, 0, time.UTC)
	gw := &APIGateway{
		Functions:   map[string]Function{routes.FunctionWebhook: webhook, routes.FunctionInquiry: inquiry, "broken": broken},
		Fallback:    fallback,
		WebhookURLs: []string{"monitoring/alert"},
		Now:         func() time.Time { return at },
	}
	srv := httptest.NewServer(gw)
	defer srv.Close()

	t.Run("webhook event and response mapping", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/webhooks/monitoring/alert?x=1&x=2&y=z", strings.NewReader(`{"status": "firing"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Add("X-Multi", "p")
		req.Header.Add("X-Multi", "q")
		req.Header.Set("Cookie", "a=1; b=2")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(<-got, &ev); err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			what      string
			got, want any
		}{
			{"version", ev.Version, "2.0"},
			{"routeKey", ev.RouteKey, "POST /api/v1/webhooks/monitoring/alert"},
			{"requestContext.routeKey", ev.RequestContext.RouteKey, "POST /api/v1/webhooks/monitoring/alert"},
			{"rawPath", ev.RawPath, "/api/v1/webhooks/monitoring/alert"},
			{"rawQueryString", ev.RawQueryString, "x=1&x=2&y=z"},
			{"queryStringParameters", ev.QueryStringParameters, map[string]string{"x": "1,2", "y": "z"}},
			{"cookies", ev.Cookies, []string{"a=1", "b=2"}},
			{"cookie header", ev.Headers["cookie"], ""},
			{"multi-value header", ev.Headers["x-multi"], "p,q"},
			{"content-type", ev.Headers["content-type"], "application/json"},
			{"body", ev.Body, `{"status": "firing"}`},
			{"isBase64Encoded", ev.IsBase64Encoded, false},
			{"method", ev.RequestContext.HTTP.Method, "POST"},
			{"path", ev.RequestContext.HTTP.Path, "/api/v1/webhooks/monitoring/alert"},
			{"sourceIp", ev.RequestContext.HTTP.SourceIP, "127.0.0.1"},
			{"stage", ev.RequestContext.Stage, "$default"},
			{"accountId", ev.RequestContext.AccountID, Account},
			{"time", ev.RequestContext.Time, "30/Nov/2026:01:02:03 +0000"},
			{"timeEpoch", ev.RequestContext.TimeEpoch, at.UnixMilli()},
		}
		for _, c := range checks {
			if !jsonSame(c.got, c.want) {
				t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
			}
		}
		if ev.RequestContext.RequestID == "" {
			t.Error("no requestId")
		}
		if resp.StatusCode != 201 || string(body) != "hi" || resp.Header.Get("X-One") != "1" || resp.Header.Get("X-Many") != "a,b" {
			t.Errorf("response %d %q %v", resp.StatusCode, body, resp.Header)
		}
		if c := resp.Header.Values("Set-Cookie"); !slices.Equal(c, []string{"c=1; Path=/", "d=2"}) {
			t.Errorf("Set-Cookie %v", c)
		}
	})

	t.Run("binary body, path parameters, inferred response", func(t *testing.T) {
		resp, err := http.Post(srv.URL+"/api/v1/inquiries/inq-7/respond", "application/octet-stream", strings.NewReader("\x00\x01"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(<-gotInquiry, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.RouteKey != "POST /api/v1/inquiries/{id}/respond" || ev.PathParameters["id"] != "inq-7" {
			t.Errorf("routeKey %q pathParameters %v", ev.RouteKey, ev.PathParameters)
		}
		if !ev.IsBase64Encoded || ev.Body != base64.StdEncoding.EncodeToString([]byte("\x00\x01")) {
			t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(body) != `{"answered": true}` {
			t.Errorf("response %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	})

	tests := []struct {
		name, method, path string
		status             int
		body, header       string
	}{
		{"route of a function not given goes to the fallback", "GET", "/api/v1/executions/ex-1", http.StatusTeapot, "", "/api/v1/executions/ex-1"},
		{"no route", "GET", "/nowhere", http.StatusNotFound, `{"message":"Not Found"}`, ""},
		{"a webhook url no rule declares", "POST", "/api/v1/webhooks/other", http.StatusNotFound, `{"message":"Not Found"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != tt.status || string(body) != tt.body || resp.Header.Get("X-Fallback") != tt.header {
				t.Errorf("got %d %q fallback %q", resp.StatusCode, body, resp.Header.Get("X-Fallback"))
			}
		})
	}

	t.Run("function error", func(t *testing.T) {
		gw := &APIGateway{Functions: map[string]Function{routes.FunctionAPI: broken}}
		rec := httptest.NewRecorder()
		gw.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/health", nil))
		if rec.Code != 500 || rec.Body.String() != `{"message":"Internal Server Error"}` {
			t.Errorf("got %d %s", rec.Code, rec.Body)
		}
	})
}

func jsonSame(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
