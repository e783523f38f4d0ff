package jsonata

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"
)

// env is a variable scope. The root of every chain is the function library
// of the compiled expression (shared, never written); each evaluation and
// each block, lambda call and tuple step gets its own frame.
type env struct {
	parent *env
	vars   map[string]any // large frames: the library, the bindings
	names  []string       // small frames: blocks, lambda calls, tuples
	vals   []any
	st     *evalState
}

func newEnv(parent *env) *env {
	return &env{parent: parent, st: parent.st}
}

func (e *env) bind(name string, v any) {
	if e.vars != nil {
		e.vars[name] = v
		return
	}
	for i, n := range e.names {
		if n == name {
			e.vals[i] = v
			return
		}
	}
	e.names = append(e.names, name)
	e.vals = append(e.vals, v)
}

func (e *env) lookup(name string) any {
	for f := e; f != nil; f = f.parent {
		if f.vars != nil {
			if v, ok := f.vars[name]; ok {
				return v
			}
			continue
		}
		for i, n := range f.names {
			if n == name {
				return f.vals[i]
			}
		}
	}
	return nil
}

// evalState is the per-evaluation state: limits and injected sources.
type evalState struct {
	ctx      context.Context
	depth    int
	maxDepth int
	deadline time.Time
	hasLimit bool
	steps    int
	clock    func() time.Time
	rand     func() float64
	now      time.Time
	nowSet   bool
	expr     *Expr
	maxRange float64
}

func (st *evalState) enter(n *node) error {
	st.depth++
	if st.maxDepth > 0 && st.depth > st.maxDepth {
		return newError("U1001", n.pos, "", nil)
	}
	st.steps++
	if st.steps&255 == 0 {
		return st.checkLimits(n.pos)
	}
	return nil
}

// tick counts a unit of work done by a builtin's own loop (one that can
// run long without evaluating nodes) against the limits.
func (st *evalState) tick() error {
	st.steps++
	if st.steps&255 == 0 {
		return st.checkLimits(0)
	}
	return nil
}

func (st *evalState) checkLimits(pos int) error {
	if err := st.ctx.Err(); err != nil {
		return &Error{Code: "U1002", Position: pos, Value: err.Error(), Message: "evaluation cancelled: " + err.Error(), cause: err}
	}
	if st.hasLimit && time.Now().After(st.deadline) {
		return &Error{Code: "U1001", Position: pos, Message: "evaluation exceeded its time limit"}
	}
	return nil
}

// lambda is a user-defined function (closure).
type lambda struct {
	params []string
	sig    *signature
	body   *node
	input  any
	env    *env
	thunk  bool
	// name and position of the call that is invoking it (for errors)
}

// builtin is a function of the library or registered with WithFunction.
type builtin struct {
	name  string
	sig   *signature
	arity int
	fn    func(c call, args []any) (any, error)
}

// call is what a builtin sees of its invocation.
type call struct {
	st    *evalState
	env   *env
	input any
	name  string
}

// hole marks a '?' argument of a partial application.
type hole struct{}

// partial is a partially applied builtin.
type partial struct {
	fn   any
	args []any
}

