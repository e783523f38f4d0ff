package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/bwc-project/bwc/internal/aws/kms"
	"github.com/bwc-project/bwc/internal/aws/kms/kmstest"
)

const keyARN = "arn:aws:kms:us-east-1:1:key/k"

func wantContext(aad string) map[string]string {
	return map[string]string{kms.ContextKey: base64.StdEncoding.EncodeToString([]byte(aad))}
}

func sameContext(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func randomText(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRoundTrip encrypts plaintexts of every size, far over KMS's 4096
// bytes, and checks the blob's format, that it does not hold the
// plaintext, and the key and encryption context KMS was asked for.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"short", 7},
		{"KMS limit", 4096},
		{"over KMS limit", 4097},
		{"10 KB", 10 << 10},
		{"1 MB", 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := &kmstest.Fake{}
			c := kms.New(fake, keyARN)
			pt := randomText(t, tc.size)
			aad := "KV#system#" + tc.name
			blob, err := c.Encrypt(ctx, pt, []byte(aad))
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if !bytes.HasPrefix(blob, []byte(kms.Magic)) || blob[len(kms.Magic)] != kms.Version {
				t.Errorf("blob starts with %q, want %q and version %d", blob[:min(len(blob), 5)], kms.Magic, kms.Version)
			}
			if tc.size >= 16 && bytes.Contains(blob, pt[:16]) {
				t.Error("the blob holds the plaintext")
			}
			got, err := c.Decrypt(ctx, blob, []byte(aad))
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, pt) {
				t.Fatalf("Decrypt returned %d bytes, not the %d encrypted", len(got), len(pt))
			}
			calls := fake.Calls()
			if len(calls) != 2 || calls[0].Op != "GenerateDataKey" || calls[1].Op != "Decrypt" {
				t.Fatalf("KMS calls %+v, want GenerateDataKey then Decrypt", calls)
			}
			for _, call := range calls {
				if call.KeyID != keyARN || !sameContext(call.Context, wantContext(aad)) {
					t.Errorf("%s with key %s and context %v, want %s and %v", call.Op, call.KeyID, call.Context, keyARN, wantContext(aad))
				}
			}
		})
	}
}

