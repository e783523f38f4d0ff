// Package kmstest is a fake of the KMS calls internal/aws/kms makes, for
// tests without AWS: each key id gets a random local AES-256 key standing
// in for the KMS key, ciphertext blobs are sealed with AES-256-GCM bound to
// the key id and the encryption context, and Decrypt refuses another key or
// context with the exceptions KMS returns. It records every encryption
// context it receives.
//
// Concurrency: a Fake is safe for concurrent use.
package kmstest

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// Call is one call the Fake received.
type Call struct {
	Op      string // "Encrypt", "GenerateDataKey" or "Decrypt"
	KeyID   string
	Context map[string]string
}

// Fake stands in for KMS. The zero value is ready to use.
type Fake struct {
	mu    sync.Mutex
	keys  map[string]cipher.AEAD
	calls []Call
}

// Calls returns the calls received so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *Fake) record(op, keyID string, ec map[string]string) cipher.AEAD {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Op: op, KeyID: keyID, Context: maps.Clone(ec)})
	if f.keys == nil {
		f.keys = map[string]cipher.AEAD{}
	}
	if a, ok := f.keys[keyID]; ok {
		return a
	}
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	f.keys[keyID] = a
	return a
}

// canonical is the encryption context as associated data.
func canonical(keyID string, ec map[string]string) []byte {
	var sb strings.Builder
	sb.WriteString(keyID)
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		fmt.Fprintf(&sb, "\x00%s=%s", k, ec[k])
	}
	return []byte(sb.String())
}

// seal makes a blob like KMS's: byte 0x01 first, then the key id and the
// sealed plaintext.
func (f *Fake) seal(op, keyID string, ec map[string]string, pt []byte) []byte {
	a := f.record(op, keyID, ec)
	blob := append([]byte{0x01, byte(len(keyID))}, keyID...)
	nonce := make([]byte, a.NonceSize())
	_, _ = rand.Read(nonce)
	blob = append(blob, nonce...)
	return a.Seal(blob, nonce, pt, canonical(keyID, ec))
}

// Encrypt encrypts directly, as the cipher did before envelope encryption.
func (f *Fake) Encrypt(_ context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	if len(in.Plaintext) > 4096 {
		return nil, errors.New("kmstest: ValidationException: plaintext over 4096 bytes")
	}
	keyID := aws.ToString(in.KeyId)
	return &kms.EncryptOutput{KeyId: in.KeyId, CiphertextBlob: f.seal("Encrypt", keyID, in.EncryptionContext, in.Plaintext)}, nil
}

// GenerateDataKey returns a random AES-256 data key and its blob.
func (f *Fake) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	if in.KeySpec != types.DataKeySpecAes256 {
		return nil, errors.New("kmstest: ValidationException: this fake generates AES_256 data keys only")
	}
	keyID := aws.ToString(in.KeyId)
	dk := make([]byte, 32)
	_, _ = rand.Read(dk)
	return &kms.GenerateDataKeyOutput{
		KeyId:          in.KeyId,
		Plaintext:      bytes.Clone(dk),
		CiphertextBlob: f.seal("GenerateDataKey", keyID, in.EncryptionContext, dk),
	}, nil
}

// Decrypt opens a blob of Encrypt or GenerateDataKey: IncorrectKeyException
// for another key, InvalidCiphertextException for another context or a
// tampered blob.
func (f *Fake) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	blob := in.CiphertextBlob
	if len(blob) < 2 || blob[0] != 0x01 || len(blob) < 2+int(blob[1]) {
		f.record("Decrypt", aws.ToString(in.KeyId), in.EncryptionContext)
		return nil, &types.InvalidCiphertextException{Message: aws.String("not a ciphertext blob")}
	}
	keyID := string(blob[2 : 2+int(blob[1])])
	if in.KeyId != nil && aws.ToString(in.KeyId) != keyID {
		f.record("Decrypt", aws.ToString(in.KeyId), in.EncryptionContext)
		return nil, &types.IncorrectKeyException{Message: aws.String("another key")}
	}
	a := f.record("Decrypt", keyID, in.EncryptionContext)
	rest := blob[2+len(keyID):]
	if len(rest) < a.NonceSize() {
		return nil, &types.InvalidCiphertextException{Message: aws.String("short blob")}
	}
	pt, err := a.Open(nil, rest[:a.NonceSize()], rest[a.NonceSize():], canonical(keyID, in.EncryptionContext))
	if err != nil {
		return nil, &types.InvalidCiphertextException{Message: aws.String("does not open")}
	}
	return &kms.DecryptOutput{KeyId: aws.String(keyID), Plaintext: pt}, nil
}
