package asl

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Event is one history event, as GetExecutionHistory returns it: the type
// (e.g. "TaskStateEntered") and its details under the field Step Functions
// uses (e.g. "stateEnteredEventDetails"). Inputs and outputs are decoded
// JSON values.
type Event struct {
	ID              int
	PreviousEventID int
	Timestamp       time.Time
	Type            string
	// DetailsField is the name of the details field, "" when there are none.
	DetailsField string
	details      map[string]any // the details of an event read back from JSON
	rec          *record        // the recorded event, whose details are built on demand
	exited       bool           // the second event of a recPass record
}

// record is how an execution keeps a history event: compact, without the
// maps of its details, which Event.Details builds only when asked. Records
// are never modified once appended.
type record struct {
	desc *eventDesc
	// data is the input (entered) or output (exited; an *assignedOutput
	// when the state assigned variables) of a state event, the state's
	// input for a patch (lazy.go), or the details (map[string]any or
	// lazyDetails) of another event
	data any
	at   int64 // the timestamp: nanoseconds since the execution's start, or wideTime
	prev int32
	// index is the iteration index (iteration events); for a patch
	// (lazy.go), its depth (bits 0-7) and, for a recPass record, its
	// exited event's timestamp in nanoseconds after at (bits 8-30)
	index int32
}

// maxExitDelay bounds the nanoseconds between the events of a recPass
// record.
const maxExitDelay = 1<<23 - 1

func (r *record) depth() int32 { return r.index & 0xff }

func (r *record) exitDelay() time.Duration { return time.Duration(r.index >> 8) }

// eventDesc is what records of the same kind of event of the same state
// share (each State holds its own): the type, the state's name (state and
// iteration events) or the details field (other events), and the kind.
type eventDesc struct {
	typ  string
	name string
	kind uint8
	set  *setResult // for the records of a Pass state that are patches (lazy.go)
}

// Kinds of records.
const (
	recOther     = iota // details in more, under the field name
	recEntered          // *StateEntered: name, input
	recExited           // *StateExited: name, output, assignedVariables
	recIteration        // MapIteration*: index, name
	recPass             // PassStateEntered then PassStateExited of a patch (lazy.go): two events
)

// iterationEvents are the types of the events of Map iterations.
var iterationEvents = [...]string{"MapIterationStarted", "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"}

// describeEvents fills the eventDescs of a state's events.
func (s *State) describeEvents() {
	s.enteredDesc = &eventDesc{typ: s.entered, name: s.Name, kind: recEntered}
	s.exitedDesc = &eventDesc{typ: s.exited, name: s.Name, kind: recExited}
	if s.setResult != nil {
		s.patchedDesc = &eventDesc{typ: s.exited, name: s.Name, kind: recExited, set: s.setResult}
		s.passDesc = &eventDesc{typ: s.entered, name: s.Name, kind: recPass, set: s.setResult}
	}
	if s.Type == "Map" {
		s.iterDescs = make(map[string]*eventDesc, len(iterationEvents))
		for _, typ := range iterationEvents {
			s.iterDescs[typ] = &eventDesc{typ: typ, name: s.Name, kind: recIteration}
		}
	}
}

// Details returns the event's details (a new map, except for events read
// back from JSON; nil when it has none).
func (e Event) Details() map[string]any {
	r := e.rec
	if r == nil {
		return e.details
	}
	switch r.desc.kind {
	case recIteration:
		return map[string]any{"index": float64(r.index), "name": r.desc.name}
	case recEntered:
		return map[string]any{"name": r.desc.name, "input": resolved(r.data)}
	case recPass:
		if e.exited {
			return map[string]any{"name": r.desc.name, "output": r.object()}
		}
		return map[string]any{"name": r.desc.name, "input": resolved(r.data)}
	case recExited:
		var out any
		var vars map[string]any
		switch v := r.data.(type) {
		case *assignedOutput:
			out, vars = resolved(v.output), v.vars
		default:
			if r.isPatch() {
				out = r.object()
			} else {
				out = resolved(r.data)
			}
		}
		d := map[string]any{"name": r.desc.name, "output": out}
		if len(vars) > 0 {
			av := make(map[string]any, len(vars))
			for k, v := range vars {
				av[k] = compactJSON(v)
			}
			d["assignedVariables"] = av
		}
		return d
	}
	if l, ok := r.data.(lazyDetails); ok {
		return l.details()
	}
	d, _ := r.data.(map[string]any)
	return d
}

