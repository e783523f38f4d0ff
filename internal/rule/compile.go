package rule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/bwc-project/bwc/internal/srcpos"
)

// Pos is a position in a pack file.
type Pos = srcpos.Pos

// Rule is a rule as the compiler needs it; FromPack builds one from a loaded
// pack rule.
type Rule struct {
	Ref      string
	Pack     string
	Name     string
	Enabled  bool
	Pos      Pos
	Trigger  Trigger
	Criteria []Criterion
	Action   Action
}

// Trigger is the trigger a rule listens to.
type Trigger struct {
	Type       string         `json:"type"`
	Parameters map[string]any `json:"parameters,omitempty"`
}

// Criterion is one st2 criterion: `key: {type: op, pattern: p}`.
type Criterion struct {
	Key       string
	Op        string // any st2 name or alias
	Pattern   any
	Condition string // search only: any, all, any2any, all2any
	Pos       Pos
}

// Action is the action a rule runs, with its parameter templates.
type Action struct {
	Ref        string
	Parameters map[string]any
	Pos        Pos
}

// Where a criterion is decided.
const (
	OnBus             = "bus"          // the event pattern decides it exactly
	OnBusAndResidual  = "bus+residual" // the pattern pre-filters, the residual decides
	OnlyResidual      = "residual"     // only the residual checks it
	triggerParamsPath = "detail.trigger_parameters"
	payloadPath       = "detail.payload"
)

// Compiled is a compiled rule: what the event bus and the enforcer run.
type Compiled struct {
	Ref     string  `json:"ref"`
	Pack    string  `json:"pack"`
	Name    string  `json:"name"`
	Enabled bool    `json:"enabled"`
	Trigger Trigger `json:"trigger"`
	// Pattern is the EventBridge event pattern.
	Pattern json.RawMessage `json:"pattern"`
	// Residual is a JSONata condition over $trigger (the payload) and
	// $event (the envelope) that must be true, or "" when the pattern
	// decides everything.
	Residual string          `json:"residual,omitempty"`
	Criteria []CriterionPlan `json:"criteria"`
	Action   ActionPlan      `json:"action"`
	Pos      Pos             `json:"pos"`
}

// CriterionPlan says how one criterion was compiled.
type CriterionPlan struct {
	Key       string `json:"key"`
	Op        string `json:"op"`
	Pattern   any    `json:"pattern"`
	Condition string `json:"condition,omitempty"`
	Where     string `json:"where"`
	// BusPath and Bus are the pattern field and its matchers, when the
	// criterion is on the bus.
	BusPath  string          `json:"bus_path,omitempty"`
	Bus      json.RawMessage `json:"bus,omitempty"`
	Residual string          `json:"residual,omitempty"`
	Note     string          `json:"note,omitempty"`
	Pos      Pos             `json:"pos"`
}

// ActionPlan is the action with its parameters as templates: the same
// structure as written, where every string that is an expression has become
// a JSONata template "{% ... %}".
type ActionPlan struct {
	Ref        string         `json:"ref"`
	Parameters map[string]any `json:"parameters"`
}

// NeedsEnforcer reports whether the rule needs the enforcer beyond starting
// the action: a residual condition, or parameters that call $kv, $secret or
// $config.
func (c *Compiled) NeedsEnforcer() bool {
	if c.Residual != "" {
		return true
	}
	var uses bool
	walkTemplates(c.Action.Parameters, func(expr string) {
		for _, f := range []string{"$kv(", "$secret(", "$config("} {
			if strings.Contains(expr, f) {
				uses = true
			}
		}
	})
	return uses
}

