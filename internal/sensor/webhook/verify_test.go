package webhook

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/sensor/clock"
)

// githubDocVector is the example from GitHub's "Validating webhook
// deliveries" documentation.
var githubDocVector = struct{ secret, body, signature string }{
	secret:    "It's a Secret to Everybody",
	body:      "Hello, World!",
	signature: "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
}

func TestGitHub(t *testing.T) {
	const secret = "s3cr3t"
	body := []byte(`{"action":"opened","number":1}`)
	// The expected value, computed here from the scheme's definition.
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if got := SignGitHub(secret, body); got != good {
		t.Fatalf("SignGitHub = %s, want %s", got, good)
	}
	g, err := NewGitHub(secret)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", http.Header{"X-Hub-Signature-256": {good}}, body, nil},
		{"header name is case-insensitive", hdr("x-hub-signature-256", good), body, nil},
		{"non-canonical key set by hand", http.Header{"x-hub-signature-256": {good}}, body, nil},
		{"missing", http.Header{}, body, ErrMissingHeader},
		{"empty", http.Header{"X-Hub-Signature-256": {""}}, body, ErrMissingHeader},
		{"twice", http.Header{"X-Hub-Signature-256": {good, good}}, body, ErrMalformedHeader},
		{"sha1 form", http.Header{"X-Hub-Signature-256": {"sha1=" + good[7:]}}, body, ErrMalformedHeader},
		{"not hex", http.Header{"X-Hub-Signature-256": {"sha256=zz"}}, body, ErrMalformedHeader},
		{"short", http.Header{"X-Hub-Signature-256": {good[:40]}}, body, ErrMalformedHeader},
		{"body changed", http.Header{"X-Hub-Signature-256": {good}}, append([]byte(" "), body...), ErrSignatureMismatch},
		{"other secret", http.Header{"X-Hub-Signature-256": {SignGitHub("other", body)}}, body, ErrSignatureMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := g.Verify(context.Background(), tt.header, tt.body)
			checkErr(t, err, tt.want)
			if err != nil && strings.Contains(err.Error(), good[7:]) {
				t.Errorf("the error leaks the expected signature: %v", err)
			}
		})
	}
	t.Run("documentation vector", func(t *testing.T) {
		g, _ := NewGitHub(githubDocVector.secret)
		h := http.Header{"X-Hub-Signature-256": {githubDocVector.signature}}
		if err := g.Verify(context.Background(), h, []byte(githubDocVector.body)); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := NewGitHub(""); err == nil {
		t.Error("empty secret accepted")
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error %v, want %v", err, want)
	}
}

// standardSpecVector is the signing example of the Standard Webhooks
// reference libraries' test suites.
var standardSpecVector = struct {
	secret, id string
	ts         int64
	body, sig  string
}{
	secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	id:     "msg_p5jXN8AQM9LWM0D4loKWxJek",
	ts:     1614265330,
	body:   `{"test": 2432232314}`,
	sig:    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}

func TestStandardWebhooksSpecVector(t *testing.T) {
	v := standardSpecVector
	sig, err := SignStandard(v.secret, v.id, time.Unix(v.ts, 0), []byte(v.body))
	if err != nil {
		t.Fatal(err)
	}
	if sig != v.sig {
		t.Fatalf("SignStandard = %s, want %s", sig, v.sig)
	}
	clk := clock.NewFake(time.Unix(v.ts+30, 0))
	sw, err := NewStandardWebhooks(Config{Secret: v.secret, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	h := hdr(HeaderWebhookID, v.id, HeaderWebhookTimestamp, strconv.FormatInt(v.ts, 10), HeaderWebhookSignature, v.sig)
	if err := sw.Verify(context.Background(), h, []byte(v.body)); err != nil {
		t.Fatal(err)
	}
	// The secret without its whsec_ prefix works too.
	sw2, _ := NewStandardWebhooks(Config{Secret: strings.TrimPrefix(v.secret, "whsec_"), Clock: clk})
	if err := sw2.Verify(context.Background(), h, []byte(v.body)); err != nil {
		t.Fatal(err)
	}
}

func TestStandardWebhooks(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"type":"user.created","data":{"id":1}}`)
	// The expected signature, computed here from the spec's definition.
	sign := func(id string, ts int64, b []byte) string {
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
		mac.Write(b)
		return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	}
	if got, _ := SignStandard(secret, "msg_1", now, body); got != sign("msg_1", now.Unix(), body) {
		t.Fatalf("SignStandard = %s", got)
	}
	headers := func(id string, ts int64, sig string) http.Header {
		return hdr(HeaderWebhookID, id, HeaderWebhookTimestamp, strconv.FormatInt(ts, 10), HeaderWebhookSignature, sig)
	}
	ts := now.Unix()
	other := "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32))
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", headers("msg_a", ts, sign("msg_a", ts, body)), body, nil},
		{"several signatures, one valid (key rotation)", headers("msg_b", ts, other+" v1a,AAAA "+sign("msg_b", ts, body)), body, nil},
		{"4m59s old", headers("msg_c", ts-299, sign("msg_c", ts-299, body)), body, nil},
		{"exactly 5m old", headers("msg_d", ts-300, sign("msg_d", ts-300, body)), body, nil},
		{"5m in the future", headers("msg_e", ts+300, sign("msg_e", ts+300, body)), body, nil},
		{"5m01s old", headers("msg_f", ts-301, sign("msg_f", ts-301, body)), body, ErrTimestampOutOfTolerance},
		{"5m01s in the future", headers("msg_g", ts+301, sign("msg_g", ts+301, body)), body, ErrTimestampOutOfTolerance},
		{"body changed", headers("msg_h", ts, sign("msg_h", ts, body)), []byte(`{}`), ErrSignatureMismatch},
		{"id changed", headers("msg_i2", ts, sign("msg_i", ts, body)), body, ErrSignatureMismatch},
		{"timestamp changed", headers("msg_j", ts-1, sign("msg_j", ts, body)), body, ErrSignatureMismatch},
		{"only other signatures", headers("msg_k", ts, other), body, ErrSignatureMismatch},
		{"no v1 entry", headers("msg_l", ts, "v1a,AAAA"), body, ErrMalformedHeader},
		{"entry without comma", headers("msg_m", ts, "v1"), body, ErrMalformedHeader},
		{"bad base64", headers("msg_n", ts, "v1,***"), body, ErrMalformedHeader},
		{"timestamp not a number", hdr(HeaderWebhookID, "msg_o", HeaderWebhookTimestamp, "soon", HeaderWebhookSignature, other), body, ErrMalformedHeader},
		{"timestamp in milliseconds", headers("msg_p", ts*1000, sign("msg_p", ts*1000, body)), body, ErrMalformedHeader},
		{"missing id", hdr(HeaderWebhookTimestamp, "1", HeaderWebhookSignature, other), body, ErrMissingHeader},
		{"missing timestamp", hdr(HeaderWebhookID, "x", HeaderWebhookSignature, other), body, ErrMissingHeader},
		{"missing signature", hdr(HeaderWebhookID, "x", HeaderWebhookTimestamp, "1"), body, ErrMissingHeader},
		{"id too long", headers(strings.Repeat("x", 300), ts, other), body, ErrMalformedHeader},
	}
	clk := clock.NewFake(now)
	sw, err := NewStandardWebhooks(Config{Secret: secret, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sw.Verify(context.Background(), tt.header, tt.body)
			checkErr(t, err, tt.want)
			if err != nil {
				for _, id := range []string{"msg_h", "msg_i", "msg_j", "msg_k"} {
					if s := sign(id, ts, body); strings.Contains(err.Error(), s[3:]) {
						t.Errorf("the error leaks the expected signature: %v", err)
					}
				}
			}
		})
	}
}

func TestStandardWebhooksReplay(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-key-of-24-bytes!"))
	now := time.Unix(1_800_000_000, 0)
	clk := clock.NewFake(now)
	seen := NewMemorySeen(clk)
	sw, err := NewStandardWebhooks(Config{Secret: secret, Clock: clk, Seen: seen, Scope: "hooks/a"})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"n":1}`)
	req := func(id string, ts time.Time) http.Header {
		sig, _ := SignStandard(secret, id, ts, body)
		return hdr(HeaderWebhookID, id, HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10), HeaderWebhookSignature, sig)
	}
	ctx := context.Background()
	h := req("msg_1", now)
	checkErr(t, sw.Verify(ctx, h, body), nil)
	checkErr(t, sw.Verify(ctx, h, body), ErrReplayed)
	// A resend with the same id and a fresh timestamp is a replay too.
	clk.Advance(2 * time.Minute)
	checkErr(t, sw.Verify(ctx, req("msg_1", clk.Now()), body), ErrReplayed)
	// Another id passes; so does the same id on another webhook (scope).
	checkErr(t, sw.Verify(ctx, req("msg_2", clk.Now()), body), nil)
	other, _ := NewStandardWebhooks(Config{Secret: secret, Clock: clk, Seen: seen, Scope: "hooks/b"})
	checkErr(t, other.Verify(ctx, req("msg_1", clk.Now()), body), nil)
	// A forged request does not burn an id.
	forged := req("msg_3", clk.Now())
	forged.Set(HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	checkErr(t, sw.Verify(ctx, forged, body), ErrSignatureMismatch)
	checkErr(t, sw.Verify(ctx, req("msg_3", clk.Now()), body), nil)
	// Forget lets the sender's retry in (the engine failed to record it).
	if err := sw.Forget(ctx, "msg_3"); err != nil {
		t.Fatal(err)
	}
	checkErr(t, sw.Verify(ctx, req("msg_3", clk.Now()), body), nil)
	// Once the original timestamp is out of tolerance the replay fails on
	// the timestamp, and the store drops the expired id.
	clk.Advance(4 * time.Minute)
	checkErr(t, sw.Verify(ctx, h, body), ErrTimestampOutOfTolerance)
	old := seen.Len()
	clk.Advance(10 * time.Minute)
	for i := range 128 {
		checkErr(t, sw.Verify(ctx, req("fill"+strconv.Itoa(i), clk.Now()), body), nil)
	}
	if n := seen.Len(); old == 0 || n > 128 {
		t.Errorf("the store keeps expired ids: %d entries after 128 new ones (%d before)", n, old)
	}
}

type failingSeen struct{}

func (failingSeen) MarkSeen(context.Context, string, string, time.Time) (bool, error) {
	return false, errors.New("database is locked")
}
func (failingSeen) Forget(context.Context, string, string) error { return nil }

func TestStandardWebhooksStoreError(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-key-of-24-bytes!"))
	now := time.Unix(1_800_000_000, 0)
	sw, _ := NewStandardWebhooks(Config{Secret: secret, Clock: clock.NewFake(now), Seen: failingSeen{}})
	sig, _ := SignStandard(secret, "m", now, nil)
	err := sw.Verify(context.Background(), hdr(HeaderWebhookID, "m", HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10), HeaderWebhookSignature, sig), nil)
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("error %v, want the store's error", err)
	}
}

