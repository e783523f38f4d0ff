// Package payload validates trigger payloads against their trigger type's
// payload_schema (JSON Schema), reporting every problem with the JSON
// pointer of the offending value, so that the webhook endpoints can answer
// 400 with a list the sender can act on (and record nothing).
//
// Schemas follow st2: without "$schema" they are read as draft 4 (st2's
// validator), and a property may say "required: true" in st2's style,
// which is moved to its parent's "required" list. A "$schema" keyword
// selects another draft (6, 7, 2019-09, 2020-12). Formats are asserted
// for drafts before 2019-09, as those drafts define.
//
// Concurrency: a *Schema is immutable after Compile; Validate may be
// called from any number of goroutines.
package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Problem is one way a payload fails its schema.
type Problem struct {
	// Pointer is the RFC 6901 JSON pointer of the offending value in the
	// payload ("" is the whole payload; a missing required property is
	// pointed at where it should be).
	Pointer string `json:"pointer"`
	// Message says what was expected.
	Message string `json:"message"`
	// Keyword is the schema keyword that failed ("type", "required", ...).
	Keyword string `json:"keyword,omitempty"`
}

func (p Problem) String() string {
	ptr := p.Pointer
	if ptr == "" {
		ptr = "(payload)"
	}
	return ptr + ": " + p.Message
}

// Error is a payload that failed validation.
type Error struct {
	Trigger  string // the trigger type reference, when known
	Problems []Problem
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("payload")
	if e.Trigger != "" {
		fmt.Fprintf(&b, " of trigger %s", e.Trigger)
	}
	fmt.Fprintf(&b, " does not match its payload_schema (%d problem", len(e.Problems))
	if len(e.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString(")")
	for _, p := range e.Problems {
		b.WriteString("; ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Schema is a compiled payload_schema.
type Schema struct {
	s *jsonschema.Schema // nil: accepts every payload
}

const schemaURL = "bwc:payload_schema.json"

// Compile compiles a payload_schema as decoded from YAML or JSON. A nil or
// empty schema accepts every payload.
func Compile(schema any) (*Schema, error) {
	if schema == nil {
		return &Schema{}, nil
	}
	norm, err := normalize(schema, "")
	if err != nil {
		return nil, fmt.Errorf("compiling payload_schema: %w", err)
	}
	if m, ok := norm.(map[string]any); ok && len(m) == 0 {
		return &Schema{}, nil
	}
	liftRequired(norm)
	raw, err := json.Marshal(norm)
	if err != nil {
		return nil, fmt.Errorf("compiling payload_schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("compiling payload_schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, fmt.Errorf("compiling payload_schema: %w", err)
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compiling payload_schema: %s", strings.ReplaceAll(err.Error(), schemaURL, "payload_schema"))
	}
	return &Schema{s: s}, nil
}

// Validate returns the payload's problems, sorted by pointer; none when it
// is valid. The payload is a decoded JSON value (maps, slices, strings,
// float64 or json.Number, bools, nil; Go integers are accepted too).
func (s *Schema) Validate(payload any) []Problem {
	if s == nil || s.s == nil {
		return nil
	}
	norm, err := normalize(payload, "")
	if err != nil {
		return []Problem{{Pointer: "", Message: err.Error()}}
	}
	err = s.s.Validate(norm)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Message: err.Error()}}
	}
	var out []Problem
	collect(ve, &out)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return dedupe(out)
}

// Check validates payload and returns an *Error listing the problems, or
// nil.
func (s *Schema) Check(trigger string, payload any) error {
	if ps := s.Validate(payload); len(ps) > 0 {
		return &Error{Trigger: trigger, Problems: ps}
	}
	return nil
}

var printer = message.NewPrinter(language.English)

func collect(e *jsonschema.ValidationError, out *[]Problem) {
	ptr := pointer(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Group, *kind.Schema, *kind.Reference, *kind.AllOf:
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				collect(c, out)
			}
			return
		}
	case *kind.Required:
		for _, m := range k.Missing {
			*out = append(*out, Problem{Pointer: ptr + "/" + escape(m), Message: "required property is missing", Keyword: "required"})
		}
		return
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			*out = append(*out, Problem{Pointer: ptr + "/" + escape(p), Message: "property is not allowed (additionalProperties is false)", Keyword: "additionalProperties"})
		}
		return
	case *kind.Type:
		*out = append(*out, Problem{Pointer: ptr, Message: fmt.Sprintf("expected %s, found %s", strings.Join(k.Want, " or "), k.Got), Keyword: "type"})
		return
	}
	kw := ""
	if path := e.ErrorKind.KeywordPath(); len(path) > 0 {
		kw = path[0]
	}
	*out = append(*out, Problem{Pointer: ptr, Message: e.ErrorKind.LocalizedString(printer), Keyword: kw})
}

func dedupe(ps []Problem) []Problem {
	out := ps[:0]
	seen := map[Problem]bool{}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}

func escape(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}

// normalize converts YAML-decoded values (map[any]any, []map..., ints) to
// JSON-shaped ones.
func normalize(v any, at string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, at+"/"+escape(k))
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("%s: object key %v is not a string", pointerOrRoot(at), k)
			}
			n, err := normalize(e, at+"/"+escape(ks))
			if err != nil {
				return nil, err
			}
			out[ks] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, fmt.Sprintf("%s/%d", at, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, fmt.Sprintf("%s/%d", at, i))
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, nil
	case nil, bool, string, json.Number, float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return v, nil
	}
	return nil, fmt.Errorf("%s: %T is not a JSON value", pointerOrRoot(at), v)
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

// liftRequired moves st2-style "required: true" of properties to their
// parent's "required" list, everywhere in the schema.
func liftRequired(v any) {
	switch x := v.(type) {
	case map[string]any:
		if props, ok := x["properties"].(map[string]any); ok {
			var names []string
			for name, ps := range props {
				p, ok := ps.(map[string]any)
				if !ok {
					continue
				}
				if b, ok := p["required"].(bool); ok {
					delete(p, "required")
					if b {
						names = append(names, name)
					}
				}
			}
			if len(names) > 0 {
				sort.Strings(names)
				req, _ := x["required"].([]any)
				for _, n := range names {
					if !containsAny(req, n) {
						req = append(req, n)
					}
				}
				x["required"] = req
			}
		}
		for _, e := range x {
			liftRequired(e)
		}
	case []any:
		for _, e := range x {
			liftRequired(e)
		}
	}
}

func containsAny(list []any, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
