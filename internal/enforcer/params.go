package enforcer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/bwc-project/bwc/internal/jsonata"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
)

// ErrInvalidParameters is matched (errors.Is) by a *ParameterError.
var ErrInvalidParameters = errors.New("invalid action parameters")

// Problem is one problem with a value: where (a JSON pointer) and what.
type Problem struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Pointer == "" {
		return p.Message
	}
	return p.Pointer + ": " + p.Message
}

// ParameterError lists what is wrong with the parameters of an action call.
type ParameterError struct {
	Action string
	// In is the JSON pointer of the checked object in a request body
	// ("/parameters" when empty); problem pointers are relative to it.
	In       string
	Problems []Problem
}

func (e *ParameterError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return fmt.Sprintf("parameters of %s: %s", e.Action, strings.Join(parts, "; "))
}

// Is reports whether target is ErrInvalidParameters.
func (e *ParameterError) Is(target error) bool { return target == ErrInvalidParameters }

// Prepared are an action call's parameters, validated and defaulted.
type Prepared struct {
	// Parameters are every parameter with a value: given or default.
	Parameters map[string]any
	// Secret names the parameters marked secret.
	Secret []string
}

// Validator checks action parameters. It caches compiled parameter schemas
// and is safe for concurrent use. The zero value is ready.
type Validator struct {
	// Functions are the $kv(), $secret(), $config() and $now() that
	// JSONata templates in parameter defaults may call; set before the
	// first use.
	Functions rule.Functions

	cache sync.Map // *pack.Parameter -> *jsonschema.Schema (nil when it does not compile)
	exprs sync.Map // "pack\x00expr" -> *jsonata.Expr
}

// Parameters validates the parameters given to action a and fills in the
// defaults, as st2 does: a parameter the action does not declare, a
// required one missing, a value of the wrong type or outside its enum, and
// an immutable parameter given a value other than its default are each a
// [Problem] of the returned *ParameterError (which matches
// ErrInvalidParameters). given is not modified.
//
// Defaults may refer to other parameters: "{{ name }}" (st2's form) or a
// JSONata template "{% ... %}" over the parameters as variables ($name)
// with $config(), $kv() and $secret(); they are rendered once every
// parameter has its value, then validated.
func (v *Validator) Parameters(ctx context.Context, a *pack.Action, given map[string]any) (Prepared, error) {
	out := Prepared{Parameters: map[string]any{}}
	var problems []Problem
	var defaulted []string // defaults that refer to other parameters
	names := make([]string, 0, len(given))
	for name := range given {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if a.Param(name) == nil {
			problems = append(problems, Problem{Pointer: pointer(name), Message: fmt.Sprintf("unknown parameter; %s takes %s", a.Ref, paramList(a))})
		}
	}
	for _, p := range a.Effective {
		val, ok := given[p.Name]
		if ok && val == nil {
			ok = false // st2: null means "not given"
		}
		if p.Secret {
			out.Secret = append(out.Secret, p.Name)
		}
		if ok && p.Immutable && p.HasDefault && sameJSON(val, p.Default) {
			ok = false // given its default: as if not given
		}
		switch {
		case ok && p.Immutable && p.HasDefault:
			problems = append(problems, Problem{Pointer: pointer(p.Name), Message: fmt.Sprintf("immutable parameter: it is always %s and cannot be given", short(p.Default))})
			continue
		case ok && p.Immutable && !p.HasDefault:
			problems = append(problems, Problem{Pointer: pointer(p.Name), Message: "immutable parameter: it cannot be given"})
			continue
		case !ok && p.HasDefault:
			val = p.Default
			if hasParamRef(val) || hasJSONata(val) {
				// Rendered and checked once every parameter has a value.
				defaulted = append(defaulted, p.Name)
				out.Parameters[p.Name] = val
				continue
			}
		case !ok && p.Required:
			problems = append(problems, Problem{Pointer: pointer(p.Name), Message: "required parameter is missing"})
			continue
		case !ok:
			continue
		}
		norm, err := normalize(val)
		if err != nil {
			problems = append(problems, Problem{Pointer: pointer(p.Name), Message: fmt.Sprintf("value cannot be encoded as JSON: %v", err)})
			continue
		}
		for _, pr := range v.check(p, norm) {
			problems = append(problems, Problem{Pointer: pointer(p.Name) + pr.Pointer, Message: secretSafe(p, pr.Message)})
		}
		out.Parameters[p.Name] = plain(norm)
	}
	if len(problems) > 0 {
		// Defaults that refer to other parameters are rendered only when
		// those are right.
		defaulted = nil
	}
	rendered := make(map[string]any, len(defaulted))
	for _, name := range defaulted {
		val, err := renderParamRefs(out.Parameters[name], out.Parameters)
		if err == nil {
			val, err = v.renderJSONata(ctx, a.Pack, val, out.Parameters)
		}
		if errors.Is(err, errOmit) {
			continue
		}
		if err != nil {
			problems = append(problems, Problem{Pointer: pointer(name), Message: "rendering the default: " + err.Error()})
			continue
		}
		rendered[name] = val
	}
	for _, name := range defaulted {
		val, ok := rendered[name]
		if !ok {
			delete(out.Parameters, name)
			continue
		}
		norm, err := normalize(val)
		if err != nil {
			problems = append(problems, Problem{Pointer: pointer(name), Message: fmt.Sprintf("rendered default cannot be encoded as JSON: %v", err)})
			continue
		}
		for _, pr := range v.check(a.Param(name), norm) {
			problems = append(problems, Problem{Pointer: pointer(name) + pr.Pointer, Message: secretSafe(a.Param(name), pr.Message) + " (after rendering the default)"})
		}
		out.Parameters[name] = plain(norm)
	}
	if len(problems) > 0 {
		sort.SliceStable(problems, func(i, j int) bool { return problems[i].Pointer < problems[j].Pointer })
		// Schema messages quote the values they refuse; a secret's must not
		// reach the enforcement record, the API, logs or Step Functions.
		for i := range problems {
			problems[i].Message = RedactSecrets(problems[i].Message, a, given)
			problems[i].Message = RedactSecrets(problems[i].Message, a, out.Parameters)
		}
		return Prepared{}, &ParameterError{Action: a.Ref, Problems: problems}
	}
	return out, nil
}

