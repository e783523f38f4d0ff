package lambdafn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// HTTPAdapter serves API Gateway HTTP API events (payload format 2.0) with
// a net/http handler: the event becomes an *http.Request (method, raw path
// and query, headers, cookies, body decoded from base64 when API Gateway
// encoded it, source IP), and what the handler writes becomes the
// response (headers with several values joined by commas as API Gateway
// does, Set-Cookie headers as cookies, a body that is not UTF-8 text
// base64-encoded, a Content-Type sniffed when the handler set none, no
// body for HEAD). An event that is not a request (no method, a raw path
// that is not absolute or does not unescape, a body marked base64 that
// does not decode) is answered 400, and a response over MaxResponseBytes
// 500, each with the API's JSON error body ({"code", "message"}).
type HTTPAdapter struct {
	Handler http.Handler
}

// Handle implements the function.
func (a HTTPAdapter) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	req, err := NewHTTPRequest(ctx, ev)
	if err != nil {
		return errorResponse(http.StatusBadRequest, "bad_request", err.Error()), nil
	}
	w := &responseWriter{header: http.Header{}}
	a.Handler.ServeHTTP(w, req)
	resp := w.response(req.Method == http.MethodHead)
	if n := responseSize(resp); n > MaxResponseBytes {
		return errorResponse(http.StatusInternalServerError, "response_too_large",
			fmt.Sprintf("the response to %s %s is %d bytes, over the %d bytes a Lambda function may answer: ask for less (a smaller page, a field selection)", req.Method, req.URL.Path, n, MaxResponseBytes)), nil
	}
	return resp, nil
}

// MaxResponseBytes bounds the API Gateway response the adapter returns:
// Lambda refuses a synchronous response over 6 MB (6,291,556 bytes of
// JSON), which API Gateway reports as an opaque 500; the adapter answers
// a 500 that says why instead, with room left for the envelope.
const MaxResponseBytes = 6_000_000

// responseSize is the size of resp as Lambda counts it: its JSON encoding.
func responseSize(resp events.APIGatewayV2HTTPResponse) int {
	b, err := json.Marshal(resp)
	if err != nil {
		return 0
	}
	return len(b)
}

// errorResponse is a JSON error answer in the API's format
// ({"code", "message"}).
func errorResponse(status int, code, message string) events.APIGatewayV2HTTPResponse {
	body, _ := json.Marshal(map[string]string{"code": code, "message": message})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}
}

// NewHTTPRequest builds the request an API Gateway payload 2.0 event
// describes.
func NewHTTPRequest(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		return nil, fmt.Errorf("the event has no requestContext.http.method: expected an API Gateway HTTP API payload 2.0 event")
	}
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	if path == "" {
		path = "/"
	}
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("rawPath %q does not start with /: expected an absolute path", path)
	}
	// The URL is built, not parsed from a string: a path such as
	// //host/x must stay a path, not become a host.
	u := &url.URL{Path: path, RawQuery: ev.RawQueryString}
	if p, err := url.PathUnescape(path); err != nil {
		return nil, fmt.Errorf("rawPath %q: %w", path, err)
	} else if p != path {
		u.Path, u.RawPath = p, path
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("the body is marked base64 but does not decode: %w", err)
		}
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, method, "/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building the request %s %s: %w", method, path, err)
	}
	req.URL = u
	req.RequestURI = u.RequestURI()
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	if h := req.Header.Get("Host"); h != "" {
		req.Host = h
	} else {
		req.Host = ev.RequestContext.DomainName
	}
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	req.ContentLength = int64(len(body))
	return req, nil
}

// responseWriter collects a handler's response.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *responseWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

// response is what the handler wrote; a HEAD request's answer has the
// headers and no body, as net/http's server sends it.
func (w *responseWriter) response(head bool) events.APIGatewayV2HTTPResponse {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	b := w.body.Bytes()
	if len(b) > 0 && w.header.Get("Content-Type") == "" {
		// net/http's server sniffs a missing Content-Type; API Gateway
		// would send none.
		w.header.Set("Content-Type", http.DetectContentType(b))
	}
	if head {
		b = nil
	}
	out := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
	for k, vs := range w.header {
		if http.CanonicalHeaderKey(k) == "Set-Cookie" {
			out.Cookies = append(out.Cookies, vs...)
			continue
		}
		out.Headers[k] = strings.Join(vs, ",")
	}
	if utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(b)
		out.IsBase64Encoded = true
	}
	return out
}
