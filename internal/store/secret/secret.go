// Package secret implements the store's [store.Cipher] port with AES-256-GCM
// and a key kept in a local file, for the embedded engine. (On AWS the same
// port is implemented with KMS.)
//
// A ciphertext is version byte 1, a 12-byte random nonce, then the GCM
// sealed box; the associated data the store passes (the key's scope, user
// and name) is authenticated, so a ciphertext copied to another key fails to
// decrypt.
//
// Concurrency: an [AESGCM] is immutable after construction and safe for
// concurrent use.
package secret

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/bwc-project/bwc/internal/store"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

const version1 = 1

// ErrDecrypt reports a ciphertext that is corrupt, was made with another
// key, or is bound to other associated data.
var ErrDecrypt = errors.New("secret: cannot decrypt")

// AESGCM encrypts with AES-256-GCM.
type AESGCM struct {
	aead cipher.AEAD
}

var _ store.Cipher = (*AESGCM)(nil)

// New returns a cipher for a 32-byte key.
func New(key []byte) (*AESGCM, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key is %d bytes, expected %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: building AES: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: building GCM: %w", err)
	}
	return &AESGCM{aead: aead}, nil
}

// Encrypt seals plaintext bound to aad.
func (c *AESGCM) Encrypt(_ context.Context, plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+c.aead.NonceSize(), 1+c.aead.NonceSize()+len(plaintext)+c.aead.Overhead())
	out[0] = version1
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("secret: reading a nonce: %w", err)
	}
	return c.aead.Seal(out, out[1:], plaintext, aad), nil
}

// Decrypt opens a ciphertext made by Encrypt with the same key and aad.
func (c *AESGCM) Decrypt(_ context.Context, ciphertext, aad []byte) ([]byte, error) {
	n := c.aead.NonceSize()
	if len(ciphertext) < 1+n+c.aead.Overhead() || ciphertext[0] != version1 {
		return nil, fmt.Errorf("%w: malformed ciphertext", ErrDecrypt)
	}
	pt, err := c.aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], aad)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err) //nolint:errorlint // GCM's error is opaque by design
	}
	return pt, nil
}

// LoadKeyFile reads a key file: 64 hex digits (whitespace around them is
// ignored). The file must not be readable by group or others.
func LoadKeyFile(path string) (*AESGCM, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret: reading key file: %w", err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret: key file %s has mode %v, expected no group/other access (chmod 600)", path, info.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret: reading key file: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: expected %d hex digits: %w", path, 2*KeySize, err)
	}
	c, err := New(key)
	if err != nil {
		return nil, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	return c, nil
}

// CreateKeyFile writes a new random key to path with mode 0600, creating
// its directory. It refuses to overwrite an existing file.
func CreateKeyFile(path string) error {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("secret: generating a key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("secret: creating key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("secret: creating key file: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("secret: writing key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("secret: writing key file: %w", err)
	}
	return nil
}