// TestFreshDataKey checks each Encrypt draws its own data key and nonce.
func TestFreshDataKey(t *testing.T) {
	ctx := context.Background()
	c := kms.New(&kmstest.Fake{}, keyARN)
	a, err := c.Encrypt(ctx, []byte("same"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Encrypt(ctx, []byte("same"), []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, b) {
		t.Error("two encryptions of the same plaintext are equal")
	}
}

// ignoreContext drops the encryption context before the fake sees it, so
// only the local cipher's associated data binds a blob to its record.
type ignoreContext struct{ *kmstest.Fake }

func (f ignoreContext) GenerateDataKey(ctx context.Context, in *awskms.GenerateDataKeyInput, o ...func(*awskms.Options)) (*awskms.GenerateDataKeyOutput, error) {
	cp := *in
	cp.EncryptionContext = nil
	return f.Fake.GenerateDataKey(ctx, &cp, o...)
}

func (f ignoreContext) Decrypt(ctx context.Context, in *awskms.DecryptInput, o ...func(*awskms.Options)) (*awskms.DecryptOutput, error) {
	cp := *in
	cp.EncryptionContext = nil
	return f.Fake.Decrypt(ctx, &cp, o...)
}

// TestRefused checks that a blob opens only with its key and record, and
// that any tampering is ErrDecrypt.
func TestRefused(t *testing.T) {
	ctx := context.Background()
	fake := &kmstest.Fake{}
	c := kms.New(fake, keyARN)
	pt := randomText(t, 10<<10)
	blob, err := c.Encrypt(ctx, pt, []byte("EX#e1"))
	if err != nil {
		t.Fatal(err)
	}
	noCtx := kms.New(ignoreContext{fake}, keyARN)
	blobNoCtx, err := noCtx.Encrypt(ctx, pt, []byte("EX#e1"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name   string
		cipher *kms.Cipher
		blob   []byte
		aad    string
	}{
		{"another record (KMS context)", c, blob, "EX#e2"},
		{"another record (GCM associated data)", noCtx, blobNoCtx, "EX#e2"},
		{"another key", kms.New(fake, "arn:aws:kms:us-east-1:1:key/other"), blob, "EX#e1"},
		{"magic", c, flip(blob, 0), "EX#e1"},
		{"version", c, flip(blob, 4), "EX#e1"},
		{"key length", c, flip(blob, 6), "EX#e1"},
		{"encrypted data key", c, flip(blob, 10), "EX#e1"},
		{"header under GCM", noCtx, flip(blobNoCtx, 5), "EX#e1"},
		{"ciphertext", c, flip(blob, len(blob)/2), "EX#e1"},
		{"tag", c, flip(blob, -1), "EX#e1"},
		{"truncated", c, blob[:len(blob)-1], "EX#e1"},
		{"header only", c, blob[:7], "EX#e1"},
		{"empty", c, nil, "EX#e1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cipher.Decrypt(ctx, tc.blob, []byte(tc.aad))
			if !errors.Is(err, kms.ErrDecrypt) {
				t.Fatalf("Decrypt = %d bytes, %v; want ErrDecrypt", len(got), err)
			}
		})
	}
	// the GCM case above must fail for the aad, not for the blob
	if got, err := noCtx.Decrypt(ctx, blobNoCtx, []byte("EX#e1")); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("the context-free blob does not open with its own record: %v", err)
	}
}

// TestOldBlobs decrypts blobs written by the cipher before envelope
// encryption: KMS Encrypt of the secret itself, same encryption context.
func TestOldBlobs(t *testing.T) {
	ctx := context.Background()
	fake := &kmstest.Fake{}
	c := kms.New(fake, keyARN)
	for _, tc := range []struct {
		name      string
		plaintext []byte
		aad       string // at Decrypt
		wantErr   error
	}{
		{"same record", []byte("hunter2"), "KV#system#pw", nil},
		{"starts like the magic", []byte("BWCE\x01\x00\x01"), "KV#system#pw", nil},
		{"4096 bytes", bytes.Repeat([]byte("s"), 4096), "KV#system#pw", nil},
		{"another record", []byte("hunter2"), "KV#system#other", kms.ErrDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := fake.Encrypt(ctx, &awskms.EncryptInput{
				KeyId: aws.String(keyARN), Plaintext: tc.plaintext, EncryptionContext: wantContext("KV#system#pw"),
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Decrypt(ctx, out.CiphertextBlob, []byte(tc.aad))
			if !errors.Is(err, tc.wantErr) || (err == nil && !bytes.Equal(got, tc.plaintext)) {
				t.Fatalf("Decrypt = %q, %v; want %q, %v", got, err, tc.plaintext, tc.wantErr)
			}
		})
	}
}

// failing is a KMS that is unavailable.
type failing struct{}

var errThrottled = errors.New("ThrottlingException: rate exceeded")

func (failing) GenerateDataKey(context.Context, *awskms.GenerateDataKeyInput, ...func(*awskms.Options)) (*awskms.GenerateDataKeyOutput, error) {
	return nil, errThrottled
}

func (failing) Decrypt(context.Context, *awskms.DecryptInput, ...func(*awskms.Options)) (*awskms.DecryptOutput, error) {
	return nil, errThrottled
}

// TestKMSErrors checks that a KMS failure is passed on wrapped, is not
// ErrDecrypt (the secret is not known bad), and carries no plaintext.
func TestKMSErrors(t *testing.T) {
	ctx := context.Background()
	blob, err := kms.New(&kmstest.Fake{}, keyARN).Encrypt(ctx, []byte("hunter2"), []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	c := kms.New(failing{}, keyARN)
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Encrypt", func() error { _, err := c.Encrypt(ctx, []byte("hunter2"), []byte("a")); return err }},
		{"Decrypt", func() error { _, err := c.Decrypt(ctx, blob, []byte("a")); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, errThrottled) || errors.Is(err, kms.ErrDecrypt) {
				t.Fatalf("%s: %v; want the KMS error, not ErrDecrypt", tc.name, err)
			}
			if !strings.Contains(err.Error(), keyARN) || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("%s: %q should name the key and not the plaintext", tc.name, err)
			}
		})
	}
}

func BenchmarkEncryptDecrypt(b *testing.B) {
	ctx := context.Background()
	c := kms.New(&kmstest.Fake{}, keyARN)
	pt := bytes.Repeat([]byte("x"), 10<<10)
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		blob, err := c.Encrypt(ctx, pt, []byte("aad"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Decrypt(ctx, blob, []byte("aad")); err != nil {
			b.Fatal(err)
		}
	}
}
