package jsonata

func (st *evalState) evalFunction(n *node, input any, e *env, applyTo any, hasApplyTo bool) (any, error) {
	proc, err := st.eval(n.procedure, input, e)
	if err != nil {
		return nil, err
	}
	procName := n.procedure.op
	if n.procedure.typ == nPath && len(n.procedure.steps) > 0 {
		procName = n.procedure.steps[0].op
	}
	if proc == nil && n.procedure.typ == nPath && e.lookup(procName) != nil {
		return nil, newError("T1005", n.pos, procName, nil)
	}
	if proc == nil && n.procedure.typ == nVariable && procName == "eval" {
		// Step Functions does not bind $eval: calling it is calling an
		// undefined function, with a hint
		return nil, &Error{Code: "T1006", Position: n.pos, Token: "eval",
			Message: "Attempted to invoke a non-function: $eval is not available in Step Functions; use $parse instead"}
	}
	args := make([]any, 0, len(n.args)+1)
	if hasApplyTo {
		args = append(args, applyTo)
	}
	for _, a := range n.args {
		v, err := st.eval(a, input, e)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	res, err := st.apply(proc, args, input, e)
	if err != nil {
		return nil, setPos(err, n.pos, procName)
	}
	return res, nil
}

// apply invokes a function value, running the trampoline for tail calls.
func (st *evalState) apply(proc any, args []any, input any, e *env) (any, error) {
	res, err := st.applyInner(proc, args, input, e)
	if err != nil {
		return nil, err
	}
	for {
		th, ok := res.(*lambda)
		if !ok || !th.thunk {
			return res, nil
		}
		call := th.body
		next, err := st.eval(call.procedure, th.input, th.env)
		if err != nil {
			return nil, err
		}
		targs := make([]any, 0, len(call.args))
		for _, a := range call.args {
			v, err := st.eval(a, th.input, th.env)
			if err != nil {
				return nil, err
			}
			targs = append(targs, v)
		}
		res, err = st.applyInner(next, targs, input, e)
		if err != nil {
			name := call.procedure.op
			if call.procedure.typ == nPath && len(call.procedure.steps) > 0 {
				name = call.procedure.steps[0].op
			}
			return nil, setPos(err, call.pos, name)
		}
	}
}

func (st *evalState) applyInner(proc any, args []any, input any, e *env) (any, error) {
	switch f := proc.(type) {
	case *lambda:
		if f.sig != nil {
			v, err := f.sig.validate(args, input)
			if err != nil {
				return nil, err
			}
			args = v
		}
		fe := newEnv(f.env)
		fe.names = f.params[:len(f.params):len(f.params)] // shared: appends must copy
		fe.vals = make([]any, len(f.params))
		copy(fe.vals, args)
		return st.eval(f.body, f.input, fe)
	case *builtin:
		if f.sig != nil {
			v, err := f.sig.validate(args, input)
			if err != nil {
				return nil, err
			}
			args = v
		}
		return f.fn(call{st: st, env: e, input: input, name: f.name}, args)
	case *partial:
		full := make([]any, len(f.args))
		j := 0
		for i, a := range f.args {
			if _, ok := a.(hole); ok {
				if j < len(args) {
					full[i] = args[j]
				}
				j++
			} else {
				full[i] = a
			}
		}
		for len(full) > 0 && full[len(full)-1] == nil {
			full = full[:len(full)-1]
		}
		if b, ok := f.fn.(*builtin); ok {
			return b.fn(call{st: st, env: e, input: input, name: b.name}, padArgs(full, b.arity))
		}
		return st.applyInner(f.fn, full, input, e)
	case *regexValue:
		var s any
		if len(args) > 0 {
			s = args[0]
		}
		str, ok := s.(string)
		if !ok {
			return nil, nil
		}
		from := 0
		if len(args) > 1 {
			if n, ok := args[1].(float64); ok {
				from = int(n)
			}
		}
		return f.matchObject(str, from), nil
	}
	return nil, newError("T1006", 0, "", nil)
}

func padArgs(args []any, n int) []any {
	for len(args) < n {
		args = append(args, nil)
	}
	return args
}

func (st *evalState) evalPartial(n *node, input any, e *env) (any, error) {
	args := make([]any, len(n.args))
	for i, a := range n.args {
		if a.typ == nOperator && a.op == "?" {
			args[i] = hole{}
			continue
		}
		v, err := st.eval(a, input, e)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	proc, err := st.eval(n.procedure, input, e)
	if err != nil {
		return nil, err
	}
	procName := n.procedure.op
	if n.procedure.typ == nPath && len(n.procedure.steps) > 0 {
		procName = n.procedure.steps[0].op
	}
	if proc == nil && n.procedure.typ == nPath && e.lookup(procName) != nil {
		return nil, newError("T1007", n.pos, procName, nil)
	}
	switch f := proc.(type) {
	case *lambda:
		pe := newEnv(f.env)
		var unbound []string
		for i, p := range f.params {
			var a any
			if i < len(args) {
				a = args[i]
			}
			if _, ok := a.(hole); ok {
				unbound = append(unbound, p)
			} else {
				pe.bind(p, a)
			}
		}
		return &lambda{params: unbound, body: f.body, input: f.input, env: pe}, nil
	case *builtin, *partial, *regexValue:
		return &partial{fn: f, args: args}, nil
	}
	return nil, newError("T1008", n.pos, procName, nil)
}

func (st *evalState) evalApply(n *node, input any, e *env) (any, error) {
	lhs, err := st.eval(n.lhs, input, e)
	if err != nil {
		return nil, err
	}
	if n.rhs.typ == nFunction {
		return st.evalFunction(n.rhs, input, e, lhs, true)
	}
	fn, err := st.eval(n.rhs, input, e)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, newError("T2006", n.pos, "", fn)
	}
	if isFunction(lhs) {
		// function composition: λ($x){ fn(lhs($x)) }
		first, second := lhs, fn
		return &builtin{name: "", arity: 1, fn: func(c call, args []any) (any, error) {
			v, err := c.st.apply(first, args, nil, c.env)
			if err != nil {
				return nil, err
			}
			return c.st.apply(second, []any{v}, nil, c.env)
		}}, nil
	}
	return st.apply(fn, []any{lhs}, nil, e)
}

func arityOf(f any) int {
	switch x := f.(type) {
	case *lambda:
		return len(x.params)
	case *builtin:
		return x.arity
	case *partial:
		n := 0
		for _, a := range x.args {
			if _, ok := a.(hole); ok {
				n++
			}
		}
		return n
	case *regexValue:
		return 1
	}
	return 0
}

// hofArgs builds the argument list for a callback of a higher-order
// function according to its arity.
func hofArgs(f any, a1, a2, a3 any) []any {
	n := arityOf(f)
	args := []any{a1}
	if n >= 2 {
		args = append(args, a2)
	}
	if n >= 3 {
		args = append(args, a3)
	}
	return args
}

func (st *evalState) makeTransformer(n *node, e *env) any {
	sig, _ := parseSignature("<(oa):o>")
	return &builtin{name: "", sig: sig, arity: 1, fn: func(c call, args []any) (any, error) {
		obj := args[0]
		if obj == nil {
			return nil, nil
		}
		cloneFn := e.lookup("clone")
		if !isFunction(cloneFn) {
			return nil, newError("T2013", n.pos, "", nil)
		}
		var result any
		if b, ok := cloneFn.(*builtin); ok && b.name == "clone" {
			result = deepCopy(obj)
		} else {
			var err error
			if result, err = st.apply(cloneFn, []any{obj}, nil, e); err != nil {
				return nil, err
			}
		}
		matches, err := st.eval(n.pattern, result, e)
		if err != nil {
			return nil, err
		}
		if matches == nil {
			return result, nil
		}
		ms := []any{matches}
		if a, ok := matches.(*array); ok {
			ms = a.items
		}
		for _, m := range ms {
			upd, err := st.eval(n.update, m, e)
			if err != nil {
				return nil, err
			}
			if upd != nil {
				uo, ok := asObject(upd)
				if !ok {
					return nil, newError("T2011", n.update.pos, "", upd)
				}
				if mo, ok := m.(*object); ok {
					for _, k := range uo.orderedKeys() {
						mo.set(k, uo.get(k))
					}
				}
			}
			if n.delete != nil {
				del, err := st.eval(n.delete, m, e)
				if err != nil {
					return nil, err
				}
				if del != nil {
					da, ok := del.(*array)
					if !ok {
						da = &array{items: []any{del}}
					}
					if !isArrayOfStrings(da) {
						return nil, newError("T2012", n.delete.pos, "", del)
					}
					if mo, ok := m.(*object); ok {
						for _, k := range da.items {
							mo.del(k.(string))
						}
					}
				}
			}
		}
		return result, nil
	}}
}

func deepCopy(v any) any {
	switch x := obj(v).(type) {
	case *array:
		out := &array{items: make([]any, 0, len(x.items))}
		for _, it := range x.items {
			if it == nil {
				out.items = append(out.items, null{}) // JSON renders undefined items as null
				continue
			}
			if isFunction(it) {
				out.items = append(out.items, "")
				continue
			}
			out.items = append(out.items, deepCopy(it))
		}
		return out
	case *object:
		out := newObject(x.size())
		for _, k := range x.orderedKeys() {
			if x.get(k) == nil {
				continue
			}
			if isFunction(x.get(k)) {
				out.set(k, "")
				continue
			}
			out.set(k, deepCopy(x.get(k)))
		}
		return out
	}
	return v
}
