package engine

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

func hookRule(ref, url string, enabled bool, sig map[string]any) *rule.Compiled {
	params := map[string]any{"url": url}
	if sig != nil {
		params["signature"] = sig
	}
	return &rule.Compiled{Ref: ref, Enabled: enabled, Trigger: rule.Trigger{Type: "core.webhook", Parameters: params}}
}

func TestWebhookVerifiers(t *testing.T) {
	gh := map[string]any{"scheme": "github", "secret": "gh_secret"}
	other := map[string]any{"scheme": "github", "secret": "other_secret"}
	dir := t.TempDir()
	file := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(file, []byte("from-file: {scheme: github, secret: inline}\ngithub: {scheme: github, secret: inline}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		file    string
		rules   []*rule.Compiled
		urls    []string // urls with a verifier
		keyed   []string // of which declared by a rule
		wantErr []string // each in the error
	}{
		{"none", "", []*rule.Compiled{hookRule("p.a", "x", true, nil)}, nil, nil, nil},
		{"declared in a rule", "", []*rule.Compiled{hookRule("p.a", "github", true, gh), hookRule("p.b", "/github/", true, gh)}, []string{"github"}, []string{"github"}, nil},
		{"file and rules on other urls", file, []*rule.Compiled{hookRule("p.a", "rule-url", true, gh)}, []string{"from-file", "github", "rule-url"}, []string{"rule-url"}, nil},
		{"disabled rule ignored", "", []*rule.Compiled{hookRule("p.a", "github", false, gh), hookRule("p.b", "github", true, other)}, []string{"github"}, []string{"github"}, nil},
		{"different secrets", "", []*rule.Compiled{hookRule("p.a", "github", true, gh), hookRule("p.b", "github", true, other)}, nil, nil,
			[]string{`webhook "github"`, "rule p.b declares signature {scheme: github, secret: other_secret}", "rule p.a declares signature {scheme: github, secret: gh_secret}"}},
		{"signed and unsigned", "", []*rule.Compiled{hookRule("p.a", "github", true, nil), hookRule("p.b", "github", true, gh)}, nil, nil,
			[]string{"rule p.b declares signature", "rule p.a declares no signature"}},
		{"file and rule on one url", file, []*rule.Compiled{hookRule("p.a", "github", true, gh)}, nil, nil,
			[]string{`webhook "github": rule p.a declares a signature and the webhook secrets file`}},
		{"malformed signature", "", []*rule.Compiled{hookRule("p.a", "github", true, map[string]any{"scheme": "github"})}, nil, nil,
			[]string{"rule p.a: trigger.parameters.signature", "expected {scheme"}},
		{"unknown scheme", "", []*rule.Compiled{hookRule("p.a", "github", true, map[string]any{"scheme": "gitlab", "secret": "s"})}, nil, nil,
			[]string{`webhook "github" of rule p.a`, `"gitlab": unknown`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := webhookVerifiers(tc.file, tc.rules, datastoreSecrets{})
			if len(tc.wantErr) > 0 {
				for _, w := range tc.wantErr {
					if err == nil || !strings.Contains(err.Error(), w) {
						t.Errorf("error %v, want %q in it", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.urls) {
				t.Errorf("verifiers for %d urls, want %v", len(got), tc.urls)
			}
			for _, u := range tc.urls {
				if got[u] == nil {
					t.Errorf("no verifier for %q", u)
				}
			}
			for _, u := range tc.keyed {
				if k, ok := got[u].(*webhook.Keyed); !ok || k.SecretName() == "" {
					t.Errorf("verifier of %q is %T, want one reading the datastore", u, got[u])
				}
			}
		})
	}
}

// A signature declared in a rule reads its secret from the datastore on
// each request: no key refuses everything, a set or changed key takes
// effect at once.
func TestRuleSignatureReadsTheDatastore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cipher, err := secretCipher(filepath.Join(dir, SecretKeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bwc.db"), store.Options{Cipher: cipher})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	vs, err := webhookVerifiers("", []*rule.Compiled{hookRule("p.a", "github", true, map[string]any{"scheme": "github", "secret": "gh_secret"})}, datastoreSecrets{db})
	if err != nil {
		t.Fatal(err)
	}
	v := vs["github"]
	body := []byte(`{"ref":"main"}`)
	signed := func(secret string) http.Header {
		return http.Header{webhook.GitHubHeader: {webhook.SignGitHub(secret, body)}}
	}
	put := func(value string) {
		if _, err := db.PutKeyValue(ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "gh_secret"}, Value: value, Secret: true}); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name   string
		before func()
		header http.Header
		want   error // nil: accepted
	}{
		{"no key yet", nil, signed("s1"), webhook.ErrSecretUnavailable},
		{"key set", func() { put("s1") }, signed("s1"), nil},
		{"wrong signature", nil, signed("s2"), webhook.ErrSignatureMismatch},
		{"key changed", func() { put("s2") }, signed("s2"), nil},
		{"old signature after the change", nil, signed("s1"), webhook.ErrSignatureMismatch},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.before != nil {
				s.before()
			}
			err := v.Verify(ctx, s.header, body)
			if (s.want == nil) != (err == nil) || (s.want != nil && !errors.Is(err, s.want)) {
				t.Errorf("got %v, want %v", err, s.want)
			}
			if errors.Is(s.want, webhook.ErrSecretUnavailable) && !strings.Contains(err.Error(), "bwc key set gh_secret") {
				t.Errorf("the error does not say how to set the key: %v", err)
			}
		})
	}
}

// BenchmarkRuleSignature measures a signed webhook's verification when the
// signature is declared in a rule: a datastore read and decryption of the
// secret, then the HMAC.
func BenchmarkRuleSignature(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	cipher, err := secretCipher(filepath.Join(dir, SecretKeyFileName))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "bwc.db"), store.Options{Cipher: cipher})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if _, err := db.PutKeyValue(ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "gh"}, Value: "s3cret", Secret: true}); err != nil {
		b.Fatal(err)
	}
	vs, err := webhookVerifiers("", []*rule.Compiled{hookRule("p.a", "github", true, map[string]any{"scheme": "github", "secret": "gh"})}, datastoreSecrets{db})
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"ref":"refs/heads/main","commits":[]}`)
	h := http.Header{webhook.GitHubHeader: {webhook.SignGitHub("s3cret", body)}}
	for b.Loop() {
		if err := vs["github"].Verify(ctx, h, body); err != nil {
			b.Fatal(err)
		}
	}
}
