package kms_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/bwc-project/bwc/internal/aws/kms"
	"github.com/bwc-project/bwc/internal/store"
)

// fakeKMS "encrypts" by prefixing the key and the encryption context, and
// refuses to decrypt under another key or context, as KMS does.
type fakeKMS struct{}

func seal(key string, ctx map[string]string) string {
	return key + "|" + ctx[kms.ContextKey] + "|"
}

func (fakeKMS) Encrypt(_ context.Context, in *awskms.EncryptInput, _ ...func(*awskms.Options)) (*awskms.EncryptOutput, error) {
	return &awskms.EncryptOutput{CiphertextBlob: append([]byte(seal(aws.ToString(in.KeyId), in.EncryptionContext)), in.Plaintext...)}, nil
}

func (fakeKMS) Decrypt(_ context.Context, in *awskms.DecryptInput, _ ...func(*awskms.Options)) (*awskms.DecryptOutput, error) {
	prefix := seal(aws.ToString(in.KeyId), in.EncryptionContext)
	if !strings.HasPrefix(string(in.CiphertextBlob), prefix) {
		return nil, &types.InvalidCiphertextException{Message: aws.String("bad")}
	}
	return &awskms.DecryptOutput{Plaintext: in.CiphertextBlob[len(prefix):]}, nil
}

func TestCipher(t *testing.T) {
	ctx := context.Background()
	c := kms.New(fakeKMS{}, "arn:aws:kms:us-east-1:1:key/k")
	ct, err := c.Encrypt(ctx, []byte("hunter2"), []byte("KV#system#pw"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		cipher  *kms.Cipher
		aad     string
		wantErr error
	}{
		{"same key and record", c, "KV#system#pw", nil},
		{"another record", c, "KV#system#other", kms.ErrDecrypt},
		{"another key", kms.New(fakeKMS{}, "arn:aws:kms:us-east-1:1:key/other"), "KV#system#pw", kms.ErrDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := tc.cipher.Decrypt(ctx, ct, []byte(tc.aad))
			if !errors.Is(err, tc.wantErr) || (err == nil && !bytes.Equal(pt, []byte("hunter2"))) {
				t.Errorf("Decrypt = %q, %v; want hunter2, %v", pt, err, tc.wantErr)
			}
		})
	}
	if _, err := c.Encrypt(ctx, make([]byte, kms.MaxPlaintext+1), nil); !errors.Is(err, kms.ErrTooLarge) || !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a too large secret: %v", err)
	}
}
