package webhook

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// Sentinel errors of signature verification; every error a Verifier
// returns wraps exactly one of them. None of them ever carries the
// expected signature.
var (
	// ErrMissingHeader: a header the scheme needs is absent (or empty).
	ErrMissingHeader = errors.New("missing signature header")
	// ErrMalformedHeader: a header is present but not in the scheme's form.
	ErrMalformedHeader = errors.New("malformed signature header")
	// ErrSignatureMismatch: no signature in the request matches the body.
	ErrSignatureMismatch = errors.New("signature does not match")
	// ErrTimestampOutOfTolerance: the signed timestamp is too old or too
	// far in the future.
	ErrTimestampOutOfTolerance = errors.New("webhook timestamp outside the tolerance")
	// ErrReplayed: the message id was already accepted within the
	// tolerance window.
	ErrReplayed = errors.New("webhook id already received")
)

// Verifier checks that a webhook request comes from the holder of a
// secret. Verify is given the request headers and the raw body exactly as
// received (before any JSON decoding). It returns nil when the request is
// authentic (and, for schemes with replay protection, not a replay), else
// an error wrapping one of the sentinel errors above; or another error
// when the replay store fails.
type Verifier interface {
	Verify(ctx context.Context, header http.Header, body []byte) error
}

// Scheme names, as written in a webhook's configuration.
const (
	SchemeGitHub           = "github"
	SchemeStandardWebhooks = "standard-webhooks"
)

// Config selects and configures a Verifier.
type Config struct {
	Scheme string // SchemeGitHub or SchemeStandardWebhooks
	// Secret is GitHub's webhook secret, or for Standard Webhooks the
	// symmetric secret whsec_<base64> or the ed25519 public key whpk_<base64>.
	Secret string
	// Standard Webhooks only:
	Tolerance time.Duration // default 5 minutes
	Clock     clock.Clock   // default the system clock
	Seen      SeenIDs       // default a new in-memory store
	Scope     string        // namespaces ids in Seen (e.g. the webhook URL)
}

// New returns the Verifier cfg describes.
func New(cfg Config) (Verifier, error) {
	switch cfg.Scheme {
	case SchemeGitHub:
		return NewGitHub(cfg.Secret)
	case SchemeStandardWebhooks:
		return NewStandardWebhooks(cfg)
	}
	return nil, fmt.Errorf("webhook signature scheme %q: unknown (expected %q or %q)", cfg.Scheme, SchemeGitHub, SchemeStandardWebhooks)
}

// GitHubHeader is the header GitHub signs deliveries in.
const GitHubHeader = "X-Hub-Signature-256"

// GitHub verifies GitHub's X-Hub-Signature-256: "sha256=" followed by the
// hex HMAC-SHA256 of the raw body keyed with the webhook secret.
type GitHub struct {
	secret []byte
}

var _ Verifier = (*GitHub)(nil)

// NewGitHub returns a GitHub verifier for secret.
func NewGitHub(secret string) (*GitHub, error) {
	if secret == "" {
		return nil, errors.New("github webhook signature: empty secret")
	}
	return &GitHub{secret: []byte(secret)}, nil
}

// Verify checks the X-Hub-Signature-256 header against body.
func (g *GitHub) Verify(_ context.Context, header http.Header, body []byte) error {
	vals := headerValues(header, GitHubHeader)
	switch {
	case len(vals) == 0 || vals[0] == "":
		return fmt.Errorf("%s header: %w", GitHubHeader, ErrMissingHeader)
	case len(vals) > 1:
		return fmt.Errorf("%s header sent %d times, expected once: %w", GitHubHeader, len(vals), ErrMalformedHeader)
	}
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(vals[0]), "sha256=")
	if !ok {
		return fmt.Errorf("%s header: expected \"sha256=\" followed by 64 hex digits: %w", GitHubHeader, ErrMalformedHeader)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return fmt.Errorf("%s header: expected \"sha256=\" followed by 64 hex digits, got %d characters after it: %w", GitHubHeader, len(hexSig), ErrMalformedHeader)
	}
	mac := hmac.New(sha256.New, g.secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return fmt.Errorf("%s header: the HMAC-SHA256 of the %d-byte body with the configured secret differs (wrong secret, or the body was changed in transit): %w", GitHubHeader, len(body), ErrSignatureMismatch)
	}
	return nil
}