func (st *evalState) eval(n *node, input any, e *env) (any, error) {
	if err := st.enter(n); err != nil {
		return nil, err
	}
	var result any
	var err error
	switch n.typ {
	case nPath:
		result, err = st.evalPath(n, input, e)
	case nBinary:
		result, err = st.evalBinary(n, input, e)
	case nUnary:
		result, err = st.evalNegate(n, input, e)
	case nArrayCons:
		result, err = st.evalArray(n, input, e)
	case nObjectCons:
		result, err = st.evalGroup(n.pairs, n.pos, input, e)
	case nName:
		result = lookupField(input, n.op)
	case nString, nNumber:
		result = n.lit
	case nValue:
		result = n.val
	case nWildcard:
		result = evalWildcard(input)
	case nDescendant:
		result = evalDescendants(input)
	case nParent:
		result = e.lookup(n.slot.label)
	case nCondition:
		var c any
		c, err = st.eval(n.cond, input, e)
		if err == nil {
			if toBoolean(c) {
				result, err = st.eval(n.then, input, e)
			} else if n.els != nil {
				result, err = st.eval(n.els, input, e)
			}
		}
	case nBlock:
		f := newEnv(e)
		for _, x := range n.exprs {
			if result, err = st.eval(x, input, f); err != nil {
				break
			}
		}
	case nBind:
		result, err = st.eval(n.rhs, input, e)
		if err == nil {
			e.bind(n.lhs.op, result)
		}
	case nRegex:
		result = n.regex
	case nFunction:
		result, err = st.evalFunction(n, input, e, nil, false)
	case nVariable:
		if n.op == "" {
			if a, ok := input.(*array); ok && a.outer {
				result = a.items[0]
			} else {
				result = input
			}
		} else {
			result = e.lookup(n.op)
		}
	case nLambda:
		result = &lambda{params: n.params, sig: n.sig, body: n.body, input: input, env: e, thunk: n.thunk}
	case nPartial:
		result, err = st.evalPartial(n, input, e)
	case nApply:
		result, err = st.evalApply(n, input, e)
	case nTransform:
		result = st.makeTransformer(n, e)
	case nOperator:
		err = newError("S0201", n.pos, n.op, nil)
	default:
		err = newError("S0206", n.pos, n.typ.String(), nil)
	}
	if err != nil {
		st.depth--
		return nil, err
	}
	for _, p := range n.predicate {
		if result, err = st.evalFilter(p.filter, result, e); err != nil {
			st.depth--
			return nil, err
		}
	}
	if n.typ != nPath && n.group != nil {
		if result, err = st.evalGroup(n.group.pairs, n.group.pos, result, e); err != nil {
			st.depth--
			return nil, err
		}
	}
	st.depth--
	if a, ok := result.(*array); ok && a.seq && !a.tuples {
		if n.keepArray {
			a.keepSingleton = true
		}
		switch len(a.items) {
		case 0:
			return nil, nil
		case 1:
			if !a.keepSingleton {
				return a.items[0], nil
			}
		}
	}
	return result, nil
}

func lookupField(input any, key string) any {
	switch x := input.(type) {
	case map[string]any:
		v, ok := x[key]
		if !ok {
			return nil
		}
		return norm(v)
	case *object:
		return x.get(key)
	case *array:
		res := &array{seq: true}
		for _, it := range x.items {
			v := lookupField(it, key)
			if v == nil {
				continue
			}
			if a, ok := v.(*array); ok {
				res.items = append(res.items, a.items...)
			} else {
				res.items = append(res.items, v)
			}
		}
		return res
	}
	return nil
}

func flattenInto(v any, out []any) []any {
	if a, ok := v.(*array); ok {
		for _, it := range a.items {
			out = flattenInto(it, out)
		}
		return out
	}
	return append(out, v)
}

func evalWildcard(input any) any {
	res := &array{seq: true}
	if a, ok := input.(*array); ok && a.outer && len(a.items) > 0 {
		input = a.items[0]
	}
	switch x := obj(input).(type) {
	case *object:
		for _, k := range x.orderedKeys() {
			v := x.get(k)
			if a, ok := v.(*array); ok {
				res.items = flattenInto(a, res.items)
			} else {
				res.items = append(res.items, v)
			}
		}
	case *array:
		// JavaScript arrays are objects whose keys are the indexes
		for _, v := range x.items {
			if a, ok := v.(*array); ok {
				res.items = flattenInto(a, res.items)
			} else {
				res.items = append(res.items, v)
			}
		}
	}
	return res
}

func evalDescendants(input any) any {
	if input == nil {
		return nil
	}
	res := &array{seq: true}
	recurseDescendants(input, res)
	if len(res.items) == 1 {
		return res.items[0]
	}
	return res
}

func recurseDescendants(input any, res *array) {
	if a, ok := input.(*array); ok {
		for _, it := range a.items {
			recurseDescendants(it, res)
		}
		return
	}
	res.items = append(res.items, input)
	if o, ok := asObject(input); ok {
		for _, k := range o.orderedKeys() {
			recurseDescendants(o.get(k), res)
		}
	}
}

