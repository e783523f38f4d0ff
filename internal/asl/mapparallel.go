package asl

import (
	"fmt"
	"math"
)

func (r *run) startParallel(f *frame, st *State) {
	input := f.Input
	eff := input
	var err error
	if st.QueryLanguage == JSONata {
		if st.HasArguments {
			eff, err = r.jsonataField(f, st, "Arguments", st.Arguments, r.statesVar(f, st, input))
		}
	} else if eff, err = r.inputPath(f, st, input); err == nil && st.HasParameters {
		eff, err = r.parameters(f, st, eff)
	}
	if err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	r.x.emit(f, "ParallelStateStarted", "", nil)
	f.Children = make([]*frame, len(st.Branches))
	f.Results = make([]any, len(st.Branches))
	for i, b := range st.Branches {
		f.Children[i] = &frame{Graph: b.ID, State: b.StartAt, Phase: phaseEnter, Input: eff, LastEvent: f.LastEvent, parent: f}
	}
	f.Started, f.Joined, f.Low = len(st.Branches), 0, 0
	f.Phase = phaseChildren
}

func (r *run) startMap(f *frame, st *State) {
	input := f.Input
	var items []any
	eff := input
	var err error
	if st.QueryLanguage == JSONata {
		states := r.statesVar(f, st, input)
		v := input
		if st.HasItems {
			v, err = r.jsonataField(f, st, "Items", st.Items, states)
			if err != nil {
				r.handle(f, st, asFailure(err))
				return
			}
		}
		arr, ok := v.([]any)
		if !ok && !st.HasItems {
			r.handle(f, st, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("%sMap state input must be an array but was: %s", r.statePrefix(f, st), compactJSON(v)), Location: "Items", State: st.Name})
			return
		}
		if !ok {
			src := compactJSON(st.Items)
			if s, isStr := st.Items.(string); isStr {
				src, _ = jsonataSource(s)
			}
			r.handle(f, st, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). The JSONata expression '%s' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '%s' for value: %s", st.Name, f.Entered, src, jsonTypeName(v), compactJSON(v)), Location: "Items", State: st.Name})
			return
		}
		items = arr
		if err = r.mapConcurrency(f, st, nil, states); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	} else {
		if eff, err = r.inputPath(f, st, input); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
		v := eff
		if st.ItemsPath.Set {
			if v, err = r.applyPath(f, st.ItemsPath, eff, "ItemsPath"); err != nil {
				r.handle(f, st, asFailure(err))
				return
			}
		}
		arr, ok := v.([]any)
		if !ok {
			p := st.ItemsPath.Path
			if p == "" {
				p = "$"
			}
			r.handle(f, st, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("Item path %s evaluated to %s, but must be a JSON array", p, jsonTypeName(v))})
			return
		}
		items = arr
		if err = r.mapConcurrency(f, st, eff, nil); err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
	}
	// ItemSelector and ItemBatcher
	if st.ItemBatcher != nil {
		items = batchItems(st.ItemBatcher, items)
	}
	sel := make([]any, len(items))
	for i, it := range items {
		if !st.HasItemSelector {
			sel[i] = it
			continue
		}
		r.curExtra = map[string]any{"Map": map[string]any{"Item": map[string]any{"Index": float64(i), "Value": it}}}
		var v any
		if st.QueryLanguage == JSONata {
			v, err = r.jsonataField(f, st, "ItemSelector", st.ItemSelector, r.statesVar(f, st, input))
		} else {
			ctxObj := r.contextObject(f, st, r.curExtra)
			v, err = r.template(f, st.ItemSelector, eff, ctxObj)
		}
		r.curExtra = nil
		if err != nil {
			r.handle(f, st, asFailure(err))
			return
		}
		sel[i] = v
	}
	d := map[string]any{"length": float64(len(sel))}
	r.x.emit(f, "MapStateStarted", "mapStateStartedEventDetails", d)
	var states map[string]any
	if st.QueryLanguage == JSONata {
		states = r.statesVar(f, st, input)
	}
	if err = r.mapTolerance(f, st, eff, states); err != nil {
		r.handle(f, st, asFailure(err))
		return
	}
	f.Items = sel
	f.Results = make([]any, len(sel))
	f.Children = make([]*frame, len(sel))
	f.Started, f.Failures, f.Joined, f.Low = 0, 0, 0, 0
	f.Phase = phaseChildren
}

