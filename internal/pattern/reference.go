package pattern

import (
	"errors"
	"fmt"
)

// ErrEvent is wrapped by the errors returned for an event that is not a JSON
// object.
var ErrEvent = errors.New("invalid event")

// refLeaf is one event leaf for the reference evaluator: its path, value and
// the array elements it lies in, outermost first.
type refLeaf struct {
	path  string
	val   value
	trail []arrayPos
}

// arrayPos names one element of one array of the event.
type arrayPos struct {
	array int32 // array number, unique within the event
	index int32 // element index
}

// Matches reports whether the event matches the pattern. It is the reference
// evaluator: written for clarity, it flattens the whole event and tries every
// combination of leaves, and is used to cross-check the Matcher.
func Matches(p *Pattern, event []byte) (bool, error) {
	root, err := parseJSON(event)
	if err != nil {
		return false, fmt.Errorf("%w: not valid JSON: %w", ErrEvent, err)
	}
	if root.kind != kindObject {
		return false, fmt.Errorf("%w: the event must be a JSON object, found %s", ErrEvent, root.kind)
	}
	var leaves []refLeaf
	arrays := int32(0)
	var walk func(v *jvalue, path string, top bool, trail []arrayPos)
	walk = func(v *jvalue, path string, top bool, trail []arrayPos) {
		switch v.kind {
		case kindObject:
			for _, m := range v.members {
				walk(m.value, joinPath(path, m.key, top), false, trail)
			}
		case kindArray:
			id := arrays
			arrays++
			for i, it := range v.items {
				t := append(trail[:len(trail):len(trail)], arrayPos{array: id, index: int32(i)})
				walk(it, path, false, t)
			}
		case kindString:
			leaves = append(leaves, refLeaf{path: path, val: value{kind: kindString, b: []byte(v.str)}, trail: trail})
		case kindNumber:
			leaves = append(leaves, refLeaf{path: path, val: numberValue([]byte(v.str)), trail: trail})
		default:
			leaves = append(leaves, refLeaf{path: path, val: value{kind: v.kind}, trail: trail})
		}
	}
	walk(root, "", true, nil)
	for _, c := range p.clauses {
		if clauseMatches(c, leaves) {
			return true, nil
		}
	}
	return false, nil
}

// clauseMatches looks for one leaf per field (or, for a field with
// exists:false, no leaf at all at its path) such that the leaves chosen are
// array-consistent.
func clauseMatches(c clause, leaves []refLeaf) bool {
	var chosen []*refLeaf
	var try func(i int) bool
	try = func(i int) bool {
		if i == len(c) {
			return true
		}
		f := &c[i]
		present := false
		for j := range leaves {
			l := &leaves[j]
			if l.path != f.path {
				continue
			}
			present = true
			if !anyCond(f.conds, l.val) || !consistentWithAll(l.trail, chosen) {
				continue
			}
			chosen = append(chosen, l)
			if try(i + 1) {
				return true
			}
			chosen = chosen[:len(chosen)-1]
		}
		if f.absent && !present {
			return try(i + 1)
		}
		return false
	}
	return try(0)
}

func anyCond(conds []cond, v value) bool {
	for i := range conds {
		if conds[i].matches(v) {
			return true
		}
	}
	return false
}

func consistentWithAll(t []arrayPos, chosen []*refLeaf) bool {
	for _, o := range chosen {
		if !consistent(t, o.trail) {
			return false
		}
	}
	return true
}

// consistent reports whether two leaves may be used together: wherever they
// lie in the same array, they lie in the same element of it.
func consistent(a, b []arrayPos) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i].array != b[i].array {
			return true
		}
		if a[i].index != b[i].index {
			return false
		}
	}
	return true
}