func (st *evalState) evalPath(n *node, input any, e *env) (any, error) {
	var inSeq []any
	var inArr *array
	var one [1]any // a single context value, without allocating a sequence
	if a, ok := input.(*array); ok && n.steps[0].typ != nVariable {
		inSeq, inArr = a.items, a
	} else {
		one[0] = input
		inSeq = one[:]
	}
	var result any
	isTuple := false
	var tuples *array
	for i, step := range n.steps {
		if step.tuple {
			isTuple = true
		}
		var err error
		switch {
		case i == 0 && step.consarray:
			if inArr == nil {
				inArr = &array{seq: true, items: append([]any(nil), inSeq...)}
			}
			result, err = st.eval(step, inArr, e)
		case isTuple:
			tuples, err = st.evalTupleStep(step, inSeq, tuples, e)
		default:
			result, err = st.evalStep(step, inSeq, e, i == len(n.steps)-1)
		}
		if err != nil {
			return nil, err
		}
		if !isTuple {
			if result == nil {
				break
			}
			if a, ok := result.(*array); ok && len(a.items) == 0 {
				break
			}
		}
		if step.focus == "" {
			if a, ok := result.(*array); ok {
				inSeq, inArr = a.items, a
			} else if i == 0 && step.consarray {
				// jsonata-js iterates over the value's length: the
				// characters of a string, nothing for other values
				if str, ok := result.(string); ok && str != "" {
					inSeq, inArr = stringChars(str), nil
				} else if ok {
					break
				} else if _, isNull := result.(null); isNull {
					// jsonata-js fails with a TypeError here
					return nil, newError("U1003", step.pos, "", nil)
				} else {
					inSeq, inArr = nil, nil
				}
			} else if result != nil {
				one[0] = result
				inSeq, inArr = one[:], nil
			}
		}
	}
	if isTuple {
		if n.tuple {
			result = tuples
		} else {
			out := &array{seq: true, items: make([]any, 0, len(tuples.items))}
			for _, t := range tuples.items {
				out.items = append(out.items, t.(tuple)["@"])
			}
			result = out
		}
	}
	if n.keepSingletonArray {
		a, ok := result.(*array)
		if ok && a.cons && !a.seq {
			a = newSeq(a)
			result = a
		}
		if !ok {
			a = newSeq(result)
			if result == nil {
				a = newSeq()
			}
			result = a
		}
		a.keepSingleton = true
	}
	if n.group != nil {
		src := result
		if isTuple {
			src = tuples
		}
		return st.evalGroup(n.group.pairs, n.group.pos, src, e)
	}
	return result, nil
}

// stringChars splits s into one-character strings, as indexing a
// JavaScript string does.
func stringChars(s string) []any {
	out := make([]any, 0, len(s))
	for _, r := range s {
		out = append(out, string(r))
	}
	return out
}

func (st *evalState) evalStep(step *node, input []any, e *env, last bool) (any, error) {
	if step.typ == nSort {
		res, err := st.evalSort(step, &array{seq: true, items: append([]any(nil), input...)}, e)
		if err != nil {
			return nil, err
		}
		if step.stages != nil {
			return st.evalStages(step.stages, res, e)
		}
		return res, nil
	}
	if len(input) == 1 {
		// one context value: the step's value is the result sequence
		res, err := st.eval(step, input[0], e)
		if err != nil {
			return nil, err
		}
		for _, s := range step.stages {
			if res, err = st.evalFilter(s.filter, res, e); err != nil {
				return nil, err
			}
		}
		if a, ok := res.(*array); ok {
			if a.cons {
				return &array{seq: true, items: []any{a}}, nil
			}
			if len(a.items) == 0 && !last {
				return nil, nil
			}
		}
		return res, nil
	}
	results := make([]any, 0, len(input))
	flatten := false
	plainName := step.typ == nName && step.stages == nil && step.predicate == nil && step.group == nil && !step.keepArray
	for _, it := range input {
		if plainName {
			// field lookup on each context value, without the general evaluator
			if m, ok := it.(map[string]any); ok {
				// a caller's map: scalars and maps need no conversion
				v, found := m[step.op]
				switch v.(type) {
				case string, float64, bool, map[string]any:
					results = append(results, v)
					continue
				case nil:
					if !found {
						continue
					}
				}
			}
			res := lookupField(it, step.op)
			if a, ok := res.(*array); ok && a.seq {
				switch len(a.items) {
				case 0:
					res = nil
				case 1:
					if !a.keepSingleton {
						res = a.items[0]
					}
				}
			}
			if res != nil {
				if a, ok := res.(*array); ok && !a.cons {
					flatten = true
				}
				results = append(results, res)
			}
			continue
		}
		res, err := st.eval(step, it, e)
		if err != nil {
			return nil, err
		}
		for _, s := range step.stages {
			if res, err = st.evalFilter(s.filter, res, e); err != nil {
				return nil, err
			}
		}
		if res != nil {
			if a, ok := res.(*array); ok && !a.cons {
				flatten = true
			}
			results = append(results, res)
		}
	}
	if last && len(results) == 1 {
		if a, ok := results[0].(*array); ok && !a.seq {
			return a, nil
		}
	}
	if !flatten {
		return &array{seq: true, items: results}, nil
	}
	n := 0
	for _, r := range results {
		if a, ok := r.(*array); ok && !a.cons {
			n += len(a.items)
		} else {
			n++
		}
	}
	out := &array{seq: true, items: make([]any, 0, n)}
	for _, r := range results {
		if a, ok := r.(*array); ok && !a.cons {
			out.items = append(out.items, a.items...)
		} else {
			out.items = append(out.items, r)
		}
	}
	return out, nil
}

