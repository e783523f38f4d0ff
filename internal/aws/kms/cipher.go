// Package kms is the AWS engine's store.Cipher: datastore secrets and the
// secret parameters of executions are encrypted with envelope encryption
// under an AWS KMS key (BWC_KMS_KEY, the stack's secrets key).
//
// Each Encrypt asks KMS for a fresh AES-256 data key (GenerateDataKey) and
// seals the plaintext locally with AES-256-GCM under it, so a secret's size
// is not bounded by KMS's 4096-byte limit on direct encryption. The store's
// additional authenticated data is passed to KMS as the encryption context
// (the data key only decrypts for the same record) and bound to the local
// ciphertext as GCM associated data, so a ciphertext moved to another
// record does not decrypt.
//
// The output is a self-describing blob:
//
//	"BWCE"  magic (4 bytes)
//	0x01    format version
//	uint16  length of the encrypted data key (big endian)
//	...     the encrypted data key, as KMS returned it
//	...     GCM nonce (12 bytes)
//	...     GCM ciphertext and tag (16 bytes)
//
// Blobs written before envelope encryption are KMS ciphertext blobs of the
// secret itself; Decrypt still opens them with KMS Decrypt. A symmetric KMS
// ciphertext blob begins with its own format byte 0x01 ("AQICAH..." in
// base64), never with "B" (0x42), so the magic tells the two formats apart;
// a blob that starts with the magic but does not parse as an envelope is
// handed to KMS as an old blob, which only a tampered blob would be, and KMS
// refuses it.
//
// Plaintexts and data keys are never logged or put in errors; the data
// key's bytes are zeroed once the AES cipher is built (the expanded key
// schedule inside crypto/aes cannot be reached to zero it).
//
// Concurrency: a Cipher is immutable and safe for concurrent use.
package kms

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/bwc-project/bwc/internal/store"
)

// ContextKey is the encryption context key holding the additional
// authenticated data (base64).
const ContextKey = "bwc:aad"

// Magic begins every envelope blob; Version follows it.
const (
	Magic   = "BWCE"
	Version = 1
)

const (
	dataKeySize = 32 // AES-256
	nonceSize   = 12 // GCM's standard nonce
	tagSize     = 16
	headerSize  = len(Magic) + 1 + 2 // magic, version, encrypted key length
)

// ErrDecrypt is returned when a ciphertext does not decrypt with the key
// and the record's context (tampered, moved, or another key).
var ErrDecrypt = errors.New("the secret does not decrypt with this key and record")

// kmsAPI is the subset of the KMS client the Cipher calls; *kms.Client
// satisfies it. Decrypt opens data keys (and the secrets of blobs written
// before envelope encryption).
type kmsAPI interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
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

// gcm builds AES-256-GCM under key and zeroes key.
func gcm(key []byte) (cipher.AEAD, error) {
	defer clear(key)
	if len(key) != dataKeySize {
		return nil, fmt.Errorf("building AES-256-GCM: a data key of %d bytes, want %d", len(key), dataKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("building AES-256-GCM: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("building AES-256-GCM: %w", err)
	}
	return aead, nil
}

// associated is the GCM associated data: the blob's header (magic,
// version, encrypted data key) then the store's aad.
func associated(header, aad []byte) []byte {
	return append(append(make([]byte, 0, len(header)+len(aad)), header...), aad...)
}

// Encrypt implements store.Cipher. Outcomes: the envelope blob; a KMS
// error (GenerateDataKey); an error from the local cipher.
func (c *Cipher) Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error) {
	out, err := c.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(c.key),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryptionContext(aad),
	})
	if err != nil {
		return nil, fmt.Errorf("generating a data key with KMS key %s: %w", c.key, err)
	}
	aead, err := gcm(out.Plaintext)
	if err != nil {
		return nil, fmt.Errorf("encrypting a secret with KMS key %s: %w", c.key, err)
	}
	edk := out.CiphertextBlob
	if len(edk) == 0 || len(edk) > 0xffff {
		return nil, fmt.Errorf("encrypting a secret with KMS key %s: an encrypted data key of %d bytes", c.key, len(edk))
	}
	blob := make([]byte, 0, headerSize+len(edk)+nonceSize+len(plaintext)+tagSize)
	blob = append(blob, Magic...)
	blob = append(blob, Version)
	blob = binary.BigEndian.AppendUint16(blob, uint16(len(edk)))
	blob = append(blob, edk...)
	header := blob
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypting a secret: drawing a nonce: %w", err)
	}
	blob = append(blob, nonce...)
	return aead.Seal(blob, nonce, plaintext, associated(header, aad)), nil
}

// envelope is a parsed envelope blob.
type envelope struct {
	header, edk, nonce, sealed []byte
}

// parse splits an envelope blob; ok is false for a blob that is not one
// (no magic, another version, or lengths that do not add up).
func parse(blob []byte) (envelope, bool) {
	if len(blob) < headerSize || !bytes.HasPrefix(blob, []byte(Magic)) || blob[len(Magic)] != Version {
		return envelope{}, false
	}
	n := int(binary.BigEndian.Uint16(blob[len(Magic)+1:]))
	rest := blob[headerSize:]
	if n == 0 || len(rest) < n+nonceSize+tagSize {
		return envelope{}, false
	}
	return envelope{
		header: blob[:headerSize+n],
		edk:    rest[:n],
		nonce:  rest[n : n+nonceSize],
		sealed: rest[n+nonceSize:],
	}, true
}

// Decrypt implements store.Cipher. Outcomes: the plaintext; ErrDecrypt for
// a ciphertext that is not this key's or not this record's, or was
// tampered with; a KMS error.
func (c *Cipher) Decrypt(ctx context.Context, ciphertext, aad []byte) ([]byte, error) {
	env, ok := parse(ciphertext)
	if !ok {
		// written before envelope encryption: a KMS ciphertext blob
		pt, err := c.kmsDecrypt(ctx, ciphertext, aad)
		if err != nil {
			return nil, fmt.Errorf("decrypting a secret with KMS key %s: %w", c.key, err)
		}
		return pt, nil
	}
	dk, err := c.kmsDecrypt(ctx, env.edk, aad)
	if err != nil {
		return nil, fmt.Errorf("decrypting a secret's data key with KMS key %s: %w", c.key, err)
	}
	aead, err := gcm(dk)
	if err != nil {
		return nil, fmt.Errorf("decrypting a secret with KMS key %s: %w: %w", c.key, ErrDecrypt, err)
	}
	pt, err := aead.Open(nil, env.nonce, env.sealed, associated(env.header, aad))
	if err != nil {
		return nil, fmt.Errorf("decrypting a secret with KMS key %s: %w", c.key, ErrDecrypt)
	}
	return pt, nil
}

// kmsDecrypt asks KMS to decrypt blob under the record's context and
// translates a refusal into ErrDecrypt.
func (c *Cipher) kmsDecrypt(ctx context.Context, blob, aad []byte) ([]byte, error) {
	out, err := c.api.Decrypt(ctx, &kms.DecryptInput{
		KeyId:             aws.String(c.key),
		CiphertextBlob:    blob,
		EncryptionContext: encryptionContext(aad),
	})
	var invalid *types.InvalidCiphertextException
	var incorrect *types.IncorrectKeyException
	switch {
	case err == nil:
		return out.Plaintext, nil
	case errors.As(err, &invalid), errors.As(err, &incorrect):
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	default:
		return nil, err
	}
}
