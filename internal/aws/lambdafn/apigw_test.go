package lambdafn_test

import (
	"context"
	"encoding/base64"
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
