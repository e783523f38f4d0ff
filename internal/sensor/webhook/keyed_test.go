package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// mapSecrets is a SecretSource over a map; a name mapped to an error
// fails.
type mapSecrets struct {
	mu    sync.Mutex
	vals  map[string]string
	fail  error
	reads int
}

func (m *mapSecrets) Secret(_ context.Context, name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if m.fail != nil {
		return "", m.fail
	}
	v, ok := m.vals[name]
	if !ok {
		return "", fmt.Errorf("no key %s: %w", name, ErrSecretUnavailable)
	}
	return v, nil
}

func (m *mapSecrets) set(name, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vals[name] = v
}

func TestKeyedGitHub(t *testing.T) {
	src := &mapSecrets{vals: map[string]string{"gh": "first"}}
	k, err := NewKeyed(Config{Scheme: SchemeGitHub}, "gh", src)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"zen":"hi"}`)
	signed := func(secret string) http.Header {
		return http.Header{GitHubHeader: {SignGitHub(secret, body)}}
	}
	steps := []struct {
		name   string
		change func()
		header http.Header
		want   error // nil: accepted
	}{
		{"right secret", nil, signed("first"), nil},
		{"wrong secret", nil, signed("other"), ErrSignatureMismatch},
		{"unsigned", nil, http.Header{}, ErrMissingHeader},
		{"secret rotated: the new one is read at once", func() { src.set("gh", "second") }, signed("second"), nil},
		{"secret rotated: the old one is refused", nil, signed("first"), ErrSignatureMismatch},
		{"secret deleted: refused, even signed with the old secret", func() { delete(src.vals, "gh") }, signed("second"), ErrSecretUnavailable},
		{"secret deleted: unsigned refused", nil, http.Header{}, ErrSecretUnavailable},
		{"secret empty", func() { src.set("gh", "") }, signed(""), ErrSecretUnavailable},
		{"source fails", func() { src.fail = errors.New("database is locked") }, signed("second"), nil},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.change != nil {
				s.change()
			}
			err := k.Verify(context.Background(), s.header, body)
			switch {
			case s.name == "source fails":
				if err == nil || !strings.Contains(err.Error(), "database is locked") || !strings.Contains(err.Error(), `"gh"`) {
					t.Errorf("got %v, want the source's error naming the secret", err)
				}
			case s.want == nil && err != nil:
				t.Errorf("refused: %v", err)
			case s.want != nil && !errors.Is(err, s.want):
				t.Errorf("got %v, want %v", err, s.want)
			}
			for _, v := range []string{"first", "second"} {
				if err != nil && strings.Contains(err.Error(), v) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
		})
	}
}

func TestKeyedStandardWebhooksReplayAcrossRotation(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	src := &mapSecrets{vals: map[string]string{"sw": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}
	k, err := NewKeyed(Config{Scheme: SchemeStandardWebhooks, Clock: clock.NewFake(now), Scope: "hook"}, "sw", src)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"a":1}`)
	signWith := src.vals["sw"]
	send := func(id string) error {
		sig, err := SignStandard(signWith, id, now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(HeaderWebhookID, id)
		h.Set(HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(HeaderWebhookSignature, sig)
		return k.Verify(context.Background(), h, body)
	}
	if err := send("msg_1"); err != nil {
		t.Fatalf("first delivery: %v", err)
	}
	if err := send("msg_1"); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay: %v, want ErrReplayed", err)
	}
	signWith = "whsec_" + strings.Repeat("QUJD", 8)
	src.set("sw", signWith)
	if err := send("msg_1"); !errors.Is(err, ErrReplayed) {
		t.Errorf("replay after a rotation: %v, want ErrReplayed", err)
	}
	if err := send("msg_2"); err != nil {
		t.Errorf("new message after a rotation: %v", err)
	}
	if err := k.Forget(context.Background(), "msg_2"); err != nil {
		t.Fatal(err)
	}
	if err := send("msg_2"); err != nil {
		t.Errorf("forgotten id: %v", err)
	}
	src.set("sw", "not base64!")
	if err := send("msg_3"); err == nil || errors.Is(err, ErrSignatureMismatch) || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("malformed secret: %v, want an error about its form that does not show it", err)
	}
}

func TestNewKeyed(t *testing.T) {
	src := &mapSecrets{vals: map[string]string{}}
	tests := []struct {
		name   string
		scheme string
		secret string
		src    SecretSource
		want   string
	}{
		{"unknown scheme", "gitlab", "s", src, `scheme "gitlab": unknown`},
		{"no name", SchemeGitHub, "", src, "name of the secret is empty"},
		{"no source", SchemeGitHub, "s", nil, "no secret source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewKeyed(Config{Scheme: tc.scheme}, tc.secret, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	k, err := NewKeyed(Config{Scheme: SchemeGitHub, Secret: "ignored"}, "gh", src)
	if err != nil || k.SecretName() != "gh" || k.Scheme() != SchemeGitHub {
		t.Fatalf("%v %+v", err, k)
	}
	// The inline secret is ignored: with no key, nothing is accepted.
	body := []byte("{}")
	if err := k.Verify(context.Background(), http.Header{GitHubHeader: {SignGitHub("ignored", body)}}, body); !errors.Is(err, ErrSecretUnavailable) {
		t.Errorf("got %v, want ErrSecretUnavailable", err)
	}
}

func TestDeclarations(t *testing.T) {
	gh := map[string]any{"scheme": "github", "secret": "gh"}
	rp := func(rule, url string, sig any) RuleParameters {
		p := map[string]any{"url": url}
		if sig != nil {
			p[SignatureParameter] = sig
		}
		return RuleParameters{Rule: rule, Parameters: p}
	}
	tests := []struct {
		name    string
		rules   []RuleParameters
		want    map[string]Declaration
		wantErr string
	}{
		{"none", []RuleParameters{rp("p.a", "x", nil), rp("p.b", "x", nil)}, map[string]Declaration{}, ""},
		{"one url, two rules agreeing", []RuleParameters{rp("p.a", "/gh/", gh), rp("p.b", "gh", map[string]any{"secret": "gh", "scheme": "github"}), rp("p.c", "other", nil)},
			map[string]Declaration{"gh": {URL: "gh", Scheme: "github", Secret: "gh", Rule: "p.a"}}, ""},
		{"different secrets", []RuleParameters{rp("p.a", "gh", gh), rp("p.b", "gh", map[string]any{"scheme": "github", "secret": "other"})}, nil,
			`webhook "gh": rule p.b declares signature {scheme: github, secret: other} but rule p.a declares signature {scheme: github, secret: gh}`},
		{"unsigned then signed", []RuleParameters{rp("p.a", "gh", nil), rp("p.b", "gh", gh)}, nil,
			`rule p.b declares signature {scheme: github, secret: gh} but rule p.a declares no signature (the API key)`},
		{"not an object", []RuleParameters{rp("p.a", "gh", "github")}, nil, "rule p.a: trigger.parameters.signature: found github, expected {scheme"},
		{"no secret", []RuleParameters{rp("p.a", "gh", map[string]any{"scheme": "github"})}, nil, "expected {scheme"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Declarations(tc.rules)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for u, d := range tc.want {
				if got[u] != d {
					t.Errorf("%s: got %+v, want %+v", u, got[u], d)
				}
			}
		})
	}
}
