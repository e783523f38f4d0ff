package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// DefaultMaxBody is the default limit on a webhook request body.
const DefaultMaxBody = 1 << 20 // 1 MiB

// ErrBodyTooLarge is wrapped by ReadBody when the body exceeds the limit.
var ErrBodyTooLarge = errors.New("request body too large")

// ErrBadBody is wrapped by the body parsers for a body they cannot accept
// (the engine answers 400 with the error text).
var ErrBadBody = errors.New("bad webhook body")

// bodyError is a body problem for the sender: its text says where and what
// was expected, without the sentinel's words, and it matches ErrBadBody.
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }
func (e *bodyError) Unwrap() error { return ErrBadBody }

func badBody(format string, args ...any) error {
	return &bodyError{msg: fmt.Sprintf(format, args...)}
}

// ReadBody reads at most limit bytes of r (DefaultMaxBody when limit <= 0)
// and fails, wrapping ErrBodyTooLarge and naming the limit, when there is
// more.
func ReadBody(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading the request body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("the request body exceeds the limit of %s: %w", sizeString(limit), ErrBodyTooLarge)
	}
	return b, nil
}

func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB (%d bytes)", n>>10, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// DecodeJSON decodes one JSON value, keeping numbers as json.Number so
// that large integers (ids) survive exactly. Errors say where the JSON
// breaks.
func DecodeJSON(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badBody("the body is empty, expected JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badBody("the body is not valid JSON: %s", jsonErrorText(err, len(body)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badBody("the body is not valid JSON: unexpected data after the JSON value at byte %d", dec.InputOffset())
	}
	return v, nil
}

func jsonErrorText(err error, size int) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("at byte %d: %v", se.Offset, se)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Sprintf("it ends early, after byte %d, with an unfinished value", size)
	}
	return err.Error()
}

// GenericEvent is the body of the generic endpoint (st2's
// POST /api/v1/webhooks/st2): {"trigger": "<pack>.<name>", "payload": {...}}.
type GenericEvent struct {
	Trigger string
	Payload map[string]any // empty (not nil) when the body has none
}

// refPattern is a trigger reference: a pack name, a dot, a name (which may
// itself contain dots, as in core.st2.webhook).
var refPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+\.[A-Za-z0-9_.:-]+$`)

// ParseGeneric parses a generic-endpoint body.
func ParseGeneric(body []byte) (GenericEvent, error) {
	v, err := DecodeJSON(body)
	if err != nil {
		return GenericEvent{}, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return GenericEvent{}, badBody(`the body is %s, expected an object {"trigger": "<pack>.<name>", "payload": {...}}`, jsonKind(v))
	}
	var extra []string
	for k := range obj {
		if k != "trigger" && k != "payload" {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return GenericEvent{}, badBody(`/%s: unknown field, the body takes "trigger" and "payload"`, escapePointer(extra[0]))
	}
	tv, ok := obj["trigger"]
	if !ok {
		return GenericEvent{}, badBody(`/trigger: required, the trigger type reference such as "mypack.my_trigger"`)
	}
	ref, ok := tv.(string)
	if !ok {
		return GenericEvent{}, badBody(`/trigger: got %s, expected a string such as "mypack.my_trigger"`, jsonKind(tv))
	}
	if !refPattern.MatchString(ref) {
		return GenericEvent{}, badBody(`/trigger: %q is not a trigger reference, expected "<pack>.<name>"`, truncate(ref, 100))
	}
	ev := GenericEvent{Trigger: ref, Payload: map[string]any{}}
	switch p := obj["payload"].(type) {
	case nil:
	case map[string]any:
		ev.Payload = p
	default:
		return GenericEvent{}, badBody(`/payload: got %s, expected an object`, jsonKind(p))
	}
	return ev, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// redactedHeaders are not copied into core.webhook payloads: they carry
// credentials, and payloads are stored in the audit trail. Keys are in
// canonical form (X-BWC-Api-Key is X-Bwc-Api-Key).
var redactedHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"X-Bwc-Api-Key":       true, // BWC's API key (api.HeaderAPIKey)
	"St2-Api-Key":         true, // st2's name for it
	"X-Auth-Token":        true,
}

// CorePayload builds the payload of a core.webhook trigger as st2 does:
// {"headers": {<name>: <value>}, "body": <body>}. Header names are in Go's
// canonical form ("X-Github-Event"), which is also the form st2 shows;
// repeated headers are joined with ", "; credential headers
// (Authorization, Cookie, X-BWC-Api-Key, St2-Api-Key, ...) are left out,
// whatever their spelling. The body is decoded by its
// Content-Type: JSON (the default, and any */json or *+json type), or
// application/x-www-form-urlencoded (an object of strings; a repeated
// field becomes an array).
func CorePayload(header http.Header, body []byte) (map[string]any, error) {
	hs := map[string]any{}
	for name, vals := range header {
		if redactedHeaders[http.CanonicalHeaderKey(name)] {
			continue
		}
		hs[http.CanonicalHeaderKey(name)] = strings.Join(vals, ", ")
	}
	b, err := decodeByType(header.Get("Content-Type"), body)
	if err != nil {
		return nil, err
	}
	return map[string]any{"headers": hs, "body": b}, nil
}

func decodeByType(contentType string, body []byte) (any, error) {
	mt := ""
	if contentType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(contentType); err != nil {
			return nil, badBody("the Content-Type %q does not parse: %v", truncate(contentType, 100), err)
		}
	}
	switch {
	case mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "/json"):
		return DecodeJSON(body)
	case mt == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, badBody("the form body does not parse: %v", err)
		}
		out := map[string]any{}
		for k, vs := range vals {
			if len(vs) == 1 {
				out[k] = vs[0]
				continue
			}
			arr := make([]any, len(vs))
			for i, s := range vs {
				arr[i] = s
			}
			out[k] = arr
		}
		return out, nil
	}
	return nil, badBody("the Content-Type %q is not accepted, send application/json or application/x-www-form-urlencoded", mt)
}

// urlPattern is a webhook URL (the url parameter of a core.webhook rule):
// path segments of letters, digits and -_.~ separated by "/".
var urlPattern = regexp.MustCompile(`^[A-Za-z0-9_.~-]+(/[A-Za-z0-9_.~-]+)*$`)

// NormalizeURL returns a core.webhook url parameter without leading and
// trailing slashes (st2 does the same), so "/github/", "github" and
// "github/" name one endpoint: POST /api/v1/webhooks/github. "st2" is
// reserved for the generic endpoint.
func NormalizeURL(u string) (string, error) {
	s := strings.Trim(strings.TrimSpace(u), "/")
	if s == "" {
		return "", errors.New(`webhook url: empty (expected a path such as "github" or "alerts/grafana")`)
	}
	if s == "st2" {
		return "", errors.New(`webhook url: "st2" is the generic endpoint POST /api/v1/webhooks/st2 and cannot be a core.webhook url`)
	}
	if !urlPattern.MatchString(s) {
		return "", fmt.Errorf(`webhook url %q: use letters, digits and -_.~ in "/"-separated segments`, truncate(u, 100))
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf(`webhook url %q: "." and ".." segments are not allowed`, truncate(u, 100))
		}
	}
	return s, nil
}
