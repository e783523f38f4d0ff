package payload

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// FuzzValidate validates arbitrary JSON payloads against a schema that
// uses most keywords: it must not panic, and every problem must point
// into the payload.
func FuzzValidate(f *testing.F) {
	s, err := Compile(map[string]any{
		"type": "object",
		"properties": map[string]any{
			"a": map[string]any{"type": "string", "maxLength": 3, "required": true},
			"b": map[string]any{"type": "array", "items": map[string]any{"type": "integer", "minimum": 0}},
			"c": map[string]any{"anyOf": []any{map[string]any{"type": "null"}, map[string]any{"enum": []any{"x", "y"}}}},
			"d": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{"e/f": map[string]any{"format": "date-time"}}},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []string{`{"a":"x"}`, `{}`, `[]`, `{"b":[1,-1,"x"],"c":1,"d":{"e/f":"no","g":1}}`, `null`, `{"a":"~/~"}`} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		for _, p := range s.Validate(v) {
			if p.Pointer != "" && !strings.HasPrefix(p.Pointer, "/") {
				t.Fatalf("problem %+v: not a JSON pointer", p)
			}
			if p.Message == "" {
				t.Fatalf("problem %+v without a message", p)
			}
		}
	})
}