// lazyDetails are the details of an event, built when asked.
type lazyDetails interface {
	details() map[string]any
}

type startedDetails struct {
	input   any
	roleARN string
}

func (d *startedDetails) details() map[string]any {
	return map[string]any{"input": d.input, "roleArn": d.roleARN}
}

type succeededDetails struct{ output any }

func (d *succeededDetails) details() map[string]any { return map[string]any{"output": d.output} }

// assignedOutput is the data of the record of a *StateExited event that
// assigned variables.
type assignedOutput struct {
	output any
	vars   map[string]any
}

// MarshalJSON writes the event in GetExecutionHistory's shape.
func (e Event) MarshalJSON() ([]byte, error) {
	m := map[string]any{"id": e.ID, "previousEventId": e.PreviousEventID, "timestamp": e.Timestamp, "type": e.Type}
	if e.DetailsField != "" {
		m[e.DetailsField] = e.Details()
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("decoding a history event: %w", err)
	}
	for k, v := range m {
		var err error
		switch k {
		case "id":
			err = json.Unmarshal(v, &e.ID)
		case "previousEventId":
			err = json.Unmarshal(v, &e.PreviousEventID)
		case "timestamp":
			err = json.Unmarshal(v, &e.Timestamp)
		case "type":
			err = json.Unmarshal(v, &e.Type)
		default:
			if strings.HasSuffix(k, "EventDetails") {
				e.DetailsField = k
				err = json.Unmarshal(v, &e.details)
			}
		}
		if err != nil {
			return fmt.Errorf("decoding history event field %s: %w", k, err)
		}
	}
	return nil
}

// wideTime in record.at: the timestamp is more than 292 years from the
// execution's start, and kept in execState.wide.
const wideTime = math.MinInt64

// stamp returns the record.at of an event at now with id.
func (st *execState) stamp(id int, now time.Time) int64 {
	if !st.originSet {
		st.originSec, st.originNsec, st.originSet = st.Start.Unix(), int64(st.Start.Nanosecond()), true
	}
	// exact within ±285 years, well inside int64 nanoseconds
	if ds := now.Unix() - st.originSec; ds > -9e9 && ds < 9e9 {
		return ds*1e9 + int64(now.Nanosecond()) - st.originNsec
	}
	if st.wide == nil {
		st.wide = map[int]time.Time{}
	}
	st.wide[id] = now.UTC()
	return wideTime
}

// event returns the Event of the record with id.
func (r *record) event(st *execState, id int) Event {
	at := st.wide[id]
	if r.at != wideTime {
		at = st.Start.Add(time.Duration(r.at)).UTC()
	}
	e := Event{ID: id, PreviousEventID: int(r.prev), Timestamp: at, Type: r.desc.typ, rec: r}
	switch r.desc.kind {
	case recEntered, recPass:
		e.DetailsField = "stateEnteredEventDetails"
	case recExited:
		e.DetailsField = "stateExitedEventDetails"
	case recIteration:
		e.DetailsField = strings.ToLower(r.desc.typ[:1]) + r.desc.typ[1:] + "EventDetails"
	default:
		e.DetailsField = r.desc.name
	}
	return e
}

// History returns the history events so far (do not modify them).
func (x *Execution) History() []Event {
	out := make([]Event, 0, x.st.events)
	for _, b := range x.st.blocks {
		for i := range b {
			r := &b[i]
			e := r.event(x.st, len(out)+1)
			out = append(out, e)
			if r.desc.kind == recPass {
				e.ID, e.PreviousEventID, e.Type, e.DetailsField, e.exited = e.ID+1, e.ID, r.desc.set.exited, "stateExitedEventDetails", true
				e.Timestamp = e.Timestamp.Add(r.exitDelay())
				out = append(out, e)
			}
		}
	}
	return out
}