// Error is a compile error at a place in a pack.
type Error struct {
	Pos   Pos
	Rule  string
	Field string
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if e.Rule != "" {
		b.WriteString("rule ")
		b.WriteString(e.Rule)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every compile error of a rule or a rule set.
type Errors = srcpos.Errors[*Error]

// Compile compiles one rule. payloadSchema is the JSON Schema of the trigger
// type's payload (nil when unknown); it only decides how much the pattern can
// say exactly, never whether the rule matches. All errors of the rule are
// returned together as Errors.
func Compile(r Rule, payloadSchema map[string]any) (*Compiled, error) {
	var errs Errors
	fail := func(pos Pos, field, format string, args ...any) {
		if pos.File == "" {
			pos = r.Pos
		}
		errs = append(errs, &Error{Pos: pos, Rule: r.Ref, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if r.Trigger.Type == "" {
		fail(r.Pos, "trigger.type", "missing: expected a trigger type reference such as core.webhook")
	}
	out := &Compiled{
		Ref: r.Ref, Pack: r.Pack, Name: r.Name, Enabled: r.Enabled,
		Trigger: Trigger{Type: r.Trigger.Type, Parameters: normalizeMap(r.Trigger.Parameters)},
		Pos:     r.Pos,
	}
	pb := newPatternBuilder()
	pb.add([]string{"detail-type"}, []any{r.Trigger.Type})
	pb.add([]string{"source"}, []any{SourceFor(r.Trigger.Type)})
	var residuals []string

	// Trigger parameters select the trigger (a webhook's url, a timer).
	for _, name := range sortedKeys(out.Trigger.Parameters) {
		if !SelectsEvents(r.Trigger.Type, name) {
			continue
		}
		v := out.Trigger.Parameters[name]
		if frag, ok := exactScalar(v); ok {
			pb.add(append(strings.Split(triggerParamsPath, "."), name), frag)
			continue
		}
		residuals = append(residuals, fmt.Sprintf("$lookup($event.detail.trigger_parameters, %s) = %s", lit(name), lit(v)))
	}

	for _, c := range r.Criteria {
		plan, err := compileCriterion(c, payloadSchema, pb)
		if err != nil {
			fail(c.Pos, "criteria."+c.Key, "%v", err)
			continue
		}
		if plan.Residual != "" {
			residuals = append(residuals, plan.Residual)
		}
		out.Criteria = append(out.Criteria, plan)
	}

	params, perrs := compileParameters(r.Action.Parameters, "action.parameters")
	for _, pe := range perrs {
		fail(r.Action.Pos, pe.field, "%s", pe.msg)
	}
	if r.Action.Ref == "" {
		fail(r.Action.Pos, "action.ref", "missing: expected an action reference such as core.local")
	}
	out.Action = ActionPlan{Ref: r.Action.Ref, Parameters: params}

	if len(errs) > 0 {
		return nil, errs
	}
	pat, err := pb.json()
	if err != nil {
		return nil, fmt.Errorf("compiling rule %s: %w", r.Ref, err)
	}
	out.Pattern = pat
	switch len(residuals) {
	case 0:
	case 1:
		out.Residual = residuals[0]
	default:
		parts := make([]string, len(residuals))
		for i, s := range residuals {
			parts[i] = "(" + s + ")"
		}
		out.Residual = strings.Join(parts, " and ")
	}
	return out, nil
}

// WebhookSignatureParameter is the core.webhook trigger parameter that
// declares how requests to the webhook are signed ({scheme, secret}).
const WebhookSignatureParameter = "signature"

// SelectsEvents reports whether a rule's trigger parameter selects its
// events, and so is part of its pattern. Most do (a webhook's url, a
// timer's schedule); a parameter that configures how the sensor receives
// events does not: core.webhook's signature says how requests to the url
// are authenticated, and the webhook sensor puts only {url} in an event's
// trigger_parameters. Such a parameter stays in Compiled.Trigger for the
// engine.
func SelectsEvents(triggerType, param string) bool {
	return triggerType != "core.webhook" || param != WebhookSignatureParameter
}

// compileCriterion decides where one criterion goes and adds its pattern
// fragment, if any, to pb.
func compileCriterion(c Criterion, schema map[string]any, pb *patternBuilder) (CriterionPlan, error) {
	op, ok := CanonicalOp(c.Op)
	if !ok {
		return CriterionPlan{}, fmt.Errorf("unknown operator %q: expected one of %s", c.Op, strings.Join(OperatorNames(), ", "))
	}
	p := normalize(c.Pattern)
	plan := CriterionPlan{Key: c.Key, Op: op, Pattern: p, Condition: c.Condition, Pos: c.Pos}
	segs, err := parseKey(c.Key, "trigger")
	if err != nil {
		return plan, err
	}
	if s, ok := p.(string); ok && (strings.Contains(s, "{{") || strings.Contains(s, "{%")) {
		return plan, fmt.Errorf("templated patterns are not supported: the pattern %q must be a literal value", s)
	}
	cond, err := condition(op, p, c.Condition, "$v")
	if err != nil {
		return plan, err
	}
	full := "($v := " + lookupExpr("$trigger", segs, true) + "; " + cond + ")"

	ft := fieldType{}
	if !hasIndex(segs) {
		ft = typeAt(schema, segs)
	}
	var frag []any
	exact := false
	if !hasIndex(segs) {
		frag, exact = busFragment(op, p, ft)
	}
	path := append(strings.Split(payloadPath, "."), names(segs)...)
	if frag != nil && !pb.add(path, frag) {
		// The pattern already constrains this field; a second constraint
		// on the same field cannot be ANDed in a pattern.
		if merged := pb.mergeNumeric(path, frag); merged {
			plan.Note = "merged with another numeric criterion on the same field"
		} else {
			frag, exact = nil, false
			plan.Note = "another criterion already constrains this field on the bus"
		}
	}
	switch {
	case frag != nil && exact:
		plan.Where = OnBus
	case frag != nil:
		plan.Where = OnBusAndResidual
		plan.Residual = full
	default:
		plan.Where = OnlyResidual
		plan.Residual = full
	}
	if frag != nil {
		plan.BusPath = strings.Join(path, ".")
		plan.Bus = json.RawMessage(lit(frag))
	}
	if plan.Note == "" {
		plan.Note = explainNote(op, ft, plan.Where)
	}
	return plan, nil
}

func names(segs []segment) []string {
	out := make([]string, len(segs))
	for i, s := range segs {
		out[i] = s.Name
	}
	return out
}

func explainNote(op string, ft fieldType, where string) string {
	switch where {
	case OnBus:
		return "exact on the bus: the payload schema pins the field's type"
	case OnBusAndResidual:
		if !ft.known() {
			return "the bus pre-filters; the payload schema does not pin the field's type, so the enforcer checks st2's exact semantics"
		}
		return "the bus pre-filters; the enforcer checks what no pattern operator expresses"
	}
	switch op {
	case OpRegex, OpIRegex, OpMatchRegex:
		return "regular expressions have no pattern operator"
	case OpTimediffLT, OpTimediffGT:
		return "time differences depend on the time of the check"
	case OpSearch:
		return "search looks inside list items"
	case OpNEquals, OpNInside:
		if !ft.Required {
			return "st2 matches a missing field here, which a pattern cannot"
		}
	case OpIContains, OpINContains:
		return "patterns have no case-insensitive substring operator"
	}
	return "no pattern operator says exactly this"
}

// exactScalar returns the pattern matchers that match exactly the scalar v.
func exactScalar(v any) ([]any, bool) {
	switch x := v.(type) {
	case string, bool:
		return []any{x}, true
	case float64:
		if numericOK(x) {
			return []any{map[string]any{"numeric": []any{"=", x}}}, true
		}
	}
	return nil, false
}

// numericOK reports whether EventBridge numeric matching represents x
// exactly (it supports values from -5e9 to 5e9 with 15 significant digits).
func numericOK(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0) && math.Abs(x) <= 5e9
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// busFragment returns the matchers for the field a criterion tests and
// whether they decide it exactly. A nil fragment means the bus cannot help.
// A non-exact fragment is sound: every event the criterion matches passes it.
func busFragment(op string, p any, ft fieldType) ([]any, bool) {
	ps, pIsStr := p.(string)
	pn, pIsNum := p.(float64)
	switch op {
	case OpEquals:
		switch {
		case pIsStr:
			return []any{ps}, ft.Scalar == "string"
		case pIsNum && numericOK(pn):
			return []any{map[string]any{"numeric": []any{"=", pn}}}, ft.Scalar == "number"
		case p == true || p == false:
			return []any{p}, ft.Scalar == "boolean"
		}
	case OpNEquals:
		if ft.Required && (ft.Scalar == "string" || ft.Scalar == "number") {
			if m, ok := exactScalar(p); ok && scalarTypeOf(p) == ft.Scalar {
				if pIsNum {
					return []any{map[string]any{"anything-but": []any{pn}}}, true
				}
				return []any{map[string]any{"anything-but": m}}, true
			}
		}
	case OpIEquals:
		if pIsStr && isASCII(ps) {
			return []any{map[string]any{"equals-ignore-case": ps}}, ft.Scalar == "string"
		}
	case OpContains:
		if pIsStr && ps == "" {
			if ft.Scalar == "string" {
				return []any{map[string]any{"exists": true}}, true
			}
			return nil, false
		}
		if ft.Scalar == "string" && pIsStr {
			return []any{map[string]any{"wildcard": "*" + escapeWildcard(ps) + "*"}}, true
		}
		if ft.ArrayOf != "" && scalarTypeOf(p) == ft.ArrayOf {
			m, ok := exactScalar(p)
			if ok {
				return m, true
			}
		}
	case OpNContains:
		if ft.Scalar == "string" && pIsStr && ps != "" {
			return []any{map[string]any{"anything-but": map[string]any{"wildcard": "*" + escapeWildcard(ps) + "*"}}}, true
		}
	case OpStartsWith, OpEndsWith:
		if !pIsStr {
			return nil, false
		}
		if ps == "" {
			if ft.Scalar == "string" {
				return []any{map[string]any{"exists": true}}, true
			}
			return nil, false
		}
		key := "prefix"
		if op == OpEndsWith {
			key = "suffix"
		}
		return []any{map[string]any{key: ps}}, ft.Scalar == "string"
	case OpIStartsWith, OpIEndsWith:
		if !pIsStr || ps == "" || !isASCII(ps) {
			return nil, false
		}
		key := "prefix"
		if op == OpIEndsWith {
			key = "suffix"
		}
		return []any{map[string]any{key: map[string]any{"equals-ignore-case": ps}}}, ft.Scalar == "string"
	case OpLessThan, OpGreaterThan:
		if pIsNum && numericOK(pn) {
			sym := "<"
			if op == OpGreaterThan {
				sym = ">"
			}
			return []any{map[string]any{"numeric": []any{sym, pn}}}, ft.Scalar == "number"
		}
	case OpWildcard:
		if !pIsStr {
			return nil, false
		}
		w, exactGlob := fnmatchToWildcard(ps)
		if w == "" {
			return nil, false
		}
		return []any{map[string]any{"wildcard": w}}, exactGlob && ft.Scalar == "string"
	case OpRegex, OpIRegex, OpMatchRegex, OpTimediffLT, OpTimediffGT:
		if ft.Scalar == "string" {
			return []any{map[string]any{"exists": true}}, false
		}
	case OpExists:
		if ft.Scalar != "" {
			return []any{map[string]any{"exists": true}}, true
		}
	case OpNExists:
		if ft.Scalar != "" {
			return []any{map[string]any{"exists": false}}, true
		}
	case OpInside:
		list, ok := p.([]any)
		if !ok {
			return nil, false
		}
		var frag []any
		for _, e := range list {
			if e == nil {
				return nil, false // a missing field is "inside" a list holding null
			}
			m, ok := exactScalar(e)
			if !ok {
				if _, isBool := e.(bool); !isBool {
					return nil, false
				}
			}
			if ft.Scalar != "" && scalarTypeOf(e) != ft.Scalar {
				continue
			}
			frag = append(frag, m...)
		}
		if len(frag) == 0 {
			return nil, false
		}
		return frag, ft.Scalar != ""
	case OpNInside:
		list, ok := p.([]any)
		if !ok || !ft.Required || ft.Scalar == "" {
			return nil, false
		}
		if ft.Scalar == "boolean" {
			return nil, false
		}
		var vals []any
		for _, e := range list {
			if scalarTypeOf(e) != ft.Scalar {
				continue
			}
			if n, ok := e.(float64); ok && !numericOK(n) {
				return nil, false
			}
			vals = append(vals, e)
		}
		if len(vals) == 0 {
			return []any{map[string]any{"exists": true}}, true
		}
		return []any{map[string]any{"anything-but": vals}}, true
	}
	return nil, false
}

func scalarTypeOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return ""
}

// escapeWildcard escapes a literal for an EventBridge wildcard pattern.
func escapeWildcard(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`)
	return r.Replace(s)
}

// fnmatchToWildcard turns an fnmatch pattern into an EventBridge wildcard.
// It is exact when the pattern uses only `*`; `?` and `[...]` widen to `*`
// (a sound pre-filter) and exact is false. An empty result means no useful
// wildcard (the pattern is only stars).
func fnmatchToWildcard(p string) (string, bool) {
	var b strings.Builder
	exact := true
	lastStar := false
	star := func() {
		if !lastStar {
			b.WriteByte('*')
		}
		lastStar = true
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			star()
		case '?':
			exact = false
			star()
		case '[':
			if end := classEnd(p, i); end > 0 {
				exact = false
				star()
				i = end
				continue
			}
			b.WriteByte('[')
			lastStar = false
		case '\\':
			b.WriteString(`\\`)
			lastStar = false
		default:
			b.WriteByte(c)
			lastStar = false
		}
	}
	w := b.String()
	if strings.Trim(w, "*") == "" {
		return "", false
	}
	return w, exact
}

// classEnd returns the index of the `]` closing the fnmatch class opened at
// p[i], or -1 when the `[` is literal.
func classEnd(p string, i int) int {
	j := i + 1
	if j < len(p) && p[j] == '!' {
		j++
	}
	if j < len(p) && p[j] == ']' {
		j++
	}
	for ; j < len(p); j++ {
		if p[j] == ']' {
			return j
		}
	}
	return -1
}

// patternBuilder assembles an event pattern from field paths and matchers.
type patternBuilder struct {
	fields map[string][]any
	paths  map[string][]string
}

func newPatternBuilder() *patternBuilder {
	return &patternBuilder{fields: map[string][]any{}, paths: map[string][]string{}}
}

// add sets the matchers of a field, reporting false when the field already
// has matchers.
func (pb *patternBuilder) add(path []string, matchers []any) bool {
	k := strings.Join(path, "\x00")
	if _, ok := pb.fields[k]; ok {
		return false
	}
	pb.fields[k] = matchers
	pb.paths[k] = append([]string(nil), path...)
	return true
}

// mergeNumeric ANDs two one-sided numeric ranges on the same field into one
// numeric matcher, which EventBridge supports (e.g. [">", 0, "<", 10]).
func (pb *patternBuilder) mergeNumeric(path []string, frag []any) bool {
	k := strings.Join(path, "\x00")
	a, ok1 := numericRange(pb.fields[k])
	b, ok2 := numericRange(frag)
	if !ok1 || !ok2 || len(a) != 2 || len(b) != 2 {
		return false
	}
	lower := func(op any) bool { return op == ">" || op == ">=" }
	if lower(a[0]) == lower(b[0]) || a[0] == "=" || b[0] == "=" {
		return false
	}
	pb.fields[k] = []any{map[string]any{"numeric": append(append([]any{}, a...), b...)}}
	return true
}

func numericRange(frag []any) ([]any, bool) {
	if len(frag) != 1 {
		return nil, false
	}
	m, ok := frag[0].(map[string]any)
	if !ok || len(m) != 1 {
		return nil, false
	}
	n, ok := m["numeric"].([]any)
	return n, ok
}

func (pb *patternBuilder) json() (json.RawMessage, error) {
	root := map[string]any{}
	keys := make([]string, 0, len(pb.fields))
	for k := range pb.fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := pb.paths[k]
		cur := root
		for _, seg := range path[:len(path)-1] {
			next, ok := cur[seg].(map[string]any)
			if !ok {
				if _, exists := cur[seg]; exists {
					return nil, fmt.Errorf("pattern field %s is both a value and an object", strings.Join(path, "."))
				}
				next = map[string]any{}
				cur[seg] = next
			}
			cur = next
		}
		last := path[len(path)-1]
		if _, exists := cur[last]; exists {
			return nil, fmt.Errorf("pattern field %s is both a value and an object", strings.Join(path, "."))
		}
		cur[last] = pb.fields[k]
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return json.RawMessage(bytes.TrimSpace(buf.Bytes())), nil
}

// normalize converts YAML/JSON decoded values to the plain JSON forms
// (float64 numbers, []any, map[string]any).
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		return normalizeMap(x)
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	}
	return v
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = normalize(v)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// lit renders a JSON value as a JSONata literal.
func lit(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "null"
	}
	return strings.TrimSpace(buf.String())
}
