package asl

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// compactJSON renders a value as compact JSON without HTML escaping, as
// Step Functions prints values in causes and history.
func compactJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return string(bytes.TrimRight(b.Bytes(), "\n"))
}

// jsonSize returns the size of v as compact JSON in bytes, stopping early
// once it exceeds limit. It is compositional: below the limit, the size of
// an object or array is a sum over its members, which sizedSet relies on.
func jsonSize(v any, limit int) int { return addJSONSize(0, v, limit) }

func addJSONSize(n int, v any, limit int) int {
	if n > limit {
		return n
	}
	switch x := v.(type) {
	case nil:
		n += 4
	case bool:
		n += 5
	case float64:
		if x == float64(int64(x)) && x < 1e15 && x > -1e15 {
			n++
			for v := int64(x) / 10; v != 0; v /= 10 {
				n++
			}
			if x < 0 {
				n++
			}
		} else {
			n += len(strconv.FormatFloat(x, 'g', -1, 64))
		}
	case string:
		n += 2 + len(x)
		if !utf8.ValidString(x) {
			n += len(x)
		}
	case []any:
		n += 2 + len(x)
		for _, e := range x {
			n = addJSONSize(n, e, limit)
		}
	case map[string]any:
		n += 2 + len(x)
		for k, e := range x {
			n += 3 + len(k)
			n = addJSONSize(n, e, limit)
		}
	default:
		n += len(compactJSON(v))
	}
	return n
}

// jsonEqual compares two decoded JSON values.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	}
	return a == b
}