func frameFromTuple(e *env, t tuple) *env {
	f := newEnv(e)
	f.names = make([]string, 0, len(t))
	f.vals = make([]any, 0, len(t))
	for k, v := range t {
		f.names = append(f.names, k)
		f.vals = append(f.vals, v)
	}
	return f
}

func (st *evalState) evalTupleStep(step *node, inItems []any, tuples *array, e *env) (*array, error) {
	input := &array{seq: true, items: append([]any(nil), inItems...)}
	if step.typ == nSort {
		var res *array
		if tuples != nil {
			r, err := st.evalSort(step, tuples, e)
			if err != nil {
				return nil, err
			}
			res = asArray(r)
		} else {
			sorted, err := st.evalSort(step, input, e)
			if err != nil {
				return nil, err
			}
			res = &array{seq: true, tuples: true}
			for i, v := range asArray(sorted).items {
				t := tuple{"@": v}
				if step.index != "" {
					t[step.index] = float64(i)
				}
				res.items = append(res.items, t)
			}
		}
		if step.stages != nil {
			r, err := st.evalStages(step.stages, res, e)
			if err != nil {
				return nil, err
			}
			return asArray(r), nil
		}
		return res, nil
	}
	result := &array{seq: true, tuples: true}
	if tuples == nil {
		tuples = &array{items: make([]any, len(input.items))}
		for i, it := range input.items {
			tuples.items[i] = tuple{"@": it}
		}
	}
	for _, tb := range tuples.items {
		t := tb.(tuple)
		stepEnv := frameFromTuple(e, t)
		res, err := st.eval(step, t["@"], stepEnv)
		if err != nil {
			return nil, err
		}
		if res == nil {
			continue
		}
		ra, ok := res.(*array)
		if !ok {
			ra = &array{items: []any{res}}
		}
		for bb, v := range ra.items {
			nt := make(tuple, len(t)+2)
			for k, x := range t {
				nt[k] = x
			}
			if ra.tuples {
				for k, x := range v.(tuple) {
					nt[k] = x
				}
			} else {
				if step.focus != "" {
					nt[step.focus] = v
					nt["@"] = t["@"]
				} else {
					nt["@"] = v
				}
				if step.index != "" {
					nt[step.index] = float64(bb)
				}
				if step.ancestor != nil {
					nt[step.ancestor.label] = t["@"]
				}
			}
			result.items = append(result.items, nt)
		}
	}
	if step.stages != nil {
		r, err := st.evalStages(step.stages, result, e)
		if err != nil {
			return nil, err
		}
		return asArray(r), nil
	}
	return result, nil
}

func asArray(v any) *array {
	switch x := v.(type) {
	case *array:
		return x
	case nil:
		return &array{seq: true}
	}
	return newSeq(v)
}

func (st *evalState) evalStages(stages []*stage, input any, e *env) (any, error) {
	result := input
	for _, s := range stages {
		if s.filter != nil {
			var err error
			if result, err = st.evalFilter(s.filter, result, e); err != nil {
				return nil, err
			}
		} else {
			for i, t := range asArray(result).items {
				t.(tuple)[s.index] = float64(i)
			}
		}
	}
	return result, nil
}

