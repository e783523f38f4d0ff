package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
)

// TestWebhookSignatureDeclaredInRule drives a core.webhook rule that
// declares {signature: {scheme: github, secret: e2e_github_secret}}: the
// secret is read from the datastore when each request arrives, only a
// request signed with it is recorded, and the API key does not replace
// the signature.
func TestWebhookSignatureDeclaredInRule(t *testing.T) {
	s := startServer(t, "", "--packs", filepath.Join(repoRoot(t), "tests", "testdata", "signed"))
	const path = "/api/v1/webhooks/e2esig/github"
	body := `{"ref": "refs/heads/main"}`
	send := func(headers map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", "push")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	sig := func(secret string) map[string]string {
		return map[string]string{webhook.GitHubHeader: webhook.SignGitHub(secret, []byte(body))}
	}

	// The signature is not part of the rule's pattern: only the url is.
	out, errOut, code := s.cli("rule", "compile", "--packs", filepath.Join(repoRoot(t), "packs", "core"), "--packs", filepath.Join(repoRoot(t), "tests", "testdata", "signed"))
	var set struct {
		Rules []struct {
			Ref      string          `json:"ref"`
			Pattern  json.RawMessage `json:"pattern"`
			Residual string          `json:"residual"`
		} `json:"rules"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &set) != nil {
		t.Fatalf("bwc rule compile: exit %d, stderr %s:\n%s", code, errOut, out)
	}
	for _, r := range set.Rules {
		if r.Ref != "e2esig.on_push" {
			continue
		}
		var pat any
		_ = json.Unmarshal(r.Pattern, &pat)
		compact, _ := json.Marshal(pat)
		if want := `{"detail":{"trigger_parameters":{"url":["e2esig/github"]}},"detail-type":["core.webhook"],"source":["bwc.core"]}`; string(compact) != want || r.Residual != "" {
			t.Errorf("pattern %s, residual %q; want %s and none: the signature must not be matched", compact, r.Residual, want)
		}
	}

	// Before the key exists, nothing is accepted, signed or not.
	if code, b := send(sig("s3cret")); code != http.StatusInternalServerError || !strings.Contains(b, "e2e_github_secret") {
		t.Errorf("no secret in the datastore: HTTP %d %s, want 500 naming the key", code, b)
	}
	// The log line is written by another process and copied from its
	// stderr: wait for it rather than race it.
	waitFor(t, "a log line naming the missing key", func() (bool, error) {
		return strings.Contains(s.logs(), "e2e_github_secret"), nil
	})
	if out, errOut, code := s.cli("key", "set", "e2e_github_secret", "s3cret", "--secret"); code != 0 {
		t.Fatalf("bwc key set: exit %d: %s %s", code, out, errOut)
	}
	refused := []struct {
		name    string
		headers map[string]string
	}{
		{"unsigned", nil},
		{"wrong secret", sig("other")},
		{"API key instead of a signature", map[string]string{api.HeaderAPIKey: s.Key}},
		{"malformed signature", map[string]string{webhook.GitHubHeader: "sha1=abc"}},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if code, b := send(tc.headers); code != http.StatusUnauthorized {
				t.Errorf("HTTP %d %s, want 401", code, b)
			}
		})
	}
	if n := s.triggerInstanceCount("core.webhook"); n != 0 {
		t.Fatalf("%d trigger instances recorded for refused requests, want none", n)
	}

	// Signed with the key's value: accepted and run. The API key sent
	// along does not reach the audit trail.
	good := sig("s3cret")
	good[api.HeaderAPIKey] = s.Key
	code, b := send(good)
	if code != http.StatusAccepted {
		t.Fatalf("signed: HTTP %d %s", code, b)
	}
	var acc api.Accepted
	if err := json.Unmarshal([]byte(b), &acc); err != nil {
		t.Fatal(err)
	}
	ex := s.finishedExecutionOf("e2esig.on_push")
	if ex.Status != store.StatusSucceeded || !strings.Contains(string(ex.Result), "push to refs/heads/main") {
		t.Errorf("execution %s %s", ex.Status, ex.Result)
	}
	ti, err := s.API.TriggerInstance(context.Background(), acc.TriggerInstanceID)
	if err != nil {
		t.Fatal(err)
	}
	if p := string(ti.Payload); strings.Contains(p, s.Key) || strings.Contains(strings.ToLower(p), "api-key") || !strings.Contains(p, "X-Github-Event") {
		t.Errorf("recorded payload %s: want the headers without the API key", p)
	}

	// A new secret takes effect without a restart.
	if _, errOut, code := s.cli("key", "set", "e2e_github_secret", "n3w", "--secret"); code != 0 {
		t.Fatalf("bwc key set: exit %d: %s", code, errOut)
	}
	if code, b := send(sig("s3cret")); code != http.StatusUnauthorized {
		t.Errorf("old secret after rotation: HTTP %d %s, want 401", code, b)
	}
	if code, b := send(sig("n3w")); code != http.StatusAccepted {
		t.Errorf("new secret: HTTP %d %s, want 202", code, b)
	}
	if n := s.triggerInstanceCount("core.webhook"); n != 2 {
		t.Errorf("%d trigger instances, want the 2 signed requests", n)
	}
}
