package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// SecretSource looks up a webhook secret by name. The embedded engine and
// the webhook Lambda read a system-scope datastore key, decrypted. Errors:
// one wrapping ErrSecretUnavailable when there is no such secret (or it is
// empty), another when the source cannot be read.
type SecretSource interface {
	Secret(ctx context.Context, name string) (string, error)
}

// ErrSecretUnavailable is wrapped by a Keyed verifier's error when its
// secret does not exist or is empty. The request is refused: a webhook
// that declares a signature never accepts an unsigned request.
var ErrSecretUnavailable = errors.New("webhook secret unavailable")

// Keyed is a Verifier whose secret is named, not given: it is read from a
// SecretSource on every request, so a changed secret takes effect without
// a restart. The verifier of the current secret is kept until the secret
// changes. A Standard Webhooks replay store is shared across secret
// changes, so a rotation does not reopen the replay window.
//
// Verify's errors: those of the scheme's verifier, or one wrapping
// ErrSecretUnavailable, or the source's error (both name the secret, never
// its value). Keyed is safe for concurrent use.
type Keyed struct {
	cfg  Config // Secret unset
	name string
	src  SecretSource

	mu     sync.Mutex
	secret string
	v      Verifier
}

var _ Verifier = (*Keyed)(nil)

// NewKeyed returns a verifier of cfg.Scheme whose secret is the one src
// holds under name (cfg.Secret is ignored).
func NewKeyed(cfg Config, name string, src SecretSource) (*Keyed, error) {
	switch cfg.Scheme {
	case SchemeGitHub, SchemeStandardWebhooks:
	default:
		return nil, fmt.Errorf("webhook signature scheme %q: unknown (expected %q or %q)", cfg.Scheme, SchemeGitHub, SchemeStandardWebhooks)
	}
	if name == "" {
		return nil, errors.New("webhook signature: the name of the secret is empty")
	}
	if src == nil {
		return nil, fmt.Errorf("webhook signature secret %q: no secret source", name)
	}
	cfg.Secret = ""
	if cfg.Clock == nil {
		cfg.Clock = clock.System()
	}
	if cfg.Scheme == SchemeStandardWebhooks && cfg.Seen == nil {
		cfg.Seen = NewMemorySeen(cfg.Clock)
	}
	return &Keyed{cfg: cfg, name: name, src: src}, nil
}

// SecretName returns the name of the secret the verifier reads.
func (k *Keyed) SecretName() string { return k.name }

// Scheme returns the verifier's scheme.
func (k *Keyed) Scheme() string { return k.cfg.Scheme }

// Verify reads the secret and checks the request with it.
func (k *Keyed) Verify(ctx context.Context, header http.Header, body []byte) error {
	v, err := k.current(ctx)
	if err != nil {
		return err
	}
	return v.Verify(ctx, header, body)
}

// Forget removes a Standard Webhooks id from the replay store (see
// StandardWebhooks.Forget); for GitHub it does nothing.
func (k *Keyed) Forget(ctx context.Context, id string) error {
	if k.cfg.Seen == nil {
		return nil
	}
	if err := k.cfg.Seen.Forget(ctx, k.cfg.Scope, id); err != nil {
		return fmt.Errorf("forgetting %s %q: %w", HeaderWebhookID, truncate(id, 64), err)
	}
	return nil
}

func (k *Keyed) current(ctx context.Context) (Verifier, error) {
	secret, err := k.src.Secret(ctx, k.name)
	if err != nil {
		return nil, fmt.Errorf("reading webhook secret %q: %w", k.name, err)
	}
	if secret == "" {
		return nil, fmt.Errorf("webhook secret %q is empty: %w", k.name, ErrSecretUnavailable)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.v != nil && k.secret == secret {
		return k.v, nil
	}
	cfg := k.cfg
	cfg.Secret = secret
	v, err := New(cfg)
	if err != nil {
		// The error describes the expected form, never the value.
		return nil, fmt.Errorf("webhook secret %q: %w", k.name, err)
	}
	k.secret, k.v = secret, v
	return v, nil
}

// SignatureParameter is the core.webhook trigger parameter by which a rule
// declares how requests to its url are signed: {scheme, secret}, secret
// naming the secret in the SecretSource.
const SignatureParameter = "signature"

// RuleParameters are the trigger parameters of one enabled core.webhook
// rule: url, and optionally signature.
type RuleParameters struct {
	Rule       string // the rule's reference, for messages
	Parameters map[string]any
}

// Declaration is the signature the rules on one webhook url declare.
type Declaration struct {
	URL    string
	Scheme string
	Secret string // the name of the secret in the SecretSource
	Rule   string // the first rule that declares it
}

func (d Declaration) String() string {
	if d.Scheme == "" {
		return "no signature (the API key)"
	}
	return fmt.Sprintf("signature {scheme: %s, secret: %s}", d.Scheme, d.Secret)
}

// Declarations returns, by url, the signature that the rules on the url
// declare; a url whose rules declare none is left out. Both engines build
// their webhook verifiers from it (with NewKeyed). Errors: a signature not
// of the form {scheme, secret}, and rules on one url that declare
// different signatures (or one a signature and another none), naming both
// rules.
func Declarations(rules []RuleParameters) (map[string]Declaration, error) {
	byURL := map[string]Declaration{}
	for _, r := range rules {
		u, ok := r.Parameters["url"].(string)
		if !ok {
			continue
		}
		d := Declaration{URL: strings.Trim(strings.TrimSpace(u), "/"), Rule: r.Rule}
		if v, ok := r.Parameters[SignatureParameter]; ok {
			m, _ := v.(map[string]any)
			d.Scheme, _ = m["scheme"].(string)
			d.Secret, _ = m["secret"].(string)
			if d.Scheme == "" || d.Secret == "" {
				return nil, fmt.Errorf("rule %s: trigger.parameters.%s: found %v, expected {scheme: %s | %s, secret: <name of the secret>}", r.Rule, SignatureParameter, v, SchemeGitHub, SchemeStandardWebhooks)
			}
		}
		first, seen := byURL[d.URL]
		if !seen {
			byURL[d.URL] = d
			continue
		}
		if first.Scheme != d.Scheme || first.Secret != d.Secret {
			return nil, fmt.Errorf("webhook %q: rule %s declares %s but rule %s declares %s: expected every rule on one webhook url to declare the same signature", d.URL, d.Rule, d, first.Rule, first)
		}
	}
	for u, d := range byURL {
		if d.Scheme == "" {
			delete(byURL, u)
		}
	}
	return byURL, nil
}