// recordsOf turns the events of a snapshot back into records.
func recordsOf(st *execState, events []Event) ([]record, error) {
	recs := make([]record, len(events))
	for i, e := range events {
		if e.ID != i+1 || e.PreviousEventID < 0 || e.PreviousEventID > i {
			return nil, fmt.Errorf("history event %d has id %d and previous event id %d", i+1, e.ID, e.PreviousEventID)
		}
		recs[i] = record{desc: &eventDesc{typ: e.Type, name: e.DetailsField}, data: e.Details(), at: st.stamp(i+1, e.Timestamp.UTC()), prev: int32(e.PreviousEventID)}
	}
	return recs, nil
}

// newRecord appends a record of an event of f (nil: of the execution) at
// time now and returns it with its id.
func (x *Execution) newRecord(f *frame, desc *eventDesc, now time.Time) (*record, int) {
	return x.newRecordAt(f, desc, x.st.stamp(x.st.events+1, now))
}

// newRecordAt is newRecord with the record's timestamp (see stamp).
func (x *Execution) newRecordAt(f *frame, desc *eventDesc, at int64) (*record, int) {
	id := x.st.events + 1
	prev := 0
	if f != nil {
		prev = f.LastEvent
		f.LastEvent = id
	} else if x.st.events > 0 {
		prev = x.st.events
	}
	n := len(x.st.blocks)
	if n == 0 || len(x.st.blocks[n-1]) == cap(x.st.blocks[n-1]) {
		// blocks double up to 1,024 records: small histories stay small,
		// and none is ever copied
		size := 16
		if n > 0 {
			size = min(2*cap(x.st.blocks[n-1]), 1024)
		}
		x.st.blocks = append(x.st.blocks, make([]record, 0, size))
		n++
	}
	b := &x.st.blocks[n-1]
	// fill the new (zeroed) slot field by field: copying a whole record
	// in would cost a bulk write barrier while the GC runs
	*b = (*b)[:len(*b)+1]
	r := &(*b)[len(*b)-1]
	r.desc, r.at, r.prev = desc, at, int32(prev)
	x.st.events++
	return r, id
}

// emit records an event with details under field ("" for none).
func (x *Execution) emit(f *frame, typ, field string, details map[string]any) int {
	r, id := x.newRecord(f, &eventDesc{typ: typ, name: field}, x.now())
	if field != "" {
		r.data = details
	}
	return id
}

// emitLazy records an event whose details are built when asked.
func (x *Execution) emitLazy(f *frame, typ, field string, details lazyDetails) {
	r, _ := x.newRecord(f, &eventDesc{typ: typ, name: field}, x.now())
	r.data = details
}

// emitIteration records a MapIteration* event of Map state st.
func (x *Execution) emitIteration(f *frame, st *State, typ string, index int) {
	desc := st.iterDescs[typ]
	if desc == nil {
		desc = &eventDesc{typ: typ, name: st.Name, kind: recIteration}
	}
	r, _ := x.newRecord(f, desc, x.now())
	r.index = int32(index)
}

// emitState records st's *StateEntered (data is the input) or
// *StateExited (data is the output) event.
func (x *Execution) emitState(f *frame, st *State, data any, assigned map[string]any, exited bool) int {
	return x.emitStateAt(f, st, data, assigned, exited, x.now())
}

// emitStateAt is emitState with the event's timestamp.
func (x *Execution) emitStateAt(f *frame, st *State, data any, assigned map[string]any, exited bool, now time.Time) int {
	desc := st.enteredDesc
	if exited {
		desc = st.exitedDesc
	}
	if desc == nil {
		desc = &eventDesc{typ: st.entered, name: st.Name, kind: recEntered}
		if exited {
			desc = &eventDesc{typ: st.exited, name: st.Name, kind: recExited}
		}
	}
	r, id := x.newRecord(f, desc, now)
	r.data = data
	if exited && len(assigned) > 0 {
		r.data = &assignedOutput{output: data, vars: assigned}
	}
	return id
}