func batchItems(cfg any, items []any) []any {
	m, _ := cfg.(map[string]any)
	n := 0
	if v, ok := m["MaxItemsPerBatch"].(float64); ok {
		n = int(v)
	}
	if n <= 0 {
		n = len(items)
	}
	var out []any
	for i := 0; i < len(items); i += n {
		b := map[string]any{"Items": append([]any{}, items[i:min(i+n, len(items))]...)}
		if in, ok := m["BatchInput"]; ok {
			b["BatchInput"] = in
		}
		out = append(out, b)
	}
	if out == nil {
		out = []any{}
	}
	return out
}

// mapNumber evaluates a Map field given as a number, a JSONata expression
// or a path.
func (r *run) mapNumber(f *frame, st *State, v any, path, field, kind string, eff any, states map[string]any) (float64, bool, error) {
	if path != "" {
		val, ok, err := r.pathValue(f, path, eff)
		if err != nil {
			return 0, false, err
		}
		if !ok {
			return 0, false, &Failure{Name: ErrRuntime, Cause: missingPath(path, eff)}
		}
		n, isNum := val.(float64)
		if !isNum || (kind == "integer" && n != math.Trunc(n)) {
			return 0, false, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("The %sPath field refers to value \"%s\" which is not a valid %s: %s", field, plainValue(val), kind, path)}
		}
		return n, true, nil
	}
	if v == nil {
		return 0, false, nil
	}
	if s, ok := v.(string); ok {
		val, err := r.jsonataField(f, st, field, s, states)
		if err != nil {
			return 0, false, err
		}
		n, isNum := val.(float64)
		if !isNum || (kind == "integer" && n != math.Trunc(n)) {
			src, _ := jsonataSource(s)
			return 0, false, &Failure{Name: ErrQueryEvaluationError, Cause: fmt.Sprintf("%sThe JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected '%s', but was '%s' for value: %s", r.statePrefix(f, st), src, field, kind, jsonTypeName(val), compactJSON(val)), Location: field, State: st.Name}
		}
		return n, true, nil
	}
	n, _ := v.(float64)
	return n, true, nil
}

// mapConcurrency evaluates MaxConcurrency.
func (r *run) mapConcurrency(f *frame, st *State, eff any, states map[string]any) error {
	mc, _, err := r.mapNumber(f, st, st.MaxConcurrency, st.MaxConcurrencyPath, "MaxConcurrency", "integer", eff, states)
	if err != nil {
		return err
	}
	if mc < 0 {
		return &Failure{Name: ErrRuntime, Cause: "MaxConcurrency cannot be negative."}
	}
	f.MaxConc = int(mc)
	return nil
}

// mapTolerance evaluates the tolerated failure fields.
func (r *run) mapTolerance(f *frame, st *State, eff any, states map[string]any) error {
	f.HasTol = false
	f.TolPct, f.TolCount = -1, -1
	if p, ok, err := r.mapNumber(f, st, st.ToleratedFailurePercentage, st.ToleratedFailurePercentagePath, "ToleratedFailurePercentage", "float", eff, states); err != nil {
		return err
	} else if ok {
		if p < 0 || p > 100 {
			return &Failure{Name: ErrRuntime, Cause: "ToleratedFailurePercentage must be between 0 and 100."}
		}
		f.HasTol, f.TolPct = true, p
	}
	if c, ok, err := r.mapNumber(f, st, st.ToleratedFailureCount, st.ToleratedFailureCountPath, "ToleratedFailureCount", "integer", eff, states); err != nil {
		return err
	} else if ok {
		if c < 0 {
			return &Failure{Name: ErrRuntime, Cause: "ToleratedFailureCount cannot be negative."}
		}
		f.HasTol, f.TolCount = true, int(c)
	}
	return nil
}

