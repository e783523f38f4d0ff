package rule

import (
	"reflect"
	"regexp"
	"strings"
	"time"
)

// This file is an independent reference for StackStorm's criteria
// semantics, written for clarity from st2common/operators.py and the rule
// filter: the payload value is looked up field by field (a missing field is
// Python's None, as is JSON null), the operator is applied to Python values,
// and an operator that raises does not match. BWC's documented deviations
// (booleans are not numbers; lists and objects are not ordered) are the only
// differences from Python.

type pyVal = any

func st2Lookup(root any, segs []segment) (any, bool) {
	cur := root
	for _, s := range segs {
		if s.IsIndex {
			l, ok := cur.([]any)
			if !ok || s.Index >= len(l) {
				return nil, false
			}
			cur = l[s.Index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		v, ok := m[s.Name]
		if !ok {
			return nil, false
		}
		cur = v
	}
	return cur, true
}

func pyEq(a, b pyVal) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case nil:
		return b == nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !pyEq(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !pyEq(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

func pyHashable(v pyVal) bool {
	switch v.(type) {
	case []any, map[string]any:
		return false
	}
	return true
}

// pyIn is Python's `needle in hay`; ok is false when Python raises.
func pyIn(needle, hay pyVal) (in, ok bool) {
	switch h := hay.(type) {
	case string:
		n, isStr := needle.(string)
		if !isStr {
			return false, false
		}
		return strings.Contains(h, n), true
	case []any:
		for _, e := range h {
			if pyEq(e, needle) {
				return true, true
			}
		}
		return false, true
	case map[string]any:
		if !pyHashable(needle) {
			return false, false
		}
		n, isStr := needle.(string)
		if !isStr {
			return false, true
		}
		_, has := h[n]
		return has, true
	}
	return false, false
}

func st2Op(op string, v pyVal, p pyVal, cond string, now time.Time) bool {
	sv, vIsStr := v.(string)
	sp, pIsStr := p.(string)
	bothStr := vIsStr && pIsStr
	switch op {
	case OpEquals:
		return p != nil && pyEq(v, p)
	case OpNEquals:
		return !pyEq(v, p)
	case OpIEquals:
		// st2 compares str.lower() of both sides, which is not Unicode
		// case folding.
		lv, lp := strings.ToLower(sv), strings.ToLower(sp)
		return p != nil && bothStr && lv == lp
	case OpContains:
		if p == nil {
			return false
		}
		in, ok := pyIn(p, v)
		return ok && in
	case OpNContains:
		if p == nil {
			return false
		}
		in, ok := pyIn(p, v)
		return ok && !in
	case OpIContains:
		return p != nil && bothStr && strings.Contains(strings.ToLower(sv), strings.ToLower(sp))
	case OpINContains:
		return p != nil && bothStr && !strings.Contains(strings.ToLower(sv), strings.ToLower(sp))
	case OpStartsWith:
		return bothStr && strings.HasPrefix(sv, sp)
	case OpIStartsWith:
		return bothStr && strings.HasPrefix(strings.ToLower(sv), strings.ToLower(sp))
	case OpEndsWith:
		return bothStr && strings.HasSuffix(sv, sp)
	case OpIEndsWith:
		return bothStr && strings.HasSuffix(strings.ToLower(sv), strings.ToLower(sp))
	case OpLessThan, OpGreaterThan:
		less := op == OpLessThan
		if a, ok := v.(float64); ok {
			if b, ok := p.(float64); ok {
				if less {
					return a < b
				}
				return a > b
			}
		}
		if bothStr {
			if less {
				return sv < sp
			}
			return sv > sp
		}
		return false
	case OpWildcard:
		return bothStr && fnmatchRef(sv, sp)
	case OpRegex, OpIRegex, OpMatchRegex:
		if !bothStr {
			return false
		}
		src := sp
		switch op {
		case OpIRegex:
			src = "(?i)" + src
		case OpMatchRegex:
			src = `(?s)\A(?:` + src + ")"
		}
		re, err := regexp.Compile(src)
		return err == nil && re.MatchString(sv)
	case OpTimediffLT, OpTimediffGT:
		n, ok := p.(float64)
		if !ok || !vIsStr {
			return false
		}
		t, err := time.Parse(time.RFC3339Nano, sv)
		if err != nil {
			return false
		}
		d := now.Sub(t).Seconds()
		if op == OpTimediffLT {
			return d < n
		}
		return d > n
	case OpExists:
		return v != nil
	case OpNExists:
		return v == nil
	case OpInside:
		if p == nil {
			return false
		}
		in, ok := pyIn(v, p)
		return ok && in
	case OpNInside:
		if p == nil {
			return false
		}
		in, ok := pyIn(v, p)
		return ok && !in
	case OpSearch:
		list, ok := v.([]any)
		if !ok {
			return false
		}
		children, _ := p.(map[string]any)
		itemMatches := func(item any, any2 bool) bool {
			for _, key := range sortedKeys(children) {
				spec, _ := children[key].(map[string]any)
				segs, err := parseKey(key, "item")
				if err != nil {
					return false
				}
				cop, _ := CanonicalOp(spec["type"].(string))
				cv, _ := st2Lookup(item, segs)
				sub, _ := spec["condition"].(string)
				r := st2Op(cop, cv, normalize(spec["pattern"]), sub, now)
				if any2 && r {
					return true
				}
				if !any2 && !r {
					return false
				}
			}
			return !any2
		}
		count := 0
		any2 := cond == SearchAny2Any || cond == SearchAll2Any
		for _, item := range list {
			if itemMatches(item, any2) {
				count++
			}
		}
		switch cond {
		case SearchAny, SearchAny2Any:
			return count > 0
		case SearchAll, SearchAll2Any:
			return count == len(list)
		}
	}
	return false
}

// st2Match applies every criterion of a rule to a payload, as st2 does.
func st2Match(payload map[string]any, criteria []Criterion, now time.Time) bool {
	for _, c := range criteria {
		op, ok := CanonicalOp(c.Op)
		if !ok {
			return false
		}
		segs, err := parseKey(c.Key, "trigger")
		if err != nil {
			return false
		}
		v, _ := st2Lookup(payload, segs)
		if !st2Op(op, v, normalize(c.Pattern), c.Condition, now) {
			return false
		}
	}
	return true
}

// fnmatchRef is a direct backtracking implementation of Python's fnmatch
// (case-sensitive, `*` and `?` match any character including newlines).
func fnmatchRef(name, pat string) bool {
	n, p := []rune(name), []rune(pat)
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for j < len(p) {
			switch p[j] {
			case '*':
				for k := i; k <= len(n); k++ {
					if match(k, j+1) {
						return true
					}
				}
				return false
			case '?':
				if i >= len(n) {
					return false
				}
				i++
				j++
			case '[':
				end := -1
				k := j + 1
				if k < len(p) && p[k] == '!' {
					k++
				}
				if k < len(p) && p[k] == ']' {
					k++
				}
				for ; k < len(p); k++ {
					if p[k] == ']' {
						end = k
						break
					}
				}
				if end < 0 {
					if i >= len(n) || n[i] != '[' {
						return false
					}
					i++
					j++
					continue
				}
				if i >= len(n) {
					return false
				}
				body := p[j+1 : end]
				neg := len(body) > 0 && body[0] == '!'
				if neg {
					body = body[1:]
				}
				hit := false
				for b := 0; b < len(body); b++ {
					if b+2 < len(body) && body[b+1] == '-' {
						if n[i] >= body[b] && n[i] <= body[b+2] {
							hit = true
						}
						b += 2
						continue
					}
					if n[i] == body[b] {
						hit = true
					}
				}
				if hit == neg {
					return false
				}
				i++
				j = end + 1
			default:
				if i >= len(n) || n[i] != p[j] {
					return false
				}
				i++
				j++
			}
		}
		return i == len(n)
	}
	return match(0, 0)
}