func TestNew(t *testing.T) {
	if v, err := New(Config{Scheme: SchemeGitHub, Secret: "x"}); err != nil || v == nil {
		t.Errorf("New(github) = %v, %v", v, err)
	}
	if v, err := New(Config{Scheme: SchemeStandardWebhooks, Secret: "whsec_AAAA"}); err != nil || v == nil {
		t.Errorf("New(standard-webhooks) = %v, %v", v, err)
	}
	for _, cfg := range []Config{
		{Scheme: "stripe", Secret: "x"},
		{Scheme: SchemeStandardWebhooks, Secret: "whsec_not base64!"},
		{Scheme: SchemeStandardWebhooks, Secret: "whsec_"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func TestStandardWebhooksEd25519(t *testing.T) {
	priv := ed25519.NewKeyFromSeed([]byte("0123456789abcdef0123456789abcdef"))
	pub := priv.Public().(ed25519.PublicKey)
	now := time.Unix(1_800_000_000, 0)
	sw, err := NewStandardWebhooks(Config{Secret: "whpk_" + base64.StdEncoding.EncodeToString(pub), Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"invoice.paid"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	// The expected signature, computed here from the spec's definition.
	good := "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte("msg_1."+ts+"."+string(body))))
	if got := SignStandardEd25519(priv, "msg_1", now, body); got != good {
		t.Fatalf("SignStandardEd25519 = %s, want %s", got, good)
	}
	hmacSig, _ := SignStandard("whsec_"+base64.StdEncoding.EncodeToString([]byte("k")), "msg_2", now, body)
	otherPriv := ed25519.NewKeyFromSeed(make([]byte, 32))
	tests := []struct {
		name, id, sig string
		body          []byte
		want          error
	}{
		{"valid", "msg_1", good, body, nil},
		{"v1 entries are ignored", "msg_2", hmacSig + " " + SignStandardEd25519(priv, "msg_2", now, body), body, nil},
		{"only v1", "msg_3", hmacSig, body, ErrMalformedHeader},
		{"other key", "msg_4", SignStandardEd25519(otherPriv, "msg_4", now, body), body, ErrSignatureMismatch},
		{"body changed", "msg_5", SignStandardEd25519(priv, "msg_5", now, body), []byte(`{}`), ErrSignatureMismatch},
		{"replay", "msg_1", good, body, ErrReplayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := hdr(HeaderWebhookID, tt.id, HeaderWebhookTimestamp, ts, HeaderWebhookSignature, tt.sig)
			checkErr(t, sw.Verify(context.Background(), h, tt.body), tt.want)
		})
	}
	for _, bad := range []string{"whpk_", "whpk_AAAA", "whpk_!!"} {
		if _, err := NewStandardWebhooks(Config{Secret: bad}); err == nil {
			t.Errorf("public key %q accepted", bad)
		}
	}
}