// SignGitHub returns the X-Hub-Signature-256 value for body (for tests
// and for tools that send webhooks).
func SignGitHub(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// The Standard Webhooks headers.
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// DefaultTolerance is how far a Standard Webhooks timestamp may be from
// now, either way.
const DefaultTolerance = 5 * time.Minute

// maxIDLen bounds webhook-id (it is stored for replay protection).
const maxIDLen = 256

// StandardWebhooks verifies the Standard Webhooks scheme
// (https://www.standardwebhooks.com): webhook-signature holds
// space-separated "<version>,<base64 signature>" entries over
// "<webhook-id>.<webhook-timestamp>.<body>". With a symmetric secret
// ("whsec_<base64>") the v1 entries are checked (HMAC-SHA256); with a
// public key ("whpk_<base64>") the v1a entries are (ed25519). The
// timestamp must be within the tolerance of now, and an id is accepted
// once within the tolerance window.
type StandardWebhooks struct {
	key       []byte            // symmetric (v1)
	pub       ed25519.PublicKey // asymmetric (v1a)
	version   string            // "v1" or "v1a"
	tolerance time.Duration
	clk       clock.Clock
	seen      SeenIDs
	scope     string
}

var _ Verifier = (*StandardWebhooks)(nil)

// NewStandardWebhooks returns a Standard Webhooks verifier (cfg.Scheme is
// ignored).
func NewStandardWebhooks(cfg Config) (*StandardWebhooks, error) {
	v := &StandardWebhooks{version: "v1", tolerance: cfg.Tolerance, clk: cfg.Clock, seen: cfg.Seen, scope: cfg.Scope}
	if b64, ok := strings.CutPrefix(cfg.Secret, "whpk_"); ok {
		pub, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("standard webhooks public key: expected whpk_ followed by the standard base64 of a %d-byte ed25519 public key", ed25519.PublicKeySize)
		}
		v.pub, v.version = ed25519.PublicKey(pub), "v1a"
	} else {
		key, err := DecodeStandardSecret(cfg.Secret)
		if err != nil {
			return nil, err
		}
		v.key = key
	}
	if v.tolerance <= 0 {
		v.tolerance = DefaultTolerance
	}
	if v.clk == nil {
		v.clk = clock.System()
	}
	if v.seen == nil {
		v.seen = NewMemorySeen(v.clk)
	}
	return v, nil
}

// DecodeStandardSecret decodes a Standard Webhooks secret: "whsec_"
// followed by base64 (the prefix is optional, as in the reference
// libraries).
func DecodeStandardSecret(secret string) ([]byte, error) {
	b64 := strings.TrimPrefix(secret, "whsec_")
	if b64 == "" {
		return nil, errors.New("standard webhooks secret: empty (expected whsec_<base64>)")
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("standard webhooks secret: expected whsec_ followed by standard base64: %w", err)
	}
	return key, nil
}

