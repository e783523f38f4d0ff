package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwc-project/bwc/internal/jsonata"
)

// Query languages.
const (
	JSONPath = "JSONPath"
	JSONata  = "JSONata"
)

// ErrInvalidDefinition is wrapped by every error Parse returns for a
// definition that is not valid ASL; the *DefinitionError list says where.
var ErrInvalidDefinition = errors.New("invalid state machine definition")

// Problem is one validation finding: where (a path of state names and
// fields, e.g. "/States/Check/Next") and what.
type Problem struct {
	Path    string `json:"path"`
	State   string `json:"state,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.State != "" && p.Field == "" {
		return fmt.Sprintf("state %q: %s", p.State, p.Message)
	}
	if p.State != "" {
		return fmt.Sprintf("state %q, field %s: %s", p.State, p.Field, p.Message)
	}
	if p.Field != "" {
		return fmt.Sprintf("field %s: %s", p.Field, p.Message)
	}
	return p.Message
}

// DefinitionError lists every problem found in a definition. It wraps
// ErrInvalidDefinition.
type DefinitionError struct {
	Problems []Problem
}

func (e *DefinitionError) Error() string {
	var b strings.Builder
	b.WriteString("invalid state machine definition: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalidDefinition) true.
func (e *DefinitionError) Unwrap() error { return ErrInvalidDefinition }

// Machine is a parsed, validated state machine definition. It is immutable
// and safe for concurrent use.
type Machine struct {
	root   *graph
	graphs map[string]*graph        // by graph ID
	fp     string                   // fingerprint of the definition
	exprs  map[string]*jsonata.Expr // compiled JSONata, keyed by source
	ipaths map[string]*intrinsicCall
	paths  map[string]*jsonPath
	raw    map[string]any
	opts   parseConfig
}

// Definition returns the definition as decoded JSON (do not modify it).
func (m *Machine) Definition() map[string]any { return m.raw }

// StartAt returns the name of the first state.
func (m *Machine) StartAt() string { return m.root.StartAt }

// QueryLanguage returns the top-level query language.
func (m *Machine) QueryLanguage() string { return m.root.QueryLanguage }

// graph is a set of states with a start: the machine itself, a Parallel
// branch, or a Map's item processor.
type graph struct {
	ID             string // "" for the root, "State/0" for branch 0, "State/Map"
	StartAt        string
	QueryLanguage  string
	TimeoutSeconds int
	States         map[string]*State
	Names          []string // in definition order
}

// optPath is a JSONPath-mode path field that may be absent, a path, or null.
type optPath struct {
	Set  bool
	Null bool
	Path string
}

// State is one parsed state. Fields not used by its type are zero.
type State struct {
	Name          string
	Type          string
	entered       string // history event types, e.g. "PassStateEntered"
	exited        string
	setResult     *setResult      // how a Pass state that only sets a member of its input runs fast
	params        *objectTemplate // the compiled Parameters (JSONPath)
	nextSt        *State          // the state named Next
	enteredDesc   *eventDesc      // what the records of the state's events share
	exitedDesc    *eventDesc
	patchedDesc   *eventDesc            // for the PassStateExited records that are patches (lazy.go)
	passDesc      *eventDesc            // for the records of both events of the state that are patches (lazy.go)
	iterDescs     map[string]*eventDesc // by type, for a Map state's MapIteration* events
	QueryLanguage string
	Next          string
	End           bool

	InputPath, OutputPath, ResultPath optPath
	Parameters, ResultSelector        any
	HasParameters, HasResultSelector  bool
	Result                            any
	HasResult                         bool

	Arguments, Output       any
	HasArguments, HasOutput bool
	Assign                  map[string]any

	Resource                                 string
	TimeoutSeconds, HeartbeatSeconds         any
	TimeoutSecondsPath, HeartbeatSecondsPath string
	Credentials                              any
	Retry                                    []*Retrier
	Catch                                    []*Catcher

	Choices []*ChoiceRule
	Default string

	Seconds, Timestamp         any
	SecondsPath, TimestampPath string

	Error, Cause         any
	ErrorPath, CausePath string

	Branches []*graph

	Processor                             *graph
	ItemsPath                             optPath
	Items                                 any
	HasItems                              bool
	ItemSelector                          any
	HasItemSelector                       bool
	MaxConcurrency                        any
	MaxConcurrencyPath                    string
	ToleratedFailurePercentage            any
	ToleratedFailurePercentagePath        string
	ToleratedFailureCount                 any
	ToleratedFailureCountPath             string
	ItemBatcher, ItemReader, ResultWriter any
	Distributed                           bool
}

// Retrier is one entry of a Retry list.
type Retrier struct {
	ErrorEquals     []string
	IntervalSeconds float64
	MaxAttempts     int
	BackoffRate     float64
	MaxDelaySeconds float64
	JitterFull      bool
}

// Catcher is one entry of a Catch list.
type Catcher struct {
	ErrorEquals []string
	Next        string
	ResultPath  optPath
	Output      any
	HasOutput   bool
	Assign      map[string]any
}

// ChoiceRule is a Choice state's rule (top-level, with Next) or a nested
// JSONPath rule (And/Or/Not operands, without Next).
type ChoiceRule struct {
	Condition any // JSONata: "{% ... %}" or a boolean
	Variable  string
	Op        string // comparison operator name, e.g. "StringEquals"
	Operand   any
	And, Or   []*ChoiceRule
	Not       *ChoiceRule
	Next      string
	Assign    map[string]any
	Output    any
	HasOutput bool

	variable, operand pathRef // compiled Variable and ...Path operand (JSONPath)
}

// ParseOption configures Parse.
type ParseOption func(*parseConfig)

type parseConfig struct {
	now    func() time.Time
	random func() float64
	subs   map[string]string
}

// WithExpressionClock sets the clock JSONata's $now() and $millis() read
// (default time.Now). The Interpreter passes its Clock here.
func WithExpressionClock(now func() time.Time) ParseOption {
	return func(c *parseConfig) { c.now = now }
}

// WithExpressionRandom sets the source of $random() and $uuid() in JSONata
// expressions.
func WithExpressionRandom(r func() float64) ParseOption {
	return func(c *parseConfig) { c.random = r }
}

// WithSubstitutions replaces `${Name}` definition substitutions in string
// values before validation, as CloudFormation's DefinitionSubstitutions do.
// Without it, `${...}` strings are kept as they are.
func WithSubstitutions(subs map[string]string) ParseOption {
	return func(c *parseConfig) { c.subs = subs }
}

// Parse decodes and validates a state machine definition (JSON). Errors for
// a definition that is not valid ASL are a *DefinitionError (wrapping
// ErrInvalidDefinition) listing every problem found, each naming the state
// and field.
func Parse(data []byte, opts ...ParseOption) (*Machine, error) {
	var cfg parseConfig
	for _, o := range opts {
		o(&cfg)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, &DefinitionError{Problems: []Problem{{Path: "/", Message: "not valid JSON: " + err.Error()}}}
	}
	if dec.More() {
		return nil, &DefinitionError{Problems: []Problem{{Path: "/", Message: "not valid JSON: data after the top-level value"}}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Problems: []Problem{{Path: "/", Message: "the definition must be a JSON object, found " + jsonTypeName(raw)}}}
	}
	if cfg.subs != nil {
		obj = substitute(obj, cfg.subs).(map[string]any)
	}
	return ParseValue(obj, opts...)
}

// ParseValue is Parse for a definition already decoded from JSON: its
// values must be what encoding/json produces (map[string]any, []any,
// string, float64, bool, nil). A map built by hand with Go ints or structs
// is misread (a number field reported as having the wrong type): marshal
// and Parse it instead.
func ParseValue(def map[string]any, opts ...ParseOption) (*Machine, error) {
	var cfg parseConfig
	for _, o := range opts {
		o(&cfg)
	}
	p := &parser{m: &Machine{raw: def, exprs: map[string]*jsonata.Expr{}, ipaths: map[string]*intrinsicCall{}, paths: map[string]*jsonPath{}, opts: cfg}, names: map[string]string{}}
	p.m.root = p.graph(def, "", "", JSONPath, true)
	if len(p.problems) > 0 {
		return nil, &DefinitionError{Problems: p.problems}
	}
	p.m.graphs = map[string]*graph{}
	var index func(g *graph)
	index = func(g *graph) {
		p.m.graphs[g.ID] = g
		for _, s := range g.States {
			for _, b := range s.Branches {
				index(b)
			}
			if s.Processor != nil {
				index(s.Processor)
			}
		}
	}
	index(p.m.root)
	for _, g := range p.m.graphs {
		p.m.resolve(g)
	}
	p.m.resolveIntrinsics()
	p.m.fp = p.m.computeFingerprint()
	return p.m, nil
}

func substitute(v any, subs map[string]string) any {
	switch x := v.(type) {
	case string:
		if !strings.Contains(x, "${") {
			return x
		}
		for k, s := range subs {
			x = strings.ReplaceAll(x, "${"+k+"}", s)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substitute(e, subs)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, subs)
		}
		return out
	}
	return v
}

type parser struct {
	names    map[string]string // state name → where it is defined (names are unique machine-wide)
	m        *Machine
	problems []Problem
	curState string
	curPath  string
}

func (p *parser) fail(field, format string, args ...any) {
	path := p.curPath
	if field != "" {
		path += "/" + field
	}
	p.problems = append(p.problems, Problem{Path: path, State: p.curState, Field: field, Message: fmt.Sprintf(format, args...)})
}

var stateFields = map[string][]string{
	"common":   {"Type", "Comment", "QueryLanguage"},
	"Pass":     {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "Result", "Assign", "Output"},
	"Task":     {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Resource", "TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath", "Retry", "Catch", "Credentials", "Assign", "Output", "Arguments"},
	"Choice":   {"InputPath", "OutputPath", "Choices", "Default", "Assign", "Output"},
	"Wait":     {"Next", "End", "InputPath", "OutputPath", "Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign", "Output"},
	"Succeed":  {"InputPath", "OutputPath", "Output"},
	"Fail":     {"Error", "ErrorPath", "Cause", "CausePath"},
	"Parallel": {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "Branches", "Retry", "Catch", "Assign", "Output", "Arguments"},
	"Map":      {"Next", "End", "InputPath", "OutputPath", "Parameters", "ResultPath", "ResultSelector", "ItemsPath", "Items", "ItemSelector", "Iterator", "ItemProcessor", "MaxConcurrency", "MaxConcurrencyPath", "Retry", "Catch", "ItemReader", "ItemBatcher", "ResultWriter", "ToleratedFailurePercentage", "ToleratedFailurePercentagePath", "ToleratedFailureCount", "ToleratedFailureCountPath", "Label", "Assign", "Output", "Arguments"},
}

// Fields only one query language allows.
var jsonPathOnly = map[string]bool{"InputPath": true, "OutputPath": true, "Parameters": true, "ResultPath": true, "ResultSelector": true,
	"TimeoutSecondsPath": true, "HeartbeatSecondsPath": true, "SecondsPath": true, "TimestampPath": true, "ErrorPath": true, "CausePath": true,
	"ItemsPath": true, "MaxConcurrencyPath": true, "ToleratedFailurePercentagePath": true, "ToleratedFailureCountPath": true, "Iterator": true}
var jsonataOnly = map[string]bool{"Output": true, "Arguments": true, "Items": true}

func (p *parser) graph(obj map[string]any, id, where, parentQL string, top bool) *graph {
	g := &graph{ID: id, States: map[string]*State{}}
	p.curState = ""
	p.curPath = where
	allowed := map[string]bool{"StartAt": true, "States": true, "Comment": true}
	if top {
		allowed["Version"] = true
		allowed["TimeoutSeconds"] = true
		allowed["QueryLanguage"] = true
	} else {
		allowed["ProcessorConfig"] = true
	}
	for _, k := range sortedKeys(obj) {
		if !allowed[k] {
			p.fail(k, "field %s is not allowed here", k)
		}
	}
	g.QueryLanguage = parentQL
	if ql, ok := obj["QueryLanguage"]; ok {
		s, _ := ql.(string)
		if s != JSONPath && s != JSONata {
			p.fail("QueryLanguage", "must be \"JSONPath\" or \"JSONata\", found %s", short(ql))
		} else {
			g.QueryLanguage = s
		}
	}
	if v, ok := obj["Version"]; ok {
		if s, _ := v.(string); s != "1.0" {
			p.fail("Version", "must be \"1.0\", found %s", short(v))
		}
	}
	if v, ok := obj["TimeoutSeconds"]; ok {
		n, ok := asInt(v)
		if !ok || n < 0 {
			p.fail("TimeoutSeconds", "must be a non-negative integer, found %s", short(v))
		}
		g.TimeoutSeconds = n
	}
	start, ok := obj["StartAt"].(string)
	if !ok || start == "" {
		p.fail("StartAt", "required: a string naming the first state")
	}
	g.StartAt = start
	states, ok := obj["States"].(map[string]any)
	if !ok {
		p.fail("States", "required: an object of states")
		return g
	}
	if len(states) == 0 {
		p.fail("States", "must contain at least one state")
	}
	g.Names = sortedKeys(states)
	for _, name := range g.Names {
		if len(name) > 80 {
			p.curState, p.curPath = name, where+"/States/"+name
			p.fail("", "state name is longer than 80 characters")
		}
		if prev, dup := p.names[name]; dup {
			p.curState, p.curPath = name, where+"/States/"+name
			p.fail("", "state name %q is already used at %s: state names must be unique in the whole state machine", name, prev)
		}
		p.names[name] = where + "/States/" + name
		so, ok := states[name].(map[string]any)
		if !ok {
			p.curState, p.curPath = name, where+"/States/"+name
			p.fail("", "a state must be a JSON object, found %s", jsonTypeName(states[name]))
			continue
		}
		g.States[name] = p.state(name, so, where+"/States/"+name, g.QueryLanguage)
	}
	p.curState, p.curPath = "", where
	if _, ok := states[start]; !ok && start != "" {
		p.fail("StartAt", "state %q does not exist", start)
	}
	p.checkGraph(g, where)
	return g
}

// checkGraph checks transitions: targets exist, every state is reachable,
// and every path can end.
func (p *parser) checkGraph(g *graph, where string) {
	targets := func(s *State) []string {
		var t []string
		if s.Next != "" {
			t = append(t, s.Next)
		}
		for _, c := range s.Choices {
			if c.Next != "" {
				t = append(t, c.Next)
			}
		}
		if s.Default != "" {
			t = append(t, s.Default)
		}
		for _, c := range s.Catch {
			if c.Next != "" {
				t = append(t, c.Next)
			}
		}
		return t
	}
	for _, name := range g.Names {
		s := g.States[name]
		if s == nil {
			continue
		}
		p.curState, p.curPath = name, where+"/States/"+name
		if s.Next != "" {
			if _, ok := g.States[s.Next]; !ok {
				p.fail("Next", "state %q does not exist", s.Next)
			}
		}
		for i, c := range s.Choices {
			if c.Next != "" {
				if _, ok := g.States[c.Next]; !ok {
					p.fail(fmt.Sprintf("Choices/%d/Next", i), "state %q does not exist", c.Next)
				}
			}
		}
		if s.Default != "" {
			if _, ok := g.States[s.Default]; !ok {
				p.fail("Default", "state %q does not exist", s.Default)
			}
		}
		for i, c := range s.Catch {
			if _, ok := g.States[c.Next]; !ok && c.Next != "" {
				p.fail(fmt.Sprintf("Catch/%d/Next", i), "state %q does not exist", c.Next)
			}
		}
	}
	p.curState, p.curPath = "", where
	if _, ok := g.States[g.StartAt]; !ok {
		return
	}
	seen := map[string]bool{g.StartAt: true}
	queue := []string{g.StartAt}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if s := g.States[n]; s != nil {
			for _, t := range targets(s) {
				if _, ok := g.States[t]; ok && !seen[t] {
					seen[t] = true
					queue = append(queue, t)
				}
			}
		}
	}
	for _, name := range g.Names {
		if !seen[name] {
			p.curState, p.curPath = name, where+"/States/"+name
			p.fail("", "state %q is not reachable from StartAt %q", name, g.StartAt)
		}
	}
	p.curState, p.curPath = "", where
}

func (p *parser) state(name string, obj map[string]any, where, parentQL string) *State {
	p.curState, p.curPath = name, where
	s := &State{Name: name, QueryLanguage: parentQL}
	typ, _ := obj["Type"].(string)
	s.Type, s.entered, s.exited = typ, typ+"StateEntered", typ+"StateExited"
	fields, known := stateFields[typ]
	if !known {
		if _, ok := obj["Type"]; !ok {
			p.fail("Type", "required: one of Pass, Task, Choice, Wait, Succeed, Fail, Parallel, Map")
		} else {
			p.fail("Type", "unknown state type %s (expected Pass, Task, Choice, Wait, Succeed, Fail, Parallel or Map)", short(obj["Type"]))
		}
		return s
	}
	if v, ok := obj["QueryLanguage"]; ok {
		ql, _ := v.(string)
		switch {
		case ql != JSONPath && ql != JSONata:
			p.fail("QueryLanguage", "must be \"JSONPath\" or \"JSONata\", found %s", short(v))
		case ql == JSONPath && parentQL == JSONata:
			p.fail("QueryLanguage", "a state cannot use JSONPath when the state machine's QueryLanguage is JSONata")
		default:
			s.QueryLanguage = ql
		}
	}
	allowed := map[string]bool{}
	for _, f := range stateFields["common"] {
		allowed[f] = true
	}
	for _, f := range fields {
		allowed[f] = true
	}
	for _, k := range sortedKeys(obj) {
		switch {
		case !allowed[k]:
			p.fail(k, "field %s is not allowed in a %s state", k, typ)
		case s.QueryLanguage == JSONata && jsonPathOnly[k]:
			p.fail(k, "field %s is not supported by the JSONata query language (use %s)", k, jsonataAlternative(k))
		case s.QueryLanguage == JSONPath && jsonataOnly[k]:
			p.fail(k, "field %s is only supported by the JSONata query language", k)
		}
	}
	jsonata := s.QueryLanguage == JSONata

	// transitions
	switch typ {
	case "Choice", "Succeed", "Fail":
	default:
		next, hasNext := obj["Next"]
		end, hasEnd := obj["End"]
		if hasNext {
			if ns, ok := next.(string); !ok || ns == "" {
				p.fail("Next", "must be a state name")
			} else {
				s.Next = ns
			}
		}
		if hasEnd {
			if b, ok := end.(bool); !ok {
				p.fail("End", "must be a boolean")
			} else {
				s.End = b
			}
		}
		switch {
		case s.Next != "" && s.End:
			p.fail("End", "a state cannot have both Next and End: true")
		case s.Next == "" && !s.End && !hasNext:
			p.fail("Next", "required: a %s state needs Next or End: true", typ)
		}
	}

	s.InputPath = p.pathField(obj, "InputPath", true)
	s.OutputPath = p.pathField(obj, "OutputPath", true)
	s.ResultPath = p.pathField(obj, "ResultPath", true)
	if v, ok := obj["ResultPath"]; ok && v != nil {
		if str, _ := v.(string); str != "" && !isReferencePath(str) {
			p.fail("ResultPath", "must be a reference path (no wildcards, filters or slices), found %q", str)
		}
	}
	if v, ok := obj["Parameters"]; ok {
		s.Parameters, s.HasParameters = v, true
		p.payloadTemplate("Parameters", v)
	}
	if v, ok := obj["ResultSelector"]; ok {
		s.ResultSelector, s.HasResultSelector = v, true
		p.payloadTemplate("ResultSelector", v)
	}
	if v, ok := obj["Result"]; ok {
		s.Result, s.HasResult = v, true
	}
	if v, ok := obj["Arguments"]; ok {
		s.Arguments, s.HasArguments = v, true
		if typ == "Task" || typ == "Parallel" || typ == "Map" {
			p.jsonataTemplate("Arguments", v)
		}
	}
	if v, ok := obj["Output"]; ok {
		s.Output, s.HasOutput = v, true
		p.jsonataTemplate("Output", v)
	}
	if v, ok := obj["Assign"]; ok {
		s.Assign = p.assign("Assign", v, jsonata)
	}

	switch typ {
	case "Task":
		p.task(s, obj, jsonata)
	case "Choice":
		p.choice(s, obj, jsonata)
	case "Wait":
		p.wait(s, obj, jsonata)
	case "Fail":
		p.failState(s, obj, jsonata)
	case "Parallel":
		p.parallel(s, obj, where)
	case "Map":
		p.mapState(s, obj, where, jsonata)
	}
	if typ == "Task" || typ == "Parallel" || typ == "Map" {
		s.Retry = p.retry(obj)
		s.Catch = p.catch(obj, jsonata)
	}
	s.setResult = passSetResult(s, p.m.paths)
	s.describeEvents()
	p.curState, p.curPath = name, where
	return s
}

func jsonataAlternative(f string) string {
	switch f {
	case "InputPath", "Parameters":
		return "Arguments"
	case "OutputPath", "ResultPath", "ResultSelector":
		return "Output"
	case "ItemsPath":
		return "Items"
	case "Iterator":
		return "ItemProcessor"
	case "TimeoutSecondsPath", "HeartbeatSecondsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
		"MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath":
		return strings.TrimSuffix(f, "Path") + " with a JSONata expression"
	}
	return "the JSONata fields"
}

func (p *parser) pathField(obj map[string]any, field string, nullable bool) optPath {
	v, ok := obj[field]
	if !ok {
		return optPath{}
	}
	if v == nil {
		if !nullable {
			p.fail(field, "must be a path, found null")
		}
		return optPath{Set: true, Null: true}
	}
	s, ok := v.(string)
	if !ok {
		p.fail(field, "must be a JSONPath string, found %s", jsonTypeName(v))
		return optPath{}
	}
	p.compilePath(field, s)
	return optPath{Set: true, Path: s}
}

func (p *parser) compilePath(field, s string) {
	if _, ok := p.m.paths[s]; ok {
		return
	}
	jp, err := parseJSONPath(s)
	if err != nil {
		p.fail(field, "invalid JSONPath %q: %v", s, err)
		return
	}
	p.m.paths[s] = jp
}

// payloadTemplate checks a JSONPath-mode payload template: keys ending in
// ".$" must have a path or intrinsic function as value.
func (p *parser) payloadTemplate(field string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			e := x[k]
			if strings.HasSuffix(k, ".$") {
				str, ok := e.(string)
				if !ok {
					p.fail(field+"/"+k, "a field ending in .$ must have a path or intrinsic function as value, found %s", jsonTypeName(e))
					continue
				}
				p.pathOrIntrinsic(field+"/"+k, str)
				continue
			}
			p.payloadTemplate(field+"/"+k, e)
		}
	case []any:
		for i, e := range x {
			p.payloadTemplate(fmt.Sprintf("%s/%d", field, i), e)
		}
	}
}

func (p *parser) pathOrIntrinsic(field, str string) {
	if strings.HasPrefix(str, "States.") {
		if _, ok := p.m.ipaths[str]; ok {
			return
		}
		call, err := parseIntrinsic(str)
		if err != nil {
			p.fail(field, "invalid intrinsic function %q: %v", str, err)
			return
		}
		p.m.ipaths[str] = call
		var walk func(c *intrinsicCall)
		walk = func(c *intrinsicCall) {
			for _, a := range c.Args {
				if a.Path != "" {
					p.compilePath(field, a.Path)
				}
				if a.Call != nil {
					walk(a.Call)
				}
			}
		}
		walk(call)
		return
	}
	p.compilePath(field, str)
}

// jsonataTemplate compiles every "{% %}" string in a JSONata-mode value.
func (p *parser) jsonataTemplate(field string, v any) {
	switch x := v.(type) {
	case string:
		if src, ok := jsonataSource(x); ok {
			p.compileJSONata(field, src)
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			p.jsonataTemplate(field+"/"+k, x[k])
		}
	case []any:
		for i, e := range x {
			p.jsonataTemplate(fmt.Sprintf("%s/%d", field, i), e)
		}
	}
}

func (p *parser) compileJSONata(field, src string) {
	if _, ok := p.m.exprs[src]; ok {
		return
	}
	var opts []jsonata.Option
	if p.m.opts.now != nil {
		opts = append(opts, jsonata.WithClock(p.m.opts.now))
	}
	if p.m.opts.random != nil {
		opts = append(opts, jsonata.WithRandom(p.m.opts.random))
	}
	e, err := jsonata.Compile(src, opts...)
	if err != nil {
		p.fail(field, "invalid JSONata expression %q: %v", src, err)
		return
	}
	p.m.exprs[src] = e
}

// jsonataSource returns the expression of a "{% expr %}" string.
func jsonataSource(s string) (string, bool) {
	if len(s) >= 4 && strings.HasPrefix(s, "{%") && strings.HasSuffix(s, "%}") {
		return strings.TrimSpace(s[2 : len(s)-2]), true
	}
	return "", false
}

func (p *parser) assign(field string, v any, jsonataMode bool) map[string]any {
	m, ok := v.(map[string]any)
	if !ok {
		p.fail(field, "must be an object of variable names to values, found %s", jsonTypeName(v))
		return nil
	}
	for _, k := range sortedKeys(m) {
		name := strings.TrimSuffix(k, ".$")
		if !validVarName(name) {
			p.fail(field+"/"+k, "invalid variable name %q", name)
		}
		if jsonataMode {
			p.jsonataTemplate(field+"/"+k, m[k])
		} else if strings.HasSuffix(k, ".$") {
			str, ok := m[k].(string)
			if !ok {
				p.fail(field+"/"+k, "a field ending in .$ must have a path or intrinsic function as value")
				continue
			}
			p.pathOrIntrinsic(field+"/"+k, str)
		} else {
			p.payloadTemplate(field+"/"+k, m[k])
		}
	}
	return m
}

func validVarName(n string) bool {
	if n == "" || n == "states" || len(n) > 80 {
		return false
	}
	for i, r := range n {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127 || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return false
	}
	return true
}

func (p *parser) numberOrExpr(obj map[string]any, field string, jsonataMode bool, min float64) any {
	v, ok := obj[field]
	if !ok {
		return nil
	}
	if s, isStr := v.(string); isStr {
		if src, ok := jsonataSource(s); ok && jsonataMode {
			p.compileJSONata(field, src)
			return v
		}
		p.fail(field, "must be a number%s, found %q", map[bool]string{true: " or a JSONata expression", false: ""}[jsonataMode], s)
		return nil
	}
	n, ok := v.(float64)
	if !ok {
		p.fail(field, "must be a number, found %s", jsonTypeName(v))
		return nil
	}
	if n < min || n != float64(int64(n)) {
		p.fail(field, "must be an integer >= %v, found %v", min, n)
	}
	return v
}

func (p *parser) task(s *State, obj map[string]any, jsonataMode bool) {
	r, ok := obj["Resource"].(string)
	if !ok || r == "" {
		p.fail("Resource", "required: a URI (an ARN) naming the task to run")
	} else if !strings.HasPrefix(r, "arn:") && !strings.HasPrefix(r, "${") {
		p.fail("Resource", "must be an ARN, found %q", r)
	}
	s.Resource = r
	s.TimeoutSeconds = p.numberOrExpr(obj, "TimeoutSeconds", jsonataMode, 1)
	s.HeartbeatSeconds = p.numberOrExpr(obj, "HeartbeatSeconds", jsonataMode, 1)
	if v, ok := obj["TimeoutSecondsPath"].(string); ok {
		s.TimeoutSecondsPath = v
		p.compilePath("TimeoutSecondsPath", v)
	}
	if v, ok := obj["HeartbeatSecondsPath"].(string); ok {
		s.HeartbeatSecondsPath = v
		p.compilePath("HeartbeatSecondsPath", v)
	}
	if s.TimeoutSeconds != nil && s.TimeoutSecondsPath != "" {
		p.fail("TimeoutSecondsPath", "cannot be used together with TimeoutSeconds")
	}
	if s.HeartbeatSeconds != nil && s.HeartbeatSecondsPath != "" {
		p.fail("HeartbeatSecondsPath", "cannot be used together with HeartbeatSeconds")
	}
	if t, ok := s.TimeoutSeconds.(float64); ok {
		if h, ok := s.HeartbeatSeconds.(float64); ok && h >= t {
			p.fail("HeartbeatSeconds", "must be smaller than TimeoutSeconds (%v), found %v", t, h)
		}
	}
	if v, ok := obj["Credentials"]; ok {
		s.Credentials = v
	}
}

func (p *parser) wait(s *State, obj map[string]any, jsonataMode bool) {
	n := 0
	for _, f := range []string{"Seconds", "SecondsPath", "Timestamp", "TimestampPath"} {
		if _, ok := obj[f]; ok {
			n++
		}
	}
	if n != 1 {
		p.fail("Seconds", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath; found %d", n)
	}
	s.Seconds = p.numberOrExpr(obj, "Seconds", jsonataMode, 0)
	if v, ok := obj["Timestamp"]; ok {
		str, isStr := v.(string)
		switch {
		case !isStr:
			p.fail("Timestamp", "must be an RFC 3339 timestamp string, found %s", jsonTypeName(v))
		default:
			if src, ok := jsonataSource(str); ok && jsonataMode {
				p.compileJSONata("Timestamp", src)
			} else if _, err := parseTimestamp(str); err != nil {
				p.fail("Timestamp", "must be an RFC 3339 timestamp, found %q", str)
			}
			s.Timestamp = str
		}
	}
	if v, ok := obj["SecondsPath"].(string); ok {
		s.SecondsPath = v
		p.pathOrIntrinsicOrVar("SecondsPath", v)
	}
	if v, ok := obj["TimestampPath"].(string); ok {
		s.TimestampPath = v
		p.pathOrIntrinsicOrVar("TimestampPath", v)
	}
}

func (p *parser) pathOrIntrinsicOrVar(field, v string) {
	p.pathOrIntrinsic(field, v)
}

func (p *parser) failState(s *State, obj map[string]any, jsonataMode bool) {
	if v, ok := obj["Error"]; ok {
		if str, ok := v.(string); !ok {
			p.fail("Error", "must be a string, found %s", jsonTypeName(v))
		} else if src, ok := jsonataSource(str); ok && jsonataMode {
			p.compileJSONata("Error", src)
		}
		s.Error = v
	}
	if v, ok := obj["Cause"]; ok {
		if str, ok := v.(string); !ok {
			p.fail("Cause", "must be a string, found %s", jsonTypeName(v))
		} else if src, ok := jsonataSource(str); ok && jsonataMode {
			p.compileJSONata("Cause", src)
		}
		s.Cause = v
	}
	if v, ok := obj["ErrorPath"].(string); ok {
		s.ErrorPath = v
		p.pathOrIntrinsic("ErrorPath", v)
	}
	if v, ok := obj["CausePath"].(string); ok {
		s.CausePath = v
		p.pathOrIntrinsic("CausePath", v)
	}
	if s.Error != nil && s.ErrorPath != "" {
		p.fail("ErrorPath", "cannot be used together with Error")
	}
	if s.Cause != nil && s.CausePath != "" {
		p.fail("CausePath", "cannot be used together with Cause")
	}
}

func (p *parser) parallel(s *State, obj map[string]any, where string) {
	br, ok := obj["Branches"].([]any)
	if !ok || len(br) == 0 {
		p.fail("Branches", "required: a non-empty array of state machines")
		return
	}
	name := s.Name
	for i, b := range br {
		bo, ok := b.(map[string]any)
		if !ok {
			p.fail(fmt.Sprintf("Branches/%d", i), "must be an object with StartAt and States")
			continue
		}
		g := p.graph(bo, fmt.Sprintf("%s/%d", name, i), fmt.Sprintf("%s/Branches/%d", where, i), s.QueryLanguage, false)
		s.Branches = append(s.Branches, g)
		p.curState, p.curPath = name, where
	}
}

func (p *parser) mapState(s *State, obj map[string]any, where string, jsonataMode bool) {
	name := s.Name
	proc, hasProc := obj["ItemProcessor"]
	it, hasIt := obj["Iterator"]
	field := "ItemProcessor"
	switch {
	case hasProc && hasIt:
		p.fail("Iterator", "cannot be used together with ItemProcessor")
	case hasIt:
		proc, field = it, "Iterator"
	case !hasProc:
		p.fail("ItemProcessor", "required: the state machine to run for each item")
	}
	if po, ok := proc.(map[string]any); ok {
		if cfg, ok := po["ProcessorConfig"].(map[string]any); ok {
			if mode, _ := cfg["Mode"].(string); mode == "DISTRIBUTED" {
				s.Distributed = true
			}
		}
		s.Processor = p.graph(po, name+"/Map", where+"/"+field, s.QueryLanguage, false)
		p.curState, p.curPath = name, where
	} else if proc != nil {
		p.fail(field, "must be an object with StartAt and States")
	}
	s.ItemsPath = p.pathField(obj, "ItemsPath", false)
	if v, ok := obj["Items"]; ok {
		s.Items, s.HasItems = v, true
		p.jsonataTemplate("Items", v)
		if _, isArr := v.([]any); !isArr {
			if str, _ := v.(string); !strings.HasPrefix(str, "{%") {
				p.fail("Items", "must be an array or a JSONata expression, found %s", jsonTypeName(v))
			}
		}
	}
	if v, ok := obj["ItemSelector"]; ok {
		s.ItemSelector, s.HasItemSelector = v, true
		if jsonataMode {
			p.jsonataTemplate("ItemSelector", v)
		} else {
			p.payloadTemplate("ItemSelector", v)
		}
	}
	if v, ok := obj["Parameters"]; ok && !s.HasItemSelector {
		s.ItemSelector, s.HasItemSelector = v, true
		s.HasParameters = false
	}
	s.MaxConcurrency = p.numberOrExpr(obj, "MaxConcurrency", jsonataMode, 0)
	if v, ok := obj["MaxConcurrencyPath"].(string); ok {
		s.MaxConcurrencyPath = v
		p.pathOrIntrinsic("MaxConcurrencyPath", v)
	}
	if v, ok := obj["ToleratedFailurePercentage"]; ok {
		if str, isStr := v.(string); isStr {
			if src, ok := jsonataSource(str); ok && jsonataMode {
				p.compileJSONata("ToleratedFailurePercentage", src)
			} else {
				p.fail("ToleratedFailurePercentage", "must be a number between 0 and 100")
			}
		} else if n, ok := v.(float64); !ok || n < 0 || n > 100 {
			p.fail("ToleratedFailurePercentage", "must be a number between 0 and 100, found %s", short(v))
		}
		s.ToleratedFailurePercentage = v
	}
	s.ToleratedFailureCount = p.numberOrExpr(obj, "ToleratedFailureCount", jsonataMode, 0)
	if v, ok := obj["ToleratedFailurePercentagePath"].(string); ok {
		s.ToleratedFailurePercentagePath = v
		p.pathOrIntrinsic("ToleratedFailurePercentagePath", v)
	}
	if v, ok := obj["ToleratedFailureCountPath"].(string); ok {
		s.ToleratedFailureCountPath = v
		p.pathOrIntrinsic("ToleratedFailureCountPath", v)
	}
	s.ItemBatcher, s.ItemReader, s.ResultWriter = obj["ItemBatcher"], obj["ItemReader"], obj["ResultWriter"]
	if s.ItemReader != nil {
		p.fail("ItemReader", "reading items from S3 is not supported by the embedded interpreter")
	}
}

func (p *parser) errorEquals(field string, v any) []string {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		p.fail(field+"/ErrorEquals", "required: a non-empty array of error names")
		return nil
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			p.fail(fmt.Sprintf("%s/ErrorEquals/%d", field, i), "must be a string")
			continue
		}
		if s == "States.ALL" && len(arr) > 1 {
			p.fail(field+"/ErrorEquals", "States.ALL must appear alone in ErrorEquals")
		}
		if strings.HasPrefix(s, "States.") && !knownErrorNames[s] {
			p.fail(fmt.Sprintf("%s/ErrorEquals/%d", field, i), "unknown error name %q: names starting with \"States.\" are reserved", s)
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) retry(obj map[string]any) []*Retrier {
	v, ok := obj["Retry"]
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.fail("Retry", "must be an array of retriers")
		return nil
	}
	var out []*Retrier
	for i, e := range arr {
		f := fmt.Sprintf("Retry/%d", i)
		ro, ok := e.(map[string]any)
		if !ok {
			p.fail(f, "must be an object")
			continue
		}
		r := &Retrier{IntervalSeconds: 1, MaxAttempts: 3, BackoffRate: 2}
		for _, k := range sortedKeys(ro) {
			switch k {
			case "ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds", "JitterStrategy", "Comment":
			default:
				p.fail(f+"/"+k, "field %s is not allowed in a retrier", k)
			}
		}
		r.ErrorEquals = p.errorEquals(f, ro["ErrorEquals"])
		if x, ok := ro["IntervalSeconds"]; ok {
			n, ok := asInt(x)
			if !ok || n < 1 || n > 99999999 {
				p.fail(f+"/IntervalSeconds", "must be a positive integer, found %s", short(x))
			}
			r.IntervalSeconds = float64(n)
		}
		if x, ok := ro["MaxAttempts"]; ok {
			n, ok := asInt(x)
			if !ok || n < 0 || n > 99999999 {
				p.fail(f+"/MaxAttempts", "must be a non-negative integer, found %s", short(x))
			}
			r.MaxAttempts = n
		}
		if x, ok := ro["BackoffRate"]; ok {
			n, ok := x.(float64)
			if !ok || n < 1 {
				p.fail(f+"/BackoffRate", "must be a number >= 1.0, found %s", short(x))
			}
			r.BackoffRate = n
		}
		if x, ok := ro["MaxDelaySeconds"]; ok {
			n, ok := asInt(x)
			if !ok || n < 1 || n > 31622400 {
				p.fail(f+"/MaxDelaySeconds", "must be a positive integer, found %s", short(x))
			}
			r.MaxDelaySeconds = float64(n)
		}
		if x, ok := ro["JitterStrategy"]; ok {
			switch x {
			case "FULL":
				r.JitterFull = true
			case "NONE":
			default:
				p.fail(f+"/JitterStrategy", "must be \"FULL\" or \"NONE\", found %s", short(x))
			}
		}
		if i < len(arr)-1 && contains(r.ErrorEquals, "States.ALL") {
			p.fail(f+"/ErrorEquals", "a retrier with States.ALL must be the last one")
		}
		out = append(out, r)
	}
	return out
}

func (p *parser) catch(obj map[string]any, jsonataMode bool) []*Catcher {
	v, ok := obj["Catch"]
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		p.fail("Catch", "must be an array of catchers")
		return nil
	}
	var out []*Catcher
	for i, e := range arr {
		f := fmt.Sprintf("Catch/%d", i)
		co, ok := e.(map[string]any)
		if !ok {
			p.fail(f, "must be an object")
			continue
		}
		c := &Catcher{}
		for _, k := range sortedKeys(co) {
			switch k {
			case "ErrorEquals", "Next", "Comment", "Assign":
			case "ResultPath":
				if jsonataMode {
					p.fail(f+"/ResultPath", "field ResultPath is not supported by the JSONata query language (use Output)")
				}
			case "Output":
				if !jsonataMode {
					p.fail(f+"/Output", "field Output is only supported by the JSONata query language")
				}
			default:
				p.fail(f+"/"+k, "field %s is not allowed in a catcher", k)
			}
		}
		c.ErrorEquals = p.errorEquals(f, co["ErrorEquals"])
		next, ok := co["Next"].(string)
		if !ok || next == "" {
			p.fail(f+"/Next", "required: the state to go to when an error is caught")
		}
		c.Next = next
		c.ResultPath = p.pathField(co, "ResultPath", true)
		if x, ok := co["Output"]; ok {
			c.Output, c.HasOutput = x, true
			p.jsonataTemplate(f+"/Output", x)
		}
		if x, ok := co["Assign"]; ok {
			c.Assign = p.assign(f+"/Assign", x, jsonataMode)
		}
		if i < len(arr)-1 && contains(c.ErrorEquals, "States.ALL") {
			p.fail(f+"/ErrorEquals", "a catcher with States.ALL must be the last one")
		}
		out = append(out, c)
	}
	return out
}

// knownErrorNames are the reserved States.* error names.
var knownErrorNames = map[string]bool{
	"States.ALL": true, "States.HeartbeatTimeout": true, "States.Timeout": true, "States.TaskFailed": true,
	"States.Permissions": true, "States.ResultPathMatchFailure": true, "States.ParameterPathFailure": true,
	"States.BranchFailed": true, "States.NoChoiceMatched": true, "States.IntrinsicFailure": true,
	"States.ExceedToleratedFailureThreshold": true, "States.ItemReaderFailed": true, "States.ResultWriterFailed": true,
	"States.QueryEvaluationError": true, "States.Runtime": true, "States.DataLimitExceeded": true,
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func asInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int64(f)) || f > 1<<53 || f < -(1<<53) {
		return 0, false
	}
	return int(f), true
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

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number, int:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
