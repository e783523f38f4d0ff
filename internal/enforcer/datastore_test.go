package enforcer_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/secret"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

func TestDatastoreFunctions(t *testing.T) {
	ctx := context.Background()
	key, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bwc.db"), store.Options{Cipher: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	for _, kv := range []store.KeyValue{
		{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "region"}, Value: "eu-west-1"},
		{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "token"}, Value: "s3cret", Secret: true},
	} {
		if _, err := db.PutKeyValue(ctx, kv); err != nil {
			t.Fatal(err)
		}
	}
	fns := enforcer.DatastoreFunctions(db, func(_ context.Context, packRef, k string) (any, error) { return packRef + "/" + k, nil })
	if v, err := fns.KV(ctx, "system", "region"); err != nil || v != "eu-west-1" {
		t.Errorf("$kv(system, region) = %v, %v", v, err)
	}
	if v, err := fns.KV(ctx, "system", "token"); err != nil || v != store.Masked {
		t.Errorf("$kv of a secret = %v, %v; want it masked (only $secret decrypts)", v, err)
	}
	if v, err := fns.KV(ctx, "system", "absent"); err != nil || v != nil {
		t.Errorf("$kv of an absent key = %v, %v; want null", v, err)
	}
	if v, err := fns.Secret(ctx, "token"); err != nil || v != "s3cret" {
		t.Errorf("$secret(token) = %v, %v", v, err)
	}
	if _, err := fns.Secret(ctx, "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("$secret of an absent key: %v, want ErrNotFound", err)
	}
	if v, _ := fns.Config(ctx, "p", "k"); v != "p/k" {
		t.Errorf("$config = %v", v)
	}
}
