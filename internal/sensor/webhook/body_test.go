package webhook

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestReadBody(t *testing.T) {
	b, err := ReadBody(strings.NewReader("abc"), 3)
	if err != nil || string(b) != "abc" {
		t.Fatalf("ReadBody at the limit = %q, %v", b, err)
	}
	_, err = ReadBody(strings.NewReader("abcd"), 3)
	if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "limit of 3 bytes") {
		t.Errorf("ReadBody over the limit: %v", err)
	}
	_, err = ReadBody(strings.NewReader(strings.Repeat("x", DefaultMaxBody+1)), 0)
	if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "1 MiB (1048576 bytes)") {
		t.Errorf("ReadBody over the default limit: %v", err)
	}
	if b, err := ReadBody(strings.NewReader(strings.Repeat("x", DefaultMaxBody)), 0); err != nil || len(b) != DefaultMaxBody {
		t.Errorf("ReadBody at the default limit: %d, %v", len(b), err)
	}
}

func TestParseGeneric(t *testing.T) {
	tests := []struct {
		body    string
		trigger string
		payload map[string]any
		err     string
	}{
		{body: `{"trigger": "mypack.alert", "payload": {"host": "web1", "n": 12345678901234567890}}`,
			trigger: "mypack.alert", payload: map[string]any{"host": "web1", "n": json.Number("12345678901234567890")}},
		{body: `{"trigger": "core.st2.webhook"}`, trigger: "core.st2.webhook", payload: map[string]any{}},
		{body: `{"trigger": "a.b", "payload": null}`, trigger: "a.b", payload: map[string]any{}},
		{body: ``, err: "the body is empty, expected JSON"},
		{body: `{"trigger": "a.b",}`, err: "the body is not valid JSON: at byte 19"},
		{body: `{"trigger": "a.b"`, err: "the body is not valid JSON: it ends early, after byte 17"},
		{body: `{"trigger": "a.b"} {}`, err: "unexpected data after the JSON value"},
		{body: `[1]`, err: `the body is an array, expected an object {"trigger"`},
		{body: `{"payload": {}}`, err: `/trigger: required`},
		{body: `{"trigger": 5}`, err: `/trigger: got a number, expected a string`},
		{body: `{"trigger": "nodot"}`, err: `/trigger: "nodot" is not a trigger reference`},
		{body: `{"trigger": "a.b", "payload": [1]}`, err: `/payload: got an array, expected an object`},
		{body: `{"trigger": "a.b", "data/x": 1}`, err: `/data~1x: unknown field`},
	}
	for _, tt := range tests {
		ev, err := ParseGeneric([]byte(tt.body))
		if tt.err != "" {
			if !errors.Is(err, ErrBadBody) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseGeneric(%s) error %v, want %q", tt.body, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), ErrBadBody.Error()) {
				t.Errorf("ParseGeneric(%s) error %q repeats the sentinel's text to the sender", tt.body, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseGeneric(%s): %v", tt.body, err)
			continue
		}
		if ev.Trigger != tt.trigger || !reflect.DeepEqual(ev.Payload, tt.payload) {
			t.Errorf("ParseGeneric(%s) = %+v", tt.body, ev)
		}
	}
}

func TestCorePayload(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-GitHub-Event", "push")
	h.Add("X-Multi", "a")
	h.Add("X-Multi", "b")
	h.Set("Authorization", "Bearer secret")
	h.Set("Cookie", "session=1")
	p, err := CorePayload(h, []byte(`{"ref": "refs/heads/main"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"headers": map[string]any{"Content-Type": "application/json; charset=utf-8", "X-Github-Event": "push", "X-Multi": "a, b"},
		"body":    map[string]any{"ref": "refs/heads/main"},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("CorePayload =\n%#v\nwant\n%#v", p, want)
	}

	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	p, err = CorePayload(form, []byte("a=1&b=2&b=3"))
	if err != nil {
		t.Fatal(err)
	}
	if got := p["body"]; !reflect.DeepEqual(got, map[string]any{"a": "1", "b": []any{"2", "3"}}) {
		t.Errorf("form body = %#v", got)
	}

	// Arrays and +json types are JSON too; no Content-Type means JSON.
	for _, ct := range []string{"", "application/vnd.api+json", "text/json"} {
		if _, err := CorePayload(http.Header{"Content-Type": {ct}}, []byte(`[1,2]`)); err != nil {
			t.Errorf("Content-Type %q: %v", ct, err)
		}
	}
	for _, c := range []struct{ ct, body, want string }{
		{"text/plain", "hi", `the Content-Type "text/plain" is not accepted`},
		{"application/json", "{", "not valid JSON"},
		{"application/json;;", "{}", "does not parse"},
	} {
		_, err := CorePayload(http.Header{"Content-Type": {c.ct}}, []byte(c.body))
		if !errors.Is(err, ErrBadBody) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Content-Type %q body %q: error %v, want %q", c.ct, c.body, err, c.want)
		}
	}
}

// Credential headers never reach a core.webhook payload (it is stored in
// the audit trail), however the sender or a gateway spells them.
func TestCorePayloadRedactsCredentials(t *testing.T) {
	tests := []struct {
		name   string
		header string
	}{
		{"BWC API key", "X-BWC-Api-Key"},
		{"BWC API key lower case from a gateway", "x-bwc-api-key"},
		{"st2 API key", "St2-Api-Key"},
		{"authorization", "Authorization"},
		{"proxy authorization", "proxy-authorization"},
		{"cookie", "Cookie"},
		{"auth token", "X-Auth-Token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Set directly in the map, as a header built from an API
			// Gateway event may be, so the spelling is kept.
			h := http.Header{tc.header: {"s3cr3t-value"}, "X-Github-Event": {"push"}}
			p, err := CorePayload(h, []byte(`{}`))
			if err != nil {
				t.Fatal(err)
			}
			hs := p["headers"].(map[string]any)
			for k, v := range hs {
				if strings.EqualFold(k, tc.header) || v == "s3cr3t-value" {
					t.Errorf("header %s = %v is in the payload", k, v)
				}
			}
			if hs["X-Github-Event"] != "push" {
				t.Errorf("other headers lost: %v", hs)
			}
		})
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{"github": "github", "/github/": "github", "alerts/grafana/": "alerts/grafana", " x.y~z-1_ ": "x.y~z-1_"} {
		if got, err := NormalizeURL(in); err != nil || got != want {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "/", "st2", "/st2/", "a b", "a//b", "a/../b", "é", "a?b"} {
		if got, err := NormalizeURL(in); err == nil {
			t.Errorf("NormalizeURL(%q) = %q, want an error", in, got)
		}
	}
}
