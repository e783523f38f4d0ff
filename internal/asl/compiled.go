package asl

import (
	"fmt"
	"strings"
)

// What Parse resolves ahead of the runs, so that a transition looks no
// path up by its source: the paths of choice rules and intrinsic
// arguments, and the JSONPath-mode Parameters of states.

// pathRef is a path or intrinsic function as written, with its compiled
// form (one of jp and call; neither when it did not compile).
type pathRef struct {
	src  string
	jp   *jsonPath
	call *intrinsicCall
}

func (m *Machine) ref(src string) pathRef {
	return pathRef{src: src, jp: m.paths[src], call: m.ipaths[src]}
}

// refValue evaluates a path or intrinsic function, as pathValueCtx does.
func (r *run) refValue(f *frame, ref *pathRef, input any, ctxObj map[string]any) (any, bool, error) {
	switch {
	case ref.call != nil:
		v, err := r.callIntrinsic(f, ref.call, input)
		return v, err == nil, err
	case ref.jp != nil:
		return r.evalPath(f, ref.jp, input, ctxObj)
	}
	return r.pathValueCtx(f, ref.src, input, ctxObj)
}

// objectTemplate is a compiled JSONPath-mode payload template object.
type objectTemplate struct {
	fields []templateField // in key order
	unique bool            // no two fields have the same name in the output
}

type templateField struct {
	key  string // as written, e.g. "id.$"
	name string // in the output, e.g. "id"
	ref  pathRef
	dyn  bool            // key ends in .$: the value is ref's
	obj  *objectTemplate // an object value
	val  any             // any other value, evaluated by template
}

// compileTemplate compiles an object template (nil for other values,
// which template evaluates as they are).
func (m *Machine) compileTemplate(v any) *objectTemplate {
	o, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	t := &objectTemplate{fields: make([]templateField, 0, len(o)), unique: true}
	names := make(map[string]bool, len(o))
	for _, k := range sortedKeys(o) {
		e := o[k]
		fl := templateField{key: k, name: k}
		if name, ok := strings.CutSuffix(k, ".$"); ok {
			path, _ := e.(string)
			fl.name, fl.dyn, fl.ref = name, true, m.ref(path)
		} else if obj := m.compileTemplate(e); obj != nil {
			fl.obj = obj
		} else {
			fl.val = e
		}
		if names[fl.name] {
			t.unique = false
		}
		names[fl.name] = true
		t.fields = append(t.fields, fl)
	}
	return t
}

// evalTemplate is template for a compiled object template. It also
// returns the output's JSON size (jsonSize; 0 when not known), summed as
// the output is built.
func (r *run) evalTemplate(f *frame, t *objectTemplate, input any, ctxObj map[string]any) (any, int, error) {
	out := make(map[string]any, len(t.fields))
	size := 2 + len(t.fields)
	for i := range t.fields {
		fl := &t.fields[i]
		switch {
		case fl.dyn:
			val, found, err := r.refValue(f, &fl.ref, input, ctxObj)
			if err != nil {
				return nil, 0, err
			}
			if !found {
				return nil, 0, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The JSONPath '%s' specified for the field '%s' could not be found in the input '%s'", fl.ref.src, fl.key, compactJSON(input))}
			}
			out[fl.name] = val
			size += 3 + len(fl.name) + jsonSize(val, maxPayloadBytes+1)
		case fl.obj != nil:
			val, n, err := r.evalTemplate(f, fl.obj, input, ctxObj)
			if err != nil {
				return nil, 0, err
			}
			out[fl.name] = val
			if n <= 0 {
				n = jsonSize(val, maxPayloadBytes+1)
			}
			size += 3 + len(fl.name) + n
		default:
			val, err := r.template(f, fl.val, input, ctxObj)
			if err != nil {
				return nil, 0, err
			}
			out[fl.name] = val
			size += 3 + len(fl.name) + jsonSize(val, maxPayloadBytes+1)
		}
	}
	if !t.unique {
		size = 0
	}
	return out, size, nil
}

// parameters evaluates a JSONPath-mode state's Parameters.
func (r *run) parameters(f *frame, st *State, input any) (any, error) {
	v, _, err := r.parametersSized(f, st, input)
	return v, err
}

// parametersSized is parameters with the JSON size of the result (0 when
// not known).
func (r *run) parametersSized(f *frame, st *State, input any) (any, int, error) {
	if st.params != nil {
		return r.evalTemplate(f, st.params, input, nil)
	}
	v, err := r.template(f, st.Parameters, input, nil)
	return v, 0, err
}

// resolve compiles what the states of g run: their Parameters, the
// paths of their choice rules, and the path arguments of intrinsic
// functions.
func (m *Machine) resolve(g *graph) {
	for _, s := range g.States {
		s.nextSt = g.States[s.Next]
		if s.HasParameters && s.QueryLanguage != JSONata {
			s.params = m.compileTemplate(s.Parameters)
		}
		var rules func(rs []*ChoiceRule)
		rules = func(rs []*ChoiceRule) {
			for _, c := range rs {
				if c == nil {
					continue
				}
				if c.Op != "" {
					c.variable = m.ref(c.Variable)
					if strings.HasSuffix(c.Op, "Path") {
						src, _ := c.Operand.(string)
						c.operand = m.ref(src)
					}
				}
				rules(c.And)
				rules(c.Or)
				if c.Not != nil {
					rules([]*ChoiceRule{c.Not})
				}
			}
		}
		if s.QueryLanguage != JSONata {
			rules(s.Choices)
		}
	}
}

// resolveIntrinsics compiles the path arguments of intrinsic functions.
func (m *Machine) resolveIntrinsics() {
	var walk func(c *intrinsicCall)
	walk = func(c *intrinsicCall) {
		for i := range c.Args {
			a := &c.Args[i]
			if a.Path != "" {
				a.ref = m.ref(a.Path)
			}
			if a.Call != nil {
				walk(a.Call)
			}
		}
	}
	for _, c := range m.ipaths {
		walk(c)
	}
}
