package pack

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaURL names the one in-memory resource each compiler holds.
const schemaURL = "urn:bwc:pack:schema"

// problem is one JSON Schema error: where in the document (instance or
// schema) and what is wrong.
type problem struct {
	Tokens []string
	Msg    string
}

func (p problem) pointer() string {
	if len(p.Tokens) == 0 {
		return ""
	}
	esc := make([]string, len(p.Tokens))
	for i, t := range p.Tokens {
		esc[i] = strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
	}
	return "/" + strings.Join(esc, "/")
}

// noLoader refuses to load schemas: pack schemas are self-contained.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("loading %s: schemas are not loaded from outside the pack; write the schema inline", url)
}

// compileSchema compiles a JSON Schema (draft 4, st2's draft, unless the
// schema names another with $schema). On error it returns the problems,
// located in the schema document.
func compileSchema(doc any) (*jsonschema.Schema, []problem) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, []problem{{Msg: err.Error()}}
	}
	sch, err := c.Compile(schemaURL)
	if err == nil {
		return sch, nil
	}
	var sve *jsonschema.SchemaValidationError
	if errors.As(err, &sve) {
		var ve *jsonschema.ValidationError
		if errors.As(sve.Err, &ve) {
			return nil, leaves(ve)
		}
		return nil, []problem{{Msg: sve.Err.Error()}}
	}
	msg := strings.ReplaceAll(err.Error(), schemaURL, "the schema")
	return nil, []problem{{Msg: msg}}
}

// validateValue checks v against sch and returns the problems, located in v.
func validateValue(sch *jsonschema.Schema, v any) []problem {
	err := sch.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		return leaves(ve)
	}
	return []problem{{Msg: err.Error()}}
}

// leaves flattens a validation error into its leaf causes.
func leaves(ve *jsonschema.ValidationError) []problem {
	printer := message.NewPrinter(language.English)
	var out []problem
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			p := problem{Tokens: e.InstanceLocation, Msg: e.ErrorKind.LocalizedString(printer)}
			if key := p.pointer() + "\x00" + p.Msg; !seen[key] {
				seen[key] = true
				out = append(out, p)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	// Alternatives (anyOf, oneOf) fail at the same place in several ways:
	// one problem per place, the most specific message first.
	var merged []problem
	at := map[string]int{}
	for _, p := range out {
		key := p.pointer()
		if i, ok := at[key]; ok {
			if strings.HasPrefix(p.Msg, "value must be one of") {
				merged[i].Msg = p.Msg + "; or " + merged[i].Msg
			} else {
				merged[i].Msg += "; or " + p.Msg
			}
			continue
		}
		at[key] = len(merged)
		merged = append(merged, p)
	}
	sort.SliceStable(merged, func(i, j int) bool { return merged[i].pointer() < merged[j].pointer() })
	return merged
}

// hasTemplate reports whether a value holds a template ("{{ }}" or "{% %}")
// anywhere: such values are rendered at run time and not checked here.
func hasTemplate(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "{{") || strings.Contains(x, "{%")
	case []any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasTemplate(e) {
				return true
			}
		}
	}
	return false
}
