package asl

import (
	"bytes"
	"encoding/json"
	"maps"
)

// A chain of Pass states that each place their Result into their input
// (ResultPath "$.name") would copy the input object at every state.
// Instead the output of such a state is the record of its
// PassStateExited event, a patch: its data is the state's input (an object
// or another patch) and its event description says which member is set to
// what. The object is built when something other than another such state
// reads it (a state's input is resolved in enter, a graph's output in
// moveOn, history details and snapshots show the object), or when the
// chain grows beyond maxPatchChain patches. Until then such a state costs
// its two history records and nothing else.

// maxPatchChain bounds how many patches deep a value goes, and so the work
// of building its object (at most 255: see record.index).
const maxPatchChain = 64

// setResult is what a Pass state that only sets a member of its input to a
// constant does (JSONPath; no InputPath, Parameters, OutputPath or Assign;
// Result; ResultPath "$.name").
type setResult struct {
	name   string
	value  any
	size   int    // jsonSize of value
	exited string // the type of the state's exited event
}

// passSetResult returns the setResult of a Pass state, or nil when the
// state does more.
func passSetResult(s *State, paths map[string]*jsonPath) *setResult {
	if s.Type != "Pass" || s.QueryLanguage == JSONata || s.InputPath.Set || s.OutputPath.Set || s.HasParameters ||
		!s.HasResult || s.Assign != nil || !s.ResultPath.Set || s.ResultPath.Null {
		return nil
	}
	p := paths[s.ResultPath.Path]
	if p == nil || p.root != "$" || !p.definite || p.length || len(p.steps) != 1 || p.steps[0].kind != 'n' {
		return nil
	}
	size := jsonSize(s.Result, maxPayloadBytes+1)
	if size > maxPayloadBytes {
		return nil
	}
	return &setResult{name: p.steps[0].name, value: s.Result, size: size, exited: s.exited}
}

// isPatch reports whether the record is a patch: its data with
// desc.set applied is the state's output.
func (r *record) isPatch() bool { return r.desc.set != nil }

// object builds the object a patch stands for (a new map at every call:
// records are never modified).
func (r *record) object() map[string]any {
	var chain [maxPatchChain]*record
	n := 0
	q := r
	for {
		chain[n] = q
		n++
		b, ok := q.data.(*record)
		if !ok {
			break
		}
		q = b
	}
	m := maps.Clone(q.data.(map[string]any))
	if m == nil {
		m = make(map[string]any, n)
	}
	for i := n - 1; i >= 0; i-- {
		name := chain[i].desc.set.name
		if i > 0 && chain[i-1].desc.set.name == name {
			continue // set again by the next patch
		}
		m[name] = chain[i].desc.set.value
	}
	return m
}

// member returns the value of member name of the object of a patch, and
// its JSON size (jsonSize) when a patch set it.
func (r *record) member(name string) (v any, size int, ok bool) {
	for q := r; ; {
		if s := q.desc.set; s.name == name {
			return s.value, s.size, true
		}
		b, isPatch := q.data.(*record)
		if !isPatch {
			v, ok := q.data.(map[string]any)[name]
			return v, jsonSize(v, maxPayloadBytes+1), ok
		}
		q = b
	}
}

// MarshalJSON writes the object of a patch (a frame's input in a
// snapshot). It does not escape HTML, so that an encoder that does
// (json.Marshal) escapes it as it would the object, and one that does not
// (compactJSON) leaves it alone.
func (r *record) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.object()); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// resolved returns v with a patch replaced by its object.
func resolved(v any) any {
	if p, ok := v.(*record); ok {
		return p.object()
	}
	return v
}

// setResult runs a Pass state that has a setResult, when its input is an
// object of known size; it reports whether it did.
func (r *run) setResult(f *frame, st *State) bool {
	s := st.setResult
	if f.inSize <= 0 {
		return false
	}
	var base any
	var had bool
	oldSize := 0
	depth := int32(1)
	switch in := f.Input.(type) {
	case map[string]any:
		base = in
		var old any
		if old, had = in[s.name]; had {
			oldSize = jsonSize(old, maxPayloadBytes+1)
		}
	case *record:
		if in.depth() >= maxPatchChain {
			m := in.object()
			base = m
			var old any
			if old, had = m[s.name]; had {
				oldSize = jsonSize(old, maxPayloadBytes+1)
			}
		} else {
			base = in
			_, oldSize, had = in.member(s.name)
			depth = in.depth() + 1
		}
	default:
		return false
	}
	// the output's size follows from the input's (see setSteps)
	size := f.inSize + s.size
	if had {
		size -= oldSize
	} else {
		size += 1 + 3 + len(s.name)
	}
	if size > maxPayloadBytes {
		f.Entered = r.x.emitStateAt(f, st, f.Input, nil, false, f.EnteredAt)
		r.fail(f, st, outputTooLarge(st))
		return true
	}
	// one record for both events, unless a timestamp is too far off
	x := r.x
	id := x.st.events + 1
	at, exitAt := x.st.stamp(id, f.EnteredAt), x.st.stamp(id+1, x.now())
	var rec *record
	if d := exitAt - at; at != wideTime && exitAt != wideTime && d >= 0 && d <= maxExitDelay {
		rec, _ = x.newRecordAt(f, st.passDesc, at)
		rec.index = int32(d) << 8
		x.st.events++
		f.LastEvent = id + 1
	} else {
		x.emitStateAt(f, st, f.Input, nil, false, f.EnteredAt)
		rec, _ = x.newRecordAt(f, st.patchedDesc, exitAt)
	}
	f.Entered = id
	rec.data, rec.index = base, rec.index|depth
	r.moveOn(f, rec, size, st.Next, st.nextSt, st.End)
	return true
}
