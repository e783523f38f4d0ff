package lambdafn_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
)

func TestHTTPAdapter(t *testing.T) {
	// echo answers what it received, and sets the response from headers.
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		http.SetCookie(w, &http.Cookie{Name: "s", Value: "1"})
		http.SetCookie(w, &http.Cookie{Name: "t", Value: "2"})
		if r.Header.Get("X-Binary") != "" {
			_, _ = w.Write([]byte{0xff, 0xfe, 0x00})
			return
		}
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery+" cookie="+r.Header.Get("Cookie")+" ip="+r.RemoteAddr+" body="+string(body))
	})
	a := lambdafn.HTTPAdapter{Handler: echo}
	for _, tc := range []struct {
		name       string
		ev         events.APIGatewayV2HTTPRequest
		wantStatus int
		wantBody   string
		wantB64    bool
	}{
		{
			name: "text",
			ev: events.APIGatewayV2HTTPRequest{RawPath: "/api/v1/webhooks/a%2Fb", RawQueryString: "x=1&y=2", Cookies: []string{"c=1", "d=2"}, Body: "hello",
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: "203.0.113.9"}}},
			wantStatus: http.StatusTeapot,
			wantBody:   "POST /api/v1/webhooks/a/b?x=1&y=2 cookie=c=1; d=2 ip=203.0.113.9 body=hello",
		},
		{
			name: "base64 body",
			ev: events.APIGatewayV2HTTPRequest{RawPath: "/p", Body: base64.StdEncoding.EncodeToString([]byte("bin\x01")), IsBase64Encoded: true,
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "PUT"}}},
			wantStatus: http.StatusTeapot,
			wantBody:   "PUT /p? cookie= ip= body=bin\x01",
		},
		{
			name: "binary response",
			ev: events.APIGatewayV2HTTPRequest{RawPath: "/p", Headers: map[string]string{"x-binary": "1"},
				RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}},
			wantStatus: http.StatusOK,
			wantBody:   base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0x00}),
			wantB64:    true,
		},
		{
			name:       "not a payload 2.0 event",
			ev:         events.APIGatewayV2HTTPRequest{RawPath: "/p"},
			wantStatus: http.StatusBadRequest,
			wantBody:   "requestContext.http.method",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := a.Handle(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || !strings.Contains(resp.Body, tc.wantBody) || resp.IsBase64Encoded != tc.wantB64 {
				t.Errorf("response %d %q base64 %v, want %d %q base64 %v", resp.StatusCode, resp.Body, resp.IsBase64Encoded, tc.wantStatus, tc.wantBody, tc.wantB64)
			}
			if tc.wantStatus == http.StatusBadRequest {
				return
			}
			if resp.Headers["X-Multi"] != "a,b" || strings.Join(resp.Cookies, ";") != "s=1;t=2" {
				t.Errorf("headers %v cookies %v, want X-Multi a,b and two cookies", resp.Headers, resp.Cookies)
			}
		})
	}
}

// TestHTTPAdapterEdges covers what API Gateway can send or a handler can
// answer beyond the common case.
func TestHTTPAdapterEdges(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("answer") {
		case "big":
			_, _ = w.Write(bytes.Repeat([]byte("x"), lambdafn.MaxResponseBytes+1))
			return
		case "json":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"a":1}`)
			return
		}
		_, _ = io.WriteString(w, "host="+r.URL.Host+" path="+r.URL.Path)
	})
	a := lambdafn.HTTPAdapter{Handler: h}
	ev := func(method, path, query string) events.APIGatewayV2HTTPRequest {
		return events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query,
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method}}}
	}
	for _, tc := range []struct {
		name        string
		ev          events.APIGatewayV2HTTPRequest
		wantStatus  int
		wantBody    string // substring
		wantType    string
		wantNoBody  bool
		wantErrCode string // the JSON error body's code
	}{
		{name: "double slash stays a path", ev: ev("GET", "//evil.example/x", ""), wantStatus: 200, wantBody: "host= path=//evil.example/x", wantType: "text/plain; charset=utf-8"},
		{name: "HEAD has no body", ev: ev("HEAD", "/p", ""), wantStatus: 200, wantNoBody: true, wantType: "text/plain; charset=utf-8"},
		{name: "content type kept", ev: ev("GET", "/p", "answer=json"), wantStatus: 200, wantBody: `{"a":1}`, wantType: "application/json"},
		{name: "response over the Lambda limit", ev: ev("GET", "/p", "answer=big"), wantStatus: 500, wantErrCode: "response_too_large"},
		{name: "invalid method answers JSON", ev: ev("GE\x01T", "/p", ""), wantStatus: 400, wantErrCode: "bad_request"},
		{name: "malformed escape", ev: ev("GET", "/a%zz", ""), wantStatus: 400, wantErrCode: "bad_request"},
		{name: "relative path", ev: ev("GET", "a/b", ""), wantStatus: 400, wantErrCode: "bad_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := a.Handle(context.Background(), tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %.200q)", resp.StatusCode, tc.wantStatus, resp.Body)
			}
			if tc.wantErrCode != "" {
				var doc struct{ Code, Message string }
				if err := json.Unmarshal([]byte(resp.Body), &doc); err != nil || doc.Code != tc.wantErrCode || doc.Message == "" {
					t.Fatalf("body %.300q (%v), want JSON {code: %s, message}", resp.Body, err, tc.wantErrCode)
				}
				return
			}
			if !strings.Contains(resp.Body, tc.wantBody) || (tc.wantNoBody && resp.Body != "") {
				t.Errorf("body %q, want %q (empty: %v)", resp.Body, tc.wantBody, tc.wantNoBody)
			}
			if got := resp.Headers["Content-Type"]; got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
		})
	}
}
