package store

import (
	"context"
	"fmt"
)

// SealValue returns the bytes to store for kv's value: the plain text, or,
// for a secret, its ciphertext bound to the key's reference.
func SealValue(ctx context.Context, c Cipher, kv KeyValue) ([]byte, error) {
	if !kv.Secret {
		return []byte(kv.Value), nil
	}
	if c == nil {
		return nil, ErrNoCipher
	}
	ct, err := c.Encrypt(ctx, []byte(kv.Value), aad(kv.KeyRef))
	if err != nil {
		return nil, fmt.Errorf("encrypting: %w", err)
	}
	return ct, nil
}

// OpenValue fills kv.Value from stored bytes: plain text as is; a secret
// masked, or decrypted when decrypt is true.
func OpenValue(ctx context.Context, c Cipher, kv KeyValue, stored []byte, decrypt bool) (KeyValue, error) {
	switch {
	case !kv.Secret:
		kv.Value = string(stored)
	case !decrypt:
		kv.Value = Masked
	case c == nil:
		return kv, ErrNoCipher
	default:
		pt, err := c.Decrypt(ctx, stored, aad(kv.KeyRef))
		if err != nil {
			return kv, fmt.Errorf("decrypting %s: %w", kv.KeyRef, err)
		}
		kv.Value = string(pt)
	}
	return kv, nil
}

// PrefixEnd returns the smallest string greater than every string with the
// prefix, for range scans; ok is false when there is none (all 0xff).
func PrefixEnd(prefix string) (end string, ok bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// aad is the associated data a secret is sealed with: its reference, so a
// ciphertext copied to another key does not decrypt.
func aad(ref KeyRef) []byte { return []byte(ref.String()) }