func (st *evalState) evalFilter(pred *node, input any, e *env) (any, error) {
	results := &array{seq: true}
	in, ok := input.(*array)
	if ok && in.tuples {
		results.tuples = true
	}
	if !ok {
		in = newSeq(input)
	}
	if pred.typ == nNumber {
		idx := int(math.Floor(pred.num))
		if idx < 0 {
			idx += len(in.items)
		}
		if idx >= 0 && idx < len(in.items) {
			item := in.items[idx]
			if item != nil {
				if a, ok := item.(*array); ok {
					return a, nil
				}
				results.items = append(results.items, item)
			}
		}
		return results, nil
	}
	for i, item := range in.items {
		ctx := item
		fe := e
		if in.tuples {
			t := item.(tuple)
			ctx = t["@"]
			fe = frameFromTuple(e, t)
		}
		res, err := st.eval(pred, ctx, fe)
		if err != nil {
			return nil, err
		}
		if f, ok := res.(float64); ok {
			if math.IsInf(f, 0) {
				return nil, newError("D1001", pred.pos, "", f)
			}
			if !math.IsNaN(f) {
				res = &array{items: []any{f}}
			}
		}
		if a, ok := res.(*array); ok && isArrayOfNumbers(a) && len(a.items) > 0 {
			for _, x := range a.items {
				ii := int(math.Floor(x.(float64)))
				if ii < 0 {
					ii += len(in.items)
				}
				if ii == i {
					results.items = append(results.items, item)
				}
			}
		} else if toBoolean(res) {
			results.items = append(results.items, item)
		}
	}
	return results, nil
}

func isArrayOfNumbers(a *array) bool {
	for _, x := range a.items {
		if _, ok := x.(float64); !ok {
			return false
		}
	}
	return true
}

func isArrayOfStrings(a *array) bool {
	for _, x := range a.items {
		if _, ok := x.(string); !ok {
			return false
		}
	}
	return true
}

// toBoolean is JSONata's $boolean casting; undefined stays false here.
func toBoolean(v any) bool {
	b, _ := booleanOf(v)
	return b
}

// booleanOf implements $boolean: defined is false for undefined.
func booleanOf(v any) (bool, bool) {
	switch x := v.(type) {
	case nil:
		return false, false
	case null:
		return false, true
	case bool:
		return x, true
	case float64:
		return x != 0, true
	case string:
		return x != "", true
	case *array:
		if len(x.items) == 1 {
			return booleanOf(x.items[0])
		}
		for _, it := range x.items {
			if b, _ := booleanOf(it); b {
				return true, true
			}
		}
		return false, true
	case *object:
		return x.size() > 0, true
	case map[string]any:
		return len(x) > 0, true
	case *lambda, *builtin, *partial, *regexValue:
		return false, true
	}
	return false, true
}

func checkNumeric(v any) (float64, bool, error) {
	f, ok := v.(float64)
	if !ok {
		return 0, false, nil
	}
	if math.IsNaN(f) {
		return 0, false, nil
	}
	if math.IsInf(f, 0) {
		return 0, false, newError("D1001", 0, "", f)
	}
	return f, true, nil
}

func setPos(err error, pos int, token string) error {
	var e *Error
	if errors.As(err, &e) {
		if e.Position == 0 {
			e.Position = pos
		}
		if e.Token == "" {
			e.Token = token
		}
	}
	return err
}

