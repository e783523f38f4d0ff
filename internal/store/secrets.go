package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// ExecutionSecrets reads the secret parameters of executions. The adapters
// keep them beside the execution record, encrypted with the store's
// [Cipher] and bound to the execution id (see [SealSecrets]); GetExecution
// and ListExecutions never return them. Used by what runs an execution
// (the embedded executor, the runner function) just before it runs.
type ExecutionSecrets interface {
	// ExecutionSecrets returns the values of the execution's secret
	// parameters, decrypted: those named in its SecretParameters that
	// CreateExecution was given a value for (not [Masked]). Outcomes: the
	// values (an empty map when none were kept, for example because the
	// store had no cipher when it was created); ErrNotFound; ErrNoCipher
	// when values were kept and the store now has no cipher; a cipher
	// error (a ciphertext moved to another execution does not decrypt).
	ExecutionSecrets(ctx context.Context, id string) (map[string]any, error)
}

// SecretValues returns the values of e's secret parameters that are given
// in clear (present and not [Masked]); nil when there are none.
func SecretValues(e Execution) map[string]any {
	var out map[string]any
	for _, name := range e.SecretParameters {
		v, ok := e.Parameters[name]
		if !ok || v == Masked {
			continue
		}
		if out == nil {
			out = map[string]any{}
		}
		out[name] = v
	}
	return out
}

// SealSecrets returns what an adapter keeps of e's secret parameters: the
// JSON object of their values (see [SecretValues]) encrypted with c and
// bound to the execution id. It returns nil when there is nothing to keep,
// and also when c is nil: a store without a cipher keeps no secret value
// (the execution is stored masked, as always). Call it before
// [PrepareExecution] masks the parameters.
func SealSecrets(ctx context.Context, c Cipher, e Execution) ([]byte, error) {
	values := SecretValues(e)
	if values == nil || c == nil {
		return nil, nil
	}
	pt, err := json.Marshal(values)
	if err != nil {
		return nil, fmt.Errorf("encoding the secret parameters of execution %s: %w", e.ID, err)
	}
	ct, err := c.Encrypt(ctx, pt, executionAAD(e.ID))
	if err != nil {
		return nil, fmt.Errorf("encrypting the secret parameters of execution %s: %w", e.ID, err)
	}
	return ct, nil
}

// OpenSecrets decrypts what [SealSecrets] returned for execution id. Empty
// sealed bytes open to an empty map.
func OpenSecrets(ctx context.Context, c Cipher, id string, sealed []byte) (map[string]any, error) {
	out := map[string]any{}
	if len(sealed) == 0 {
		return out, nil
	}
	if c == nil {
		return nil, fmt.Errorf("reading the secret parameters of execution %s: %w", id, ErrNoCipher)
	}
	pt, err := c.Decrypt(ctx, sealed, executionAAD(id))
	if err != nil {
		return nil, fmt.Errorf("decrypting the secret parameters of execution %s: %w", id, err)
	}
	if err := json.Unmarshal(pt, &out); err != nil {
		return nil, fmt.Errorf("decoding the secret parameters of execution %s: %w", id, err)
	}
	return out, nil
}

// WithSecrets returns a copy of params with the secret values put back in
// place of their masks. It reports the names of secret parameters that are
// still [Masked] (their values were not kept).
func WithSecrets(params map[string]any, secret []string, values map[string]any) (map[string]any, []string) {
	out := make(map[string]any, len(params))
	for k, v := range params {
		out[k] = v
	}
	var missing []string
	for _, name := range secret {
		cur, ok := out[name]
		if !ok {
			continue
		}
		if v, ok := values[name]; ok {
			out[name] = v
		} else if cur == Masked {
			missing = append(missing, name)
		}
	}
	return out, missing
}

// executionAAD is the associated data an execution's secrets are sealed
// with. Key-value secrets are sealed with "<scope>/<user>/<name>", and
// "execution" is no scope, so the two never collide.
func executionAAD(id string) []byte { return []byte("execution/" + id) }

// secretRefPrefix starts a [SecretRef].
const secretRefPrefix = "bwc-secret://"

// SecretRef is what secret parameter name of execution id reads as in the
// input of a workflow's state machine: bwc-secret://<id>/<name>.
func SecretRef(id, name string) string { return secretRefPrefix + id + "/" + name }

// ParseSecretRef reads a value made by [SecretRef]; ok is false for any
// other value.
func ParseSecretRef(v any) (id, name string, ok bool) {
	s, isString := v.(string)
	if !isString {
		return "", "", false
	}
	rest, found := strings.CutPrefix(s, secretRefPrefix)
	if !found {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '/')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}
