// Package kms is the AWS engine's store.Cipher: datastore secrets are
// encrypted and decrypted with an AWS KMS key (BWC_KMS_KEY, the stack's
// secrets key), the store's additional authenticated data passed as the
// KMS encryption context, so a ciphertext moved to another record does not
// decrypt.
//
// KMS encrypts at most 4096 bytes of plaintext per call, which bounds a
// secret's size on AWS.
//
// Concurrency: a Cipher is immutable and safe for concurrent use.
package kms

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/bwc-project/bwc/internal/store"
)

// MaxPlaintext is the largest plaintext KMS encrypts directly.
const MaxPlaintext = 4096

// ContextKey is the encryption context key holding the additional
// authenticated data (base64).
const ContextKey = "bwc:aad"

// ErrDecrypt is returned when a ciphertext does not decrypt with the key
// and the record's context (tampered, moved, or another key).
var ErrDecrypt = errors.New("the secret does not decrypt with this key and record")

// ErrTooLarge is returned for a plaintext over MaxPlaintext bytes; it
// matches store.ErrInvalid.
var ErrTooLarge = fmt.Errorf("a secret is at most %d bytes on AWS (KMS): %w", MaxPlaintext, store.ErrInvalid)

// kmsAPI is the subset of the KMS client the Cipher calls; *kms.Client
// satisfies it.
type kmsAPI interface {
	Encrypt(ctx context.Context, in *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ kmsAPI = (*kms.Client)(nil)

// Cipher encrypts with one KMS key.
type Cipher struct {
	api kmsAPI
	key string
}

var _ store.Cipher = (*Cipher)(nil)

// New returns a Cipher using the key keyID (an ARN, key id or alias).
func New(api kmsAPI, keyID string) *Cipher { return &Cipher{api: api, key: keyID} }

func encryptionContext(aad []byte) map[string]string {
	return map[string]string{ContextKey: base64.StdEncoding.EncodeToString(aad)}
}

// Encrypt implements store.Cipher. Outcomes: the KMS ciphertext blob;
// ErrTooLarge; a KMS error.
func (c *Cipher) Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	if len(plaintext) > MaxPlaintext {
		return nil, fmt.Errorf("encrypting a secret of %d bytes: %w", len(plaintext), ErrTooLarge)
	}
	out, err := c.api.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(c.key),
		Plaintext:         plaintext,
		EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("encrypting a secret with KMS key %s: %w", c.key, err)
	}
	return out.CiphertextBlob, nil
}

// Decrypt implements store.Cipher. Outcomes: the plaintext; ErrDecrypt for
// a ciphertext that is not this key's or not this record's; a KMS error.
func (c *Cipher) Decrypt(ctx context.Context, ciphertext, aad []byte) ([]byte, error) {
	out, err := c.api.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(c.key),
		CiphertextBlob:    ciphertext,
		EncryptionContext: encryptionContext(aad),
	})
	var invalid *types.InvalidCiphertextException
	var incorrect *types.IncorrectKeyException
	switch {
	case err == nil:
		return out.Plaintext, nil
	case errors.As(err, &invalid), errors.As(err, &incorrect):
		return nil, fmt.Errorf("decrypting a secret with KMS key %s: %w: %w", c.key, ErrDecrypt, err)
	default:
		return nil, fmt.Errorf("decrypting a secret with KMS key %s: %w", c.key, err)
	}
}