// secretSafe is a schema check's message about p's value, unless p is
// secret: the schema library quotes and formats refused values its own way
// ("'...' does not match pattern", "got 4,242"), so a secret's problem
// says what is wrong without its message.
func secretSafe(p *pack.Parameter, msg string) string {
	if p != nil && p.Secret {
		return "the value does not satisfy the parameter's schema (not shown: the parameter is secret)"
	}
	return msg
}

// RedactSecrets masks, in msg, the values params gives a's secret
// parameters (as text), so that an error quoting a value keeps no secret.
func RedactSecrets(msg string, a *pack.Action, params map[string]any) string {
	for _, p := range a.Effective {
		if !p.Secret {
			continue
		}
		var s string
		switch v := params[p.Name].(type) {
		case string:
			s = v
		case nil:
			continue
		default:
			b, err := json.Marshal(v)
			if err != nil {
				continue
			}
			s = string(b)
		}
		if s != "" && s != store.Masked {
			msg = strings.ReplaceAll(msg, s, store.Masked)
		}
	}
	return msg
}

// paramRef is st2's reference to another parameter in a default value:
// {{ name }} or {{ name.field }}.
var paramRef = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\s*\}\}`)

func hasParamRef(v any) bool {
	switch x := v.(type) {
	case string:
		return paramRef.MatchString(x)
	case map[string]any:
		for _, e := range x {
			if hasParamRef(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasParamRef(e) {
				return true
			}
		}
	}
	return false
}

// renderParamRefs replaces the parameter references in a default value: a
// string that is one reference takes the value referred to (with its type);
// references inside text are replaced by the value as text.
func renderParamRefs(v any, params map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		if m := paramRef.FindStringSubmatchIndex(x); m != nil && m[0] == 0 && m[1] == len(x) {
			return lookupParam(x[m[2]:m[3]], params)
		}
		var err error
		out := paramRef.ReplaceAllStringFunc(x, func(tag string) string {
			name := paramRef.FindStringSubmatch(tag)[1]
			val, e := lookupParam(name, params)
			if e != nil {
				err = e
				return ""
			}
			if s, ok := val.(string); ok {
				return s
			}
			if val == nil {
				return ""
			}
			b, _ := json.Marshal(val)
			return string(b)
		})
		return out, err
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderParamRefs(e, params)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderParamRefs(e, params)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

var errOmit = errors.New("the template is undefined")

func hasJSONata(v any) bool {
	switch x := v.(type) {
	case string:
		_, ok := rule.TemplateExpr(x)
		return ok
	case map[string]any:
		for _, e := range x {
			if hasJSONata(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasJSONata(e) {
				return true
			}
		}
	}
	return false
}

// renderJSONata evaluates the "{% ... %}" templates in a default value with
// the parameters bound as variables. A template that is undefined leaves
// its member out (errOmit for the whole value).
func (v *Validator) renderJSONata(ctx context.Context, packRef string, val any, params map[string]any) (any, error) {
	switch x := val.(type) {
	case string:
		src, ok := rule.TemplateExpr(x)
		if !ok {
			return x, nil
		}
		expr, err := v.expr(packRef, src)
		if err != nil {
			return nil, err
		}
		res, err := expr.Eval(ctx, jsonata.NoInput, params)
		if errors.Is(err, jsonata.ErrUndefined) {
			return nil, errOmit
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", x, err)
		}
		return res, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := v.renderJSONata(ctx, packRef, e, params)
			if errors.Is(err, errOmit) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := v.renderJSONata(ctx, packRef, e, params)
			if errors.Is(err, errOmit) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
		return out, nil
	}
	return val, nil
}

func (v *Validator) expr(packRef, src string) (*jsonata.Expr, error) {
	key := packRef + "\x00" + src
	if e, ok := v.exprs.Load(key); ok {
		return e.(*jsonata.Expr), nil
	}
	e, err := jsonata.Compile(src, rule.FunctionOptions(packRef, v.Functions)...)
	if err != nil {
		return nil, fmt.Errorf("compiling %q: %w", src, err)
	}
	v.exprs.Store(key, e)
	return e, nil
}

func lookupParam(path string, params map[string]any) (any, error) {
	parts := strings.Split(path, ".")
	v, ok := params[parts[0]]
	if !ok {
		return nil, fmt.Errorf("{{ %s }}: no parameter %s has a value", path, parts[0])
	}
	for _, p := range parts[1:] {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("{{ %s }}: %s is not an object", path, p)
		}
		v = m[p]
	}
	return v, nil
}

func (v *Validator) check(p *pack.Parameter, val any) []Problem {
	var sch *jsonschema.Schema
	if c, ok := v.cache.Load(p); ok {
		sch, _ = c.(*jsonschema.Schema)
	} else {
		doc := map[string]any{}
		for k, x := range p.Schema {
			doc[k] = x
		}
		if p.Enum != nil {
			doc["enum"] = p.Enum
		}
		sch, _ = CompileSchema(doc)
		v.cache.Store(p, sch)
	}
	if sch == nil {
		return nil // the pack loader reported the schema
	}
	return Validate(sch, val)
}

const schemaURL = "urn:bwc:enforcer:schema"

// CompileSchema compiles a JSON Schema (draft 4, as st2 writes them, unless
// it names another draft) held in memory; it never loads other documents.
func CompileSchema(doc map[string]any) (*jsonschema.Schema, error) {
	norm, err := normalize(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding a schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(noLoader{})
	if err := c.AddResource(schemaURL, norm); err != nil {
		return nil, fmt.Errorf("adding a schema: %w", err)
	}
	sch, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("compiling a schema: %w", err)
	}
	return sch, nil
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s: schemas are self-contained; external references are not loaded", url)
}

// Validate checks a value (as decoded from JSON) against a schema and
// returns its problems located by JSON pointer, sorted; none when it is
// valid.
func Validate(sch *jsonschema.Schema, val any) []Problem {
	norm, err := normalize(val)
	if err != nil {
		return []Problem{{Message: fmt.Sprintf("value cannot be encoded as JSON: %v", err)}}
	}
	err = sch.Validate(norm)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Problem{{Message: err.Error()}}
	}
	printer := message.NewPrinter(language.English)
	var out []Problem
	seen := map[Problem]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			p := Problem{Pointer: tokensPointer(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)}
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Pointer < out[j].Pointer })
	return out
}

func tokensPointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString(pointer(t))
	}
	return b.String()
}

// pointer is the JSON pointer of one object member.
func pointer(name string) string {
	return "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

// normalize turns any JSON-shaped Go value into what the schema validator
// expects (numbers as json.Number), by a JSON round trip.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
}

// plain turns json.Number values back into float64 or int64, the forms the
// runners and the store expect.
func plain(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	}
	return v
}

func sameJSON(a, b any) bool {
	na, err1 := normalize(a)
	nb, err2 := normalize(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(na, nb)
}

func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 60 {
		return string(b[:57]) + "..."
	}
	return string(b)
}

func paramList(a *pack.Action) string {
	if len(a.Effective) == 0 {
		return "no parameters"
	}
	names := make([]string, len(a.Effective))
	for i, p := range a.Effective {
		names[i] = p.Name
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}