// advanceChildren runs the children of a Map or Parallel state; it
// reports whether anything happened.
func (r *run) advanceChildren(f *frame) bool {
	st := r.state(f)
	progressed := false
	isMap := st.Type == "Map"
	for {
		step := false
		if isMap {
			// start iterations within MaxConcurrency
			for f.Started < len(f.Items) && (f.MaxConc <= 0 || f.Started-f.Joined < f.MaxConc) {
				i := f.Started
				f.Started++
				r.x.emitIteration(f, st, "MapIterationStarted", i)
				f.Children[i] = &frame{Graph: st.Processor.ID, State: st.Processor.StartAt, Phase: phaseEnter, Input: f.Items[i], Index: i, LastEvent: f.LastEvent, parent: f}
				step = true
				if f.MaxConc <= 0 || f.Started-f.Joined >= f.MaxConc {
					break
				}
			}
		}
		for i := f.Low; i < f.Started; i++ {
			c := f.Children[i]
			if c == nil || c.Phase == phaseJoined || c.Phase == phaseAborted {
				continue
			}
			if r.advance(c) {
				step = true
			}
			switch c.Phase {
			case phaseDone:
				f.Results[i] = c.Output
				if isMap {
					r.x.emitIteration(f, st, "MapIterationSucceeded", i)
				}
				r.join(f, i)
				step = true
				if r.x.Done() {
					return true
				}
			case phaseFailed:
				e := c.Err
				if isMap {
					r.x.emitIteration(f, st, "MapIterationFailed", i)
					f.Failures++
					f.Results[i] = map[string]any{"Error": e.Name, "Cause": e.Cause}
					r.join(f, i)
					step = true
					if f.HasTol && !r.exceeds(f) {
						continue
					}
					if f.HasTol {
						e = &Failure{Name: ErrExceedToleratedFailure, Cause: "The specified tolerated failure threshold was exceeded"}
					}
				}
				r.abortChildren(f, st)
				r.handle(f, st, e)
				return true
			}
			if step && isMap && f.MaxConc > 0 && f.Started < len(f.Items) && f.Started-f.Joined < f.MaxConc {
				break // start more iterations first
			}
		}
		if r.finished(f) {
			if isMap {
				r.x.emit(f, "MapStateSucceeded", "", nil)
			}
			results := f.Results
			if results == nil {
				results = []any{}
			}
			r.complete(f, st, append([]any{}, results...))
			return true
		}
		if !step {
			return progressed
		}
		progressed = true
	}
}

// join marks child i as taken (its result is in Results).
func (r *run) join(f *frame, i int) {
	if f.joined == nil {
		f.joined = &frame{Phase: phaseJoined}
	}
	f.Children[i] = f.joined
	f.Joined++
	for f.Low < len(f.Children) && f.Children[f.Low] != nil && f.Children[f.Low].Phase == phaseJoined {
		f.Low++
	}
}

func (r *run) finished(f *frame) bool {
	return f.Started == len(f.Children) && f.Joined == len(f.Children)
}

func (r *run) exceeds(f *frame) bool {
	if f.TolCount >= 0 && f.Failures > f.TolCount {
		return true
	}
	if f.TolPct >= 0 && len(f.Items) > 0 && float64(f.Failures)*100/float64(len(f.Items)) > f.TolPct {
		return true
	}
	return false
}

func (r *run) abortChildren(f *frame, st *State) {
	for i, c := range f.Children {
		if c == nil || c.Phase == phaseJoined || c.Phase == phaseAborted {
			continue
		}
		r.x.abortFrame(c)
		if st.Type == "Map" {
			r.x.emitIteration(f, st, "MapIterationAborted", i)
		}
	}
}
