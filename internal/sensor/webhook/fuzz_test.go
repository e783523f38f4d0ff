package webhook

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// FuzzStandardHeaders feeds arbitrary header values to the Standard
// Webhooks parser and verifier: they must never panic, must return one of
// the sentinel errors, and must accept only correctly signed messages.
func FuzzStandardHeaders(f *testing.F) {
	v := standardSpecVector
	f.Add(v.id, "1614265330", v.sig, v.body)
	f.Add("msg", "1614265330", "v1,AAAA v1a,BBBB", "{}")
	f.Add("", "", "", "")
	f.Add("a.b", "-1", "v1", "x")
	f.Add("id", "99999999999999999999", "v2,x v1,=== ", "")
	clk := clock.NewFake(time.Unix(v.ts, 0))
	sw, err := NewStandardWebhooks(Config{Secret: v.secret, Clock: clk, Seen: nopSeen{}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, ts)
		h.Set(HeaderWebhookSignature, sig)
		if _, err := ParseStandardHeaders(h, "v1"); err != nil && !errors.Is(err, ErrMissingHeader) && !errors.Is(err, ErrMalformedHeader) {
			t.Fatalf("ParseStandardHeaders: unexpected error kind %v", err)
		}
		err := sw.Verify(context.Background(), h, []byte(body))
		if err == nil {
			ph, perr := ParseStandardHeaders(h, "v1")
			if perr != nil {
				t.Fatalf("Verify accepted headers ParseStandardHeaders refuses: %v", perr)
			}
			key, _ := DecodeStandardSecret(v.secret)
			want := standardMAC(key, ph.ID, ph.RawTS, []byte(body))
			for _, s := range ph.Signatures {
				if bytes.Equal(s, want) {
					return
				}
			}
			t.Fatalf("accepted a message without its valid signature: id=%q ts=%q sig=%q", id, ts, sig)
		}
		for _, s := range []error{ErrMissingHeader, ErrMalformedHeader, ErrSignatureMismatch, ErrTimestampOutOfTolerance} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Verify: unexpected error kind %v", err)
	})
}

type nopSeen struct{}

func (nopSeen) MarkSeen(context.Context, string, string, time.Time) (bool, error) { return true, nil }
func (nopSeen) Forget(context.Context, string, string) error                      { return nil }

// FuzzParseGeneric checks that the generic body parser never panics and
// that what it accepts is well formed.
func FuzzParseGeneric(f *testing.F) {
	for _, s := range []string{`{"trigger":"a.b","payload":{"x":1}}`, `{"trigger":"a.b"}`, `[]`, `{`, ``, `{"trigger":null}`,
		`{"trigger":"a.b","payload":{"n":1e400}}`, "\x00", `{"trigger":"a.b"} x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := ParseGeneric(body)
		if err != nil {
			if !errors.Is(err, ErrBadBody) {
				t.Fatalf("error does not wrap ErrBadBody: %v", err)
			}
			return
		}
		if !refPattern.MatchString(ev.Trigger) || ev.Payload == nil {
			t.Fatalf("accepted %q as %+v", body, ev)
		}
	})
}

// FuzzCorePayload checks the core.webhook payload builder on arbitrary
// bodies and content types.
func FuzzCorePayload(f *testing.F) {
	f.Add("application/json", []byte(`{"a":[1,2]}`))
	f.Add("application/x-www-form-urlencoded", []byte(`a=1&a=2&b=%zz`))
	f.Add("text/plain", []byte(`x`))
	f.Add("", []byte(`"s"`))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		p, err := CorePayload(http.Header{"Content-Type": {ct}}, body)
		if err != nil {
			if !errors.Is(err, ErrBadBody) {
				t.Fatalf("error does not wrap ErrBadBody: %v", err)
			}
			return
		}
		if _, ok := p["headers"].(map[string]any); !ok {
			t.Fatalf("no headers object: %#v", p)
		}
	})
}
