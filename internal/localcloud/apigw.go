package localcloud

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/bwc-project/bwc/internal/api/routes"
)

// APIGateway is an API Gateway HTTP API front: it turns each request on
// one of the API's routes (package routes, as the CDK stack declares them) into
// a payload format 2.0 event for the function behind the route, and the
// function's answer into the HTTP response, as API Gateway does. A route
// whose function is not in Functions goes to Fallback (the embedded
// engine's API) unchanged.
type APIGateway struct {
	// Functions by name: routes.FunctionAPI, routes.FunctionWebhook,
	// routes.FunctionInquiry.
	Functions map[string]Function
	// Fallback serves the routes of functions not given; nil answers 502.
	Fallback http.Handler
	// WebhookURLs, when not nil, are the core.webhook urls the rules
	// declare: the stack has a route for each, so a request to another
	// url gets API Gateway's 404 without reaching any function.
	WebhookURLs []string
	// Now is the clock; default time.Now.
	Now    func() time.Time
	Logger *slog.Logger

	mux *http.ServeMux
}

// API Gateway's answers when the route or the integration fails.
const (
	notFoundBody    = `{"message":"Not Found"}`
	serverErrorBody = `{"message":"Internal Server Error"}`
	badRequestBody  = `{"message":"Bad Request"}`
)

// maxAPIGatewayBody is the HTTP API's payload limit (10 MB).
const maxAPIGatewayBody = 10 << 20

// apiID is the id of the local HTTP API, in request contexts.
const apiID = "bwclocal"

// ServeHTTP implements http.Handler.
func (g *APIGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.mux == nil {
		g.build()
	}
	g.mux.ServeHTTP(w, r)
}

func (g *APIGateway) build() {
	g.mux = http.NewServeMux()
	for _, rt := range routes.All() {
		g.mux.HandleFunc(rt.Pattern(), func(w http.ResponseWriter, r *http.Request) {
			g.serveRoute(w, r, rt)
		})
	}
	g.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { writeNotFound(w) })
}

func writeNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, notFoundBody)
}

func (g *APIGateway) serveRoute(w http.ResponseWriter, r *http.Request, rt routes.Route) {
	if rt.Path == routes.WebhookURLPath && g.WebhookURLs != nil && !slices.Contains(g.WebhookURLs, r.PathValue("url")) {
		writeNotFound(w)
		return
	}
	f := g.Functions[rt.Function]
	if f == nil {
		if g.Fallback == nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		g.Fallback.ServeHTTP(w, r)
		return
	}
	log := g.Logger
	if log == nil {
		log = slog.Default()
	}
	ev, err := g.Event(r, rt)
	if err != nil {
		w.Header().Set("Content-Type", "application/json")
		if errors.Is(err, errBodyTooLarge) {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			_, _ = io.WriteString(w, `{"message":"Request Entity Too Large"}`)
			return
		}
		log.Warn("reading a request", "route", rt.Method+" "+rt.Path, "err", err)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, badRequestBody)
		return
	}
	payload, _ := json.Marshal(ev)
	out, err := f.Invoke(r.Context(), payload)
	if err != nil {
		log.Error("invoking the function of a route", "route", ev.RouteKey, "function", rt.Function, "err", err)
		writeGatewayError(w)
		return
	}
	if err := writeFunctionResponse(w, out); err != nil {
		log.Error("mapping a function's answer to HTTP", "route", ev.RouteKey, "function", rt.Function, "err", err)
		writeGatewayError(w)
	}
}

func writeGatewayError(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = io.WriteString(w, serverErrorBody)
}

// Event builds the payload format 2.0 event of a request on route rt.
func (g *APIGateway) Event(r *http.Request, rt routes.Route) (events.APIGatewayV2HTTPRequest, error) {
	now := time.Now
	if g.Now != nil {
		now = g.Now
	}
	at := now().UTC()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxAPIGatewayBody+1))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("reading the request body: %w", err)
	}
	if len(body) > maxAPIGatewayBody {
		return events.APIGatewayV2HTTPRequest{}, errBodyTooLarge
	}
	path, params := routePath(r, rt)
	routeKey := rt.Method + " " + path
	headers := map[string]string{}
	var cookies []string
	for name, vals := range r.Header {
		lname := strings.ToLower(name)
		if lname == "cookie" {
			for _, v := range vals {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lname] = strings.Join(vals, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	headers["content-length"] = strconv.Itoa(len(body))
	if len(body) == 0 {
		delete(headers, "content-length")
	}
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = map[string]string{}
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	source, _, _ := net.SplitHostPort(r.RemoteAddr)
	requestID := newUUID()
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    Account,
			Stage:        "$default",
			RequestID:    requestID,
			APIID:        apiID,
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         at.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  source,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type")) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev, nil
}

type gatewayError string

func (e gatewayError) Error() string { return string(e) }

const errBodyTooLarge = gatewayError("the request body is over the HTTP API's 10 MB limit")

// routePath is the route's path as the stack declares it and the path
// parameters: a core.webhook url becomes part of the path (one route per
// url on AWS); {name} segments are parameters.
func routePath(r *http.Request, rt routes.Route) (string, map[string]string) {
	if rt.Path == routes.WebhookURLPath {
		return strings.TrimSuffix(rt.Path, "{url...}") + r.PathValue("url"), nil
	}
	var params map[string]string
	for _, seg := range strings.Split(rt.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "...")
			if params == nil {
				params = map[string]string{}
			}
			params[name] = r.PathValue(name)
		}
	}
	return rt.Path, params
}

// isText reports whether API Gateway passes a body of this content type
// as text (others are base64-encoded).
func isText(ctype string) bool {
	if ctype == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/xml" || strings.HasSuffix(mt, "+xml") || mt == "application/javascript" ||
		mt == "application/x-www-form-urlencoded"
}

// hasStatusCode reports whether a function's answer is an object with a
// statusCode (a structured response).
func hasStatusCode(out []byte) bool {
	var probe map[string]json.RawMessage
	err := json.Unmarshal(out, &probe)
	return err == nil && probe["statusCode"] != nil
}

// writeFunctionResponse maps a function's answer to the HTTP response as
// the payload format 2.0 does: an object with statusCode is the response
// (headers, multiValueHeaders joined with commas, cookies as Set-Cookie,
// a base64 body decoded when isBase64Encoded); any other JSON value is a
// 200 application/json response whose body is that JSON.
func writeFunctionResponse(w http.ResponseWriter, out []byte) error {
	if !hasStatusCode(out) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return nil
	}
	var resp struct {
		events.APIGatewayV2HTTPResponse
		StatusCode json.Number `json:"statusCode"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		return err
	}
	status, err := strconv.Atoi(resp.StatusCode.String())
	if err != nil || status < 100 || status > 599 {
		return gatewayError("the function's statusCode is not an HTTP status: " + resp.StatusCode.String())
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return gatewayError("the function's body is marked base64 but does not decode")
		}
	}
	h := w.Header()
	for k, vs := range resp.MultiValueHeaders {
		h.Set(k, strings.Join(vs, ","))
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	// The gateway frames the body itself, whatever the function says.
	h.Del("Content-Length")
	h.Del("Transfer-Encoding")
	if h.Get("Content-Type") == "" && len(body) > 0 {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}
