package secret

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTripAndTamper(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "k", "secret.key")
	if err := CreateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	if err := CreateKeyFile(path); err == nil {
		t.Fatal("CreateKeyFile overwrote an existing key file")
	}
	c, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte("hunter2")
	aad := []byte("system//db_password")
	ct, err := c.Encrypt(ctx, pt, aad)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, pt) {
		t.Fatal("ciphertext contains the plaintext")
	}
	ct2, _ := c.Encrypt(ctx, pt, aad)
	if bytes.Equal(ct, ct2) {
		t.Fatal("two encryptions are equal: nonce reused")
	}
	got, err := c.Decrypt(ctx, ct, aad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}

	other, _ := New(bytes.Repeat([]byte{7}, KeySize))
	flipped := bytes.Clone(ct)
	flipped[len(flipped)-1] ^= 1
	cases := []struct {
		name string
		c    *AESGCM
		ct   []byte
		aad  []byte
	}{
		{"other aad", c, ct, []byte("system//other")},
		{"other key", other, ct, aad},
		{"flipped bit", c, flipped, aad},
		{"truncated", c, ct[:10], aad},
		{"empty", c, nil, aad},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.c.Decrypt(ctx, tc.ct, tc.aad); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("Decrypt error = %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestLoadKeyFileRejects(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content string
		mode          os.FileMode
	}{
		{"world readable", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0o644},
		{"not hex", "zz", 0o600},
		{"short key", "0011", 0o600},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			if err := os.WriteFile(p, []byte(tc.content), tc.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadKeyFile(p); err == nil {
				t.Fatal("LoadKeyFile accepted a bad key file")
			}
		})
	}
	if _, err := New(make([]byte, 16)); err == nil {
		t.Fatal("New accepted a 16-byte key")
	}
}
