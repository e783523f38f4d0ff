package enforcer

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
)

// KeyValueReader reads the datastore; store.KeyValues satisfies it.
type KeyValueReader interface {
	// GetKeyValue returns a pair (decrypted when asked), or
	// store.ErrNotFound.
	GetKeyValue(ctx context.Context, ref store.KeyRef, decrypt bool) (store.KeyValue, error)
}

// DatastoreFunctions are $kv(), $secret() and $config() of templates, as
// both engines give them: $kv(scope, key) reads a pair (null when absent),
// $secret(key) a system-scope secret, decrypted (an error when absent), and
// $config(pack, key) calls config.
func DatastoreFunctions(kvs KeyValueReader, config func(ctx context.Context, packRef, key string) (any, error)) rule.Functions {
	return rule.Functions{
		KV: func(ctx context.Context, scope, key string) (any, error) {
			ref := store.KeyRef{Scope: store.Scope(scope), Name: key}
			kv, err := kvs.GetKeyValue(ctx, ref, false)
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("reading datastore key %s: %w", ref, err)
			}
			return kv.Value, nil
		},
		Secret: func(ctx context.Context, key string) (any, error) {
			kv, err := kvs.GetKeyValue(ctx, store.KeyRef{Scope: store.ScopeSystem, Name: key}, true)
			if err != nil {
				return nil, fmt.Errorf("reading secret %s: %w", key, err)
			}
			return kv.Value, nil
		},
		Config: config,
	}
}
