package payload

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func decode(t *testing.T, s string) any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestValidate(t *testing.T) {
	schema := decode(t, `{
		"type": "object",
		"properties": {
			"host": {"type": "string", "required": true},
			"severity": {"enum": ["low", "high"]},
			"count": {"type": "integer", "minimum": 0},
			"tags": {"type": "array", "items": {"type": "string"}},
			"a/b": {"type": "object", "properties": {"x~y": {"type": "boolean"}}, "required": ["x~y"]},
			"at": {"type": "string", "format": "date-time"}
		},
		"required": ["severity"],
		"additionalProperties": false
	}`)
	s, err := Compile(schema)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		payload string
		want    []Problem
	}{
		{"valid", `{"host": "web1", "severity": "low", "count": 3, "tags": ["a"], "a/b": {"x~y": true}, "at": "2026-11-29T22:30:00Z"}`, nil},
		{"missing required (st2 style and list)", `{}`, []Problem{
			{Pointer: "/host", Message: "required property is missing", Keyword: "required"},
			{Pointer: "/severity", Message: "required property is missing", Keyword: "required"},
		}},
		{"wrong types and values", `{"host": 5, "severity": "mid", "count": -1, "tags": ["a", 2]}`, []Problem{
			{Pointer: "/count", Message: "minimum: got -1, want 0", Keyword: "minimum"},
			{Pointer: "/host", Message: "expected string, found number", Keyword: "type"},
			{Pointer: "/severity", Message: "value must be one of 'low', 'high'", Keyword: "enum"},
			{Pointer: "/tags/1", Message: "expected string, found number", Keyword: "type"},
		}},
		{"pointer escaping", `{"host": "h", "severity": "low", "a/b": {}}`, []Problem{
			{Pointer: "/a~1b/x~0y", Message: "required property is missing", Keyword: "required"},
		}},
		{"additional property", `{"host": "h", "severity": "low", "extra": 1}`, []Problem{
			{Pointer: "/extra", Message: "property is not allowed (additionalProperties is false)", Keyword: "additionalProperties"},
		}},
		{"format is asserted (draft 4)", `{"host": "h", "severity": "low", "at": "2014-07-30 05:04:24.578325"}`, []Problem{
			{Pointer: "/at", Message: "'2014-07-30 05:04:24.578325' is not valid date-time: 11th character must be t or T", Keyword: "format"},
		}},
		{"not an object", `[1]`, []Problem{
			{Pointer: "", Message: "expected object, found array", Keyword: "type"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Validate(decode(t, tt.payload))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Validate(%s)\n got %+v\nwant %+v", tt.payload, got, tt.want)
			}
		})
	}
}

func TestCompileFromYAML(t *testing.T) {
	var schema any
	if err := yaml.Unmarshal([]byte(`
type: object
properties:
  executed_at:
    type: string
    format: date-time
  schedule:
    type: object
`), &schema); err != nil {
		t.Fatal(err)
	}
	s, err := Compile(schema)
	if err != nil {
		t.Fatal(err)
	}
	// The timer payload BWC emits is valid against st2's TIMER_PAYLOAD_SCHEMA.
	if ps := s.Validate(map[string]any{"executed_at": "2026-11-29T22:30:00Z", "schedule": map[string]any{"unit": "seconds", "delta": 30}}); ps != nil {
		t.Errorf("timer payload: %v", ps)
	}
	if ps := s.Validate(map[string]any{"schedule": nil}); len(ps) != 1 || ps[0].Pointer != "/schedule" {
		t.Errorf("schedule null: %v", ps)
	}
}

func TestCompileEmptyAndErrors(t *testing.T) {
	for _, schema := range []any{nil, map[string]any{}} {
		s, err := Compile(schema)
		if err != nil {
			t.Fatal(err)
		}
		if ps := s.Validate("anything"); ps != nil {
			t.Errorf("empty schema rejects: %v", ps)
		}
	}
	for _, c := range []struct {
		schema any
		want   string
	}{
		{map[string]any{"type": "strin"}, "compiling payload_schema"},
		{map[string]any{"minimum": "zero"}, "compiling payload_schema"},
		{map[any]any{1: "x"}, "object key 1 is not a string"},
		{map[string]any{"enum": []any{make(chan int)}}, "/enum/0: chan int is not a JSON value"},
	} {
		_, err := Compile(c.schema)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%v) error %v, want %q", c.schema, err, c.want)
		}
	}
}

func TestSchemaDraftSelection(t *testing.T) {
	// 2020-12: format is an annotation only, exclusiveMinimum is a number.
	s, err := Compile(map[string]any{
		"$schema":    "https://json-schema.org/draft/2020-12/schema",
		"properties": map[string]any{"n": map[string]any{"exclusiveMinimum": 0}, "d": map[string]any{"format": "date-time"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ps := s.Validate(map[string]any{"n": 1, "d": "not a date"}); ps != nil {
		t.Errorf("valid 2020-12 payload: %v", ps)
	}
	if ps := s.Validate(map[string]any{"n": 0}); len(ps) != 1 || ps[0].Keyword != "exclusiveMinimum" {
		t.Errorf("n=0: %v", ps)
	}
}

func TestCheck(t *testing.T) {
	s, err := Compile(map[string]any{"type": "object", "required": []any{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Check("mypack.alert", map[string]any{})
	var pe *Error
	if !errors.As(err, &pe) || len(pe.Problems) != 2 {
		t.Fatalf("Check: %v", err)
	}
	want := "payload of trigger mypack.alert does not match its payload_schema (2 problems); /a: required property is missing; /b: required property is missing"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	if err := s.Check("x.y", map[string]any{"a": 1, "b": 2}); err != nil {
		t.Errorf("Check(valid) = %v", err)
	}
	b, _ := json.Marshal(pe.Problems[0])
	if string(b) != `{"pointer":"/a","message":"required property is missing","keyword":"required"}` {
		t.Errorf("JSON form %s", b)
	}
}

func TestCombinators(t *testing.T) {
	s, err := Compile(map[string]any{
		"properties": map[string]any{
			"v": map[string]any{"anyOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}},
			"w": map[string]any{"allOf": []any{map[string]any{"minLength": 2}, map[string]any{"maxLength": 3}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ps := s.Validate(map[string]any{"v": true, "w": "abcdef"})
	if len(ps) != 2 || ps[0].Pointer != "/v" || ps[0].Keyword != "anyOf" || ps[1].Pointer != "/w" || ps[1].Keyword != "maxLength" {
		t.Errorf("got %+v", ps)
	}
}
