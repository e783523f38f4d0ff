package rule

// fieldType is what a trigger type's payload schema says about one field.
type fieldType struct {
	// Scalar is "string", "number", "boolean" or "" when the schema does not
	// pin the field to exactly one scalar type.
	Scalar string
	// ArrayOf is the scalar type of the items when the field is an array of
	// one scalar type, else "".
	ArrayOf string
	// Required is true when the field and every object above it are
	// required, so a valid payload always carries it.
	Required bool
}

// known reports whether the field's type is pinned.
func (f fieldType) known() bool { return f.Scalar != "" || f.ArrayOf != "" }

// typeAt walks a JSON Schema (as decoded from YAML/JSON) along a path of
// object fields and reports what it pins. Any construct it does not
// understand (combinators, references, index segments, several types) makes
// the field unknown, which is always safe: unknown fields are decided by the
// residual.
func typeAt(schema map[string]any, segs []segment) fieldType {
	if schema == nil || len(segs) == 0 {
		return fieldType{}
	}
	cur := schema
	required := true
	for i, s := range segs {
		if s.IsIndex || singleType(cur) != "object" || hasCombinator(cur) {
			return fieldType{}
		}
		props, _ := cur["properties"].(map[string]any)
		next, ok := props[s.Name].(map[string]any)
		if !ok {
			return fieldType{}
		}
		if !inRequired(cur, s.Name) {
			required = false
		}
		if i == len(segs)-1 {
			if hasCombinator(next) {
				return fieldType{}
			}
			switch t := singleType(next); t {
			case "string", "boolean":
				return fieldType{Scalar: t, Required: required}
			case "number", "integer":
				return fieldType{Scalar: "number", Required: required}
			case "array":
				items, _ := next["items"].(map[string]any)
				if items == nil || hasCombinator(items) {
					return fieldType{}
				}
				switch it := singleType(items); it {
				case "string", "boolean":
					return fieldType{ArrayOf: it, Required: required}
				case "number", "integer":
					return fieldType{ArrayOf: "number", Required: required}
				}
			}
			return fieldType{}
		}
		cur = next
	}
	return fieldType{}
}

func singleType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		if len(t) == 1 {
			if str, ok := t[0].(string); ok {
				return str
			}
		}
	}
	return ""
}

func hasCombinator(s map[string]any) bool {
	for _, k := range []string{"anyOf", "oneOf", "allOf", "not", "$ref", "if", "enum", "const"} {
		if _, ok := s[k]; ok {
			// enum/const still pin the type, but keep the analysis simple
			// and conservative: only plain typed schemas count.
			if k == "enum" || k == "const" {
				continue
			}
			return true
		}
	}
	return false
}

func inRequired(s map[string]any, name string) bool {
	switch req := s["required"].(type) {
	case []any:
		for _, r := range req {
			if r == name {
				return true
			}
		}
	case []string:
		for _, r := range req {
			if r == name {
				return true
			}
		}
	case bool:
		return false
	}
	// st2 style: `required: true` on the property itself.
	if props, ok := s["properties"].(map[string]any); ok {
		if p, ok := props[name].(map[string]any); ok {
			if b, ok := p["required"].(bool); ok && b {
				return true
			}
		}
	}
	return false
}