// SignStandard returns a webhook-signature value ("v1,<base64>") for the
// message (for tests and for tools that send webhooks).
func SignStandard(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := DecodeStandardSecret(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(standardMAC(key, id, strconv.FormatInt(ts.Unix(), 10), body)), nil
}

// SignStandardEd25519 returns a webhook-signature value ("v1a,<base64>")
// for the message, signed with an ed25519 private key (for tests and for
// tools that send webhooks).
func SignStandardEd25519(priv ed25519.PrivateKey, id string, ts time.Time, body []byte) string {
	sig := ed25519.Sign(priv, signedContent(id, strconv.FormatInt(ts.Unix(), 10), body))
	return "v1a," + base64.StdEncoding.EncodeToString(sig)
}

func standardMAC(key []byte, id, ts string, body []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// StandardHeaders are the parsed Standard Webhooks headers.
type StandardHeaders struct {
	ID         string
	Timestamp  time.Time
	RawTS      string   // the timestamp as sent (it is what was signed)
	Signatures [][]byte // the decoded signatures of the wanted version
	Skipped    int      // entries of other versions that were ignored
}

// ParseStandardHeaders parses and checks the form of the three Standard
// Webhooks headers (not the signature itself), keeping the signatures of
// version ("v1" for HMAC-SHA256, "v1a" for ed25519).
func ParseStandardHeaders(header http.Header, version string) (StandardHeaders, error) {
	var h StandardHeaders
	get := func(name string) (string, error) {
		vals := headerValues(header, name)
		switch {
		case len(vals) == 0 || strings.TrimSpace(vals[0]) == "":
			return "", fmt.Errorf("%s header: %w", name, ErrMissingHeader)
		case len(vals) > 1:
			return "", fmt.Errorf("%s header sent %d times, expected once: %w", name, len(vals), ErrMalformedHeader)
		}
		return strings.TrimSpace(vals[0]), nil
	}
	var err error
	if h.ID, err = get(HeaderWebhookID); err != nil {
		return h, err
	}
	if len(h.ID) > maxIDLen {
		return h, fmt.Errorf("%s header: %d characters, at most %d accepted: %w", HeaderWebhookID, len(h.ID), maxIDLen, ErrMalformedHeader)
	}
	if h.RawTS, err = get(HeaderWebhookTimestamp); err != nil {
		return h, err
	}
	secs, perr := strconv.ParseInt(h.RawTS, 10, 64)
	if perr != nil || secs < 0 || strings.HasPrefix(h.RawTS, "+") || len(h.RawTS) > 12 {
		return h, fmt.Errorf("%s header: expected integer Unix seconds, got %q: %w", HeaderWebhookTimestamp, truncate(h.RawTS, 32), ErrMalformedHeader)
	}
	h.Timestamp = time.Unix(secs, 0)
	sigs, err := get(HeaderWebhookSignature)
	if err != nil {
		return h, err
	}
	for _, entry := range strings.Fields(sigs) {
		v, sig, ok := strings.Cut(entry, ",")
		if !ok {
			return h, fmt.Errorf("%s header: entry %d is not \"<version>,<base64 signature>\": %w", HeaderWebhookSignature, len(h.Signatures)+h.Skipped+1, ErrMalformedHeader)
		}
		if v != version {
			h.Skipped++
			continue
		}
		raw, derr := base64.StdEncoding.DecodeString(sig)
		if derr != nil {
			return h, fmt.Errorf("%s header: a %s signature is not standard base64: %w", HeaderWebhookSignature, version, ErrMalformedHeader)
		}
		h.Signatures = append(h.Signatures, raw)
	}
	if len(h.Signatures) == 0 {
		return h, fmt.Errorf("%s header: no %s signature among %d entries (the configured %s expects %s): %w", HeaderWebhookSignature, version, h.Skipped, keyKind(version), version, ErrMalformedHeader)
	}
	return h, nil
}

// Verify checks the headers, the timestamp tolerance, the signatures and,
// last, that the id was not already accepted.
func (v *StandardWebhooks) Verify(ctx context.Context, header http.Header, body []byte) error {
	h, err := ParseStandardHeaders(header, v.version)
	if err != nil {
		return err
	}
	now := v.clk.Now()
	if d := now.Sub(h.Timestamp); d > v.tolerance {
		return fmt.Errorf("%s %s is %v in the past, accepted: within %v of now: %w", HeaderWebhookTimestamp, h.RawTS, d.Truncate(time.Second), v.tolerance, ErrTimestampOutOfTolerance)
	} else if -d > v.tolerance {
		return fmt.Errorf("%s %s is %v in the future, accepted: within %v of now: %w", HeaderWebhookTimestamp, h.RawTS, (-d).Truncate(time.Second), v.tolerance, ErrTimestampOutOfTolerance)
	}
	if !v.matches(h, body) {
		return fmt.Errorf("%s: none of the %d %s signatures matches id, timestamp and the %d-byte body with the configured %s (wrong key, or the body was changed in transit): %w", HeaderWebhookSignature, len(h.Signatures), v.version, len(body), keyKind(v.version), ErrSignatureMismatch)
	}
	// Only an authentic message marks its id, so forged requests cannot
	// burn ids. The id needs remembering only while its timestamp is
	// still accepted.
	first, err := v.seen.MarkSeen(ctx, v.scope, h.ID, h.Timestamp.Add(v.tolerance))
	if err != nil {
		return fmt.Errorf("recording %s %q: %w", HeaderWebhookID, truncate(h.ID, 64), err)
	}
	if !first {
		return fmt.Errorf("%s %q was already accepted: %w", HeaderWebhookID, truncate(h.ID, 64), ErrReplayed)
	}
	return nil
}

func (v *StandardWebhooks) matches(h StandardHeaders, body []byte) bool {
	if v.pub != nil {
		msg := signedContent(h.ID, h.RawTS, body)
		for _, sig := range h.Signatures {
			if ed25519.Verify(v.pub, msg, sig) {
				return true
			}
		}
		return false
	}
	want := standardMAC(v.key, h.ID, h.RawTS, body)
	match := false
	for _, sig := range h.Signatures {
		if hmac.Equal(sig, want) {
			match = true
		}
	}
	return match
}

func keyKind(version string) string {
	if version == "v1a" {
		return "public key (whpk_)"
	}
	return "secret (whsec_)"
}

func signedContent(id, ts string, body []byte) []byte {
	msg := make([]byte, 0, len(id)+len(ts)+2+len(body))
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, ts...)
	msg = append(msg, '.')
	return append(msg, body...)
}

// Forget removes id from the replay store, so that the sender's retry of
// a message the engine could not record is accepted.
func (v *StandardWebhooks) Forget(ctx context.Context, id string) error {
	if err := v.seen.Forget(ctx, v.scope, id); err != nil {
		return fmt.Errorf("forgetting %s %q: %w", HeaderWebhookID, truncate(id, 64), err)
	}
	return nil
}

// headerValues returns the values of the named header. Keys are normally
// canonical (set with Header.Set or Add, as net/http does); a header map
// built by hand from a gateway event may hold other spellings, which are
// matched case-insensitively.
func headerValues(h http.Header, name string) []string {
	if vals := h.Values(name); len(vals) > 0 {
		return vals
	}
	var out []string
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			out = append(out, vs...)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