func (st *evalState) evalBinary(n *node, input any, e *env) (any, error) {
	lhs, err := st.eval(n.lhs, input, e)
	if err != nil {
		return nil, err
	}
	op := n.op
	if op == "and" || op == "or" {
		l := toBoolean(lhs)
		if op == "and" && !l {
			return false, nil
		}
		if op == "or" && l {
			return true, nil
		}
		rhs, err := st.eval(n.rhs, input, e)
		if err != nil {
			// jsonata-js reports an error of the right side as the
			// operator's own (its position, the operator as token)
			var ee *Error
			if errors.As(err, &ee) && !strings.HasPrefix(ee.Code, "U") {
				ee.Position, ee.Token = n.pos, op
			}
			return nil, err
		}
		return toBoolean(rhs), nil
	}
	rhs, err := st.eval(n.rhs, input, e)
	if err != nil {
		return nil, err
	}
	var res any
	switch op {
	case "+", "-", "*", "/", "%":
		res, err = arith(lhs, rhs, op)
	case "=", "!=":
		if lhs == nil || rhs == nil {
			return false, nil
		}
		eq := deepEqual(lhs, rhs)
		res = eq == (op == "=")
	case "<", "<=", ">", ">=":
		res, err = compare(lhs, rhs, op)
	case "&":
		var ls, rs string
		if lhs != nil {
			if ls, err = toStringValue(lhs); err != nil {
				break
			}
		}
		if rhs != nil {
			if rs, err = toStringValue(rhs); err != nil {
				break
			}
		}
		if len(ls)+len(rs) > maxStringLength {
			err = &Error{Code: "D1001", Value: float64(len(ls) + len(rs)), Message: "string too long: the result of & exceeds 2^29 bytes"}
			break
		}
		res = ls + rs
	case "..":
		res, err = rangeOp(lhs, rhs, st.maxRange)
	case "in":
		if lhs == nil || rhs == nil {
			return false, nil
		}
		items := []any{rhs}
		if a, ok := rhs.(*array); ok {
			items = a.items
		}
		found := false
		for _, it := range items {
			if strictEqual(it, lhs) {
				found = true
				break
			}
		}
		res = found
	}
	if err != nil {
		var ee *Error
		if errors.As(err, &ee) {
			ee.Position = n.pos
			ee.Token = op
		}
		return nil, err
	}
	return res, nil
}

// strictEqual is JavaScript's ===: by value for primitives, by identity
// for arrays, objects and functions.
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	case float64, string, bool, null, *array, *object, *lambda, *builtin, *partial, *regexValue:
		if _, ok := b.(map[string]any); ok {
			return false
		}
		return a == b
	}
	return false
}

func arith(lhs, rhs any, op string) (any, error) {
	l, lok, err := checkNumeric(lhs)
	if err != nil {
		return nil, err
	}
	if lhs != nil && !lok {
		return nil, newError("T2001", 0, op, lhs)
	}
	r, rok, err := checkNumeric(rhs)
	if err != nil {
		return nil, err
	}
	if rhs != nil && !rok {
		return nil, newError("T2002", 0, op, rhs)
	}
	if lhs == nil || rhs == nil {
		return nil, nil
	}
	switch op {
	case "+":
		return l + r, nil
	case "-":
		return l - r, nil
	case "*":
		return l * r, nil
	case "/":
		return l / r, nil
	default:
		return math.Mod(l, r), nil
	}
}

func compare(lhs, rhs any, op string) (any, error) {
	comparable := func(v any) bool {
		switch v.(type) {
		case nil, string, float64:
			return true
		}
		return false
	}
	if !comparable(lhs) || !comparable(rhs) {
		v := rhs
		switch lhs.(type) {
		case string, float64:
		default:
			v = lhs
		}
		return nil, newError("T2010", 0, op, v)
	}
	if lhs == nil || rhs == nil {
		return nil, nil
	}
	switch l := lhs.(type) {
	case float64:
		r, ok := rhs.(float64)
		if !ok {
			return nil, &Error{Code: "T2009", Token: op, Value: lhs, value2: rhs}
		}
		switch op {
		case "<":
			return l < r, nil
		case "<=":
			return l <= r, nil
		case ">":
			return l > r, nil
		default:
			return l >= r, nil
		}
	case string:
		r, ok := rhs.(string)
		if !ok {
			return nil, &Error{Code: "T2009", Token: op, Value: lhs, value2: rhs}
		}
		c := compareUTF16(l, r)
		switch op {
		case "<":
			return c < 0, nil
		case "<=":
			return c <= 0, nil
		case ">":
			return c > 0, nil
		default:
			return c >= 0, nil
		}
	}
	return nil, nil
}

// compareUTF16 compares strings by UTF-16 code units, as JavaScript does.
func compareUTF16(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	for i := 0; i < len(ra) && i < len(rb); i++ {
		if ra[i] == rb[i] {
			continue
		}
		ua, ub := utf16First(ra[i]), utf16First(rb[i])
		if ua != ub {
			if ua < ub {
				return -1
			}
			return 1
		}
		if ra[i] < rb[i] {
			return -1
		}
		return 1
	}
	return len(ra) - len(rb)
}

func utf16First(r rune) rune {
	if r >= 0x10000 {
		return 0xD800 + ((r - 0x10000) >> 10)
	}
	return r
}

func rangeOp(lhs, rhs any, limit float64) (any, error) {
	isInt := func(v any) bool {
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
	}
	if lhs != nil && !isInt(lhs) {
		return nil, newError("T2003", 0, "", lhs)
	}
	if rhs != nil && !isInt(rhs) {
		return nil, newError("T2004", 0, "", rhs)
	}
	if lhs == nil || rhs == nil {
		return nil, nil
	}
	l, r := lhs.(float64), rhs.(float64)
	if l > r {
		return nil, nil
	}
	size := r - l + 1
	if size > limit {
		return nil, newError("D2014", 0, "", size)
	}
	out := &array{seq: true, items: make([]any, int(size))}
	for i := range out.items {
		out.items[i] = l + float64(i)
	}
	return out, nil
}

func (st *evalState) evalNegate(n *node, input any, e *env) (any, error) {
	v, err := st.eval(n.expr, input, e)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, nil
	}
	f, ok, err := checkNumeric(v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newError("D1002", n.pos, "-", v)
	}
	return -f, nil
}

func (st *evalState) evalArray(n *node, input any, e *env) (any, error) {
	out := &array{items: make([]any, 0, len(n.exprs))}
	for _, item := range n.exprs {
		v, err := st.eval(item, input, e)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if item.typ == nArrayCons {
			out.items = append(out.items, v)
		} else if a, ok := v.(*array); ok {
			out.items = append(out.items, a.items...)
		} else {
			out.items = append(out.items, v)
		}
	}
	if n.consarray {
		out.cons = true
	}
	return out, nil
}

// appendValues is jsonata-js's fn.append for building sequences.
func appendValues(a, b any) any {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := &array{}
	if x, ok := a.(*array); ok {
		out.items = append(out.items, x.items...)
	} else {
		out.items = append(out.items, a)
	}
	if y, ok := b.(*array); ok {
		out.items = append(out.items, y.items...)
	} else {
		out.items = append(out.items, b)
	}
	return out
}

type groupEntry struct {
	key       string
	items     []any
	exprIndex int
}

// data is the group's context: the one item, or the items appended as
// jsonata-js's fn.append does (arrays spliced in).
func (g *groupEntry) data() any {
	if len(g.items) == 1 {
		return g.items[0]
	}
	out := &array{items: make([]any, 0, len(g.items))}
	for _, it := range g.items {
		if a, ok := it.(*array); ok {
			out.items = append(out.items, a.items...)
		} else {
			out.items = append(out.items, it)
		}
	}
	return out
}

func (st *evalState) evalGroup(pairs [][2]*node, pos int, input any, e *env) (any, error) {
	in, ok := input.(*array)
	reduce := ok && in.tuples
	if !ok {
		return st.evalObjectSingle(pairs, pos, input, e)
	}
	items := in.items
	if len(items) == 0 {
		items = []any{nil}
	}
	var groups []*groupEntry
	byKey := map[string]*groupEntry{}
	for _, item := range items {
		ie := e
		ctx := item
		if reduce {
			t := item.(tuple)
			ie = frameFromTuple(e, t)
			ctx = t["@"]
		}
		for pi, pair := range pairs {
			k, err := st.eval(pair[0], ctx, ie)
			if err != nil {
				return nil, err
			}
			if k == nil {
				continue
			}
			key, ok := k.(string)
			if !ok {
				return nil, newError("T1003", pos, "", k)
			}
			if g, ok := byKey[key]; ok {
				if g.exprIndex != pi {
					return nil, newError("D1009", pos, "", key)
				}
				g.items = append(g.items, item)
			} else {
				g := &groupEntry{key: key, items: []any{item}, exprIndex: pi}
				byKey[key] = g
				groups = append(groups, g)
			}
		}
	}
	result := newObject(len(groups))
	for _, g := range groups {
		ctx := g.data()
		ge := e
		if reduce {
			t := reduceTuples(ctx)
			ctx = t["@"]
			delete(t, "@")
			ge = frameFromTuple(e, t)
		}
		v, err := st.eval(pairs[g.exprIndex][1], ctx, ge)
		if err != nil {
			return nil, err
		}
		if v != nil {
			result.set(g.key, v)
		}
	}
	return result, nil
}

// evalObjectSingle is evalGroup for a single context value (the usual
// object constructor): keys first, then values, as jsonata-js evaluates them.
func (st *evalState) evalObjectSingle(pairs [][2]*node, pos int, ctx any, e *env) (any, error) {
	keys := make([]string, len(pairs))
	defined := make([]bool, len(pairs))
	for pi, pair := range pairs {
		k, err := st.eval(pair[0], ctx, e)
		if err != nil {
			return nil, err
		}
		if k == nil {
			continue
		}
		key, ok := k.(string)
		if !ok {
			return nil, newError("T1003", pos, "", k)
		}
		for j := 0; j < pi; j++ {
			if defined[j] && keys[j] == key {
				return nil, newError("D1009", pos, "", key)
			}
		}
		keys[pi], defined[pi] = key, true
	}
	result := newObject(len(pairs))
	for pi, pair := range pairs {
		if !defined[pi] {
			continue
		}
		v, err := st.eval(pair[1], ctx, e)
		if err != nil {
			return nil, err
		}
		if v != nil {
			result.set(keys[pi], v)
		}
	}
	return result, nil
}

func reduceTuples(data any) tuple {
	a, ok := data.(*array)
	if !ok {
		t := data.(tuple)
		out := make(tuple, len(t))
		for k, v := range t {
			out[k] = v
		}
		return out
	}
	// each binding is the append (appendValues) of its values over the
	// tuples, built once rather than copied for every tuple
	vals := map[string][]any{}
	for _, it := range a.items {
		for k, v := range it.(tuple) {
			if v == nil {
				if _, seen := vals[k]; !seen {
					vals[k] = nil
				}
				continue
			}
			vals[k] = append(vals[k], v)
		}
	}
	out := make(tuple, len(vals))
	for k, vs := range vals {
		switch len(vs) {
		case 0:
			out[k] = nil
		case 1:
			out[k] = vs[0]
		default:
			joined := &array{}
			for _, v := range vs {
				if x, ok := v.(*array); ok {
					joined.items = append(joined.items, x.items...)
				} else {
					joined.items = append(joined.items, v)
				}
			}
			out[k] = joined
		}
	}
	return out
}

func (st *evalState) evalSort(n *node, input any, e *env) (any, error) {
	in, ok := input.(*array)
	if !ok {
		if input == nil {
			return nil, nil
		}
		return input, nil
	}
	if len(in.items) <= 1 {
		return in, nil
	}
	isTuple := in.tuples
	keys := make([][]any, len(in.items))
	for i, item := range in.items {
		ctx := item
		ie := e
		if isTuple {
			t := item.(tuple)
			ctx = t["@"]
			ie = frameFromTuple(e, t)
		}
		keys[i] = make([]any, len(n.terms))
		for j, term := range n.terms {
			v, err := st.eval(term.expr, ctx, ie)
			if err != nil {
				return nil, err
			}
			keys[i][j] = v
		}
	}
	idx := make([]int, len(in.items))
	for i := range idx {
		idx[i] = i
	}
	var sortErr error
	cmp := func(a, b int) int {
		for j, term := range n.terms {
			aa, bb := keys[a][j], keys[b][j]
			if aa == nil {
				if bb == nil {
					continue
				}
				return 1
			}
			if bb == nil {
				return -1
			}
			okA := isStrOrNum(aa)
			okB := isStrOrNum(bb)
			if !okA || !okB {
				v := bb
				if !okA {
					v = aa
				}
				if sortErr == nil {
					sortErr = newError("T2008", n.pos, "", v)
				}
				return 0
			}
			var c int
			switch x := aa.(type) {
			case float64:
				y, ok := bb.(float64)
				if !ok {
					if sortErr == nil {
						sortErr = &Error{Code: "T2007", Position: n.pos, Value: aa, value2: bb}
					}
					return 0
				}
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			case string:
				y, ok := bb.(string)
				if !ok {
					if sortErr == nil {
						sortErr = &Error{Code: "T2007", Position: n.pos, Value: aa, value2: bb}
					}
					return 0
				}
				c = compareUTF16(x, y)
			}
			if c == 0 {
				continue
			}
			if term.descending {
				c = -c
			}
			return c
		}
		return 0
	}
	slices.SortStableFunc(idx, cmp)
	if sortErr != nil {
		return nil, sortErr
	}
	out := &array{seq: true, tuples: isTuple, items: make([]any, len(idx))}
	for i, j := range idx {
		out.items[i] = in.items[j]
	}
	return out, nil
}

func isStrOrNum(v any) bool {
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}
