package asl

import (
	"fmt"
	"strings"
	"time"
)

var comparisonOps = map[string]string{ // operator → operand kind
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

func (p *parser) choice(s *State, obj map[string]any, jsonataMode bool) {
	arr, ok := obj["Choices"].([]any)
	if !ok || len(arr) == 0 {
		p.fail("Choices", "required: a non-empty array of choice rules")
		return
	}
	if d, ok := obj["Default"]; ok {
		ds, isStr := d.(string)
		if !isStr || ds == "" {
			p.fail("Default", "must be a state name")
		}
		s.Default = ds
	}
	for i, e := range arr {
		f := fmt.Sprintf("Choices/%d", i)
		r := p.choiceRule(f, e, jsonataMode, true)
		if r != nil {
			s.Choices = append(s.Choices, r)
		}
	}
}

func (p *parser) choiceRule(f string, v any, jsonataMode, top bool) *ChoiceRule {
	o, ok := v.(map[string]any)
	if !ok {
		p.fail(f, "a choice rule must be an object")
		return nil
	}
	r := &ChoiceRule{}
	if top {
		n, ok := o["Next"].(string)
		if !ok || n == "" {
			p.fail(f+"/Next", "required: the state to go to when the rule matches")
		}
		r.Next = n
		if a, ok := o["Assign"]; ok {
			r.Assign = p.assign(f+"/Assign", a, jsonataMode)
		}
		if out, ok := o["Output"]; ok {
			if !jsonataMode {
				p.fail(f+"/Output", "field Output is only supported by the JSONata query language")
			}
			r.Output, r.HasOutput = out, true
			p.jsonataTemplate(f+"/Output", out)
		}
	} else if _, ok := o["Next"]; ok {
		p.fail(f+"/Next", "a nested choice rule cannot have Next")
	}
	if jsonataMode {
		for _, k := range sortedKeys(o) {
			switch k {
			case "Condition", "Next", "Assign", "Output", "Comment":
			default:
				p.fail(f+"/"+k, "field %s is not allowed in a JSONata choice rule (use Condition)", k)
			}
		}
		c, ok := o["Condition"]
		if !ok {
			p.fail(f+"/Condition", "required: a JSONata expression that evaluates to a boolean")
			return r
		}
		switch x := c.(type) {
		case bool:
		case string:
			src, ok := jsonataSource(x)
			if !ok {
				p.fail(f+"/Condition", "must be a JSONata expression in {%% %%}, found %q", x)
			} else {
				p.compileJSONata(f+"/Condition", src)
			}
		default:
			p.fail(f+"/Condition", "must be a JSONata expression or a boolean, found %s", jsonTypeName(c))
		}
		r.Condition = c
		return r
	}
	n := 0
	for _, k := range sortedKeys(o) {
		switch k {
		case "Next", "Comment", "Variable", "Assign":
		case "And", "Or":
			n++
			list, ok := o[k].([]any)
			if !ok || len(list) == 0 {
				p.fail(f+"/"+k, "must be a non-empty array of choice rules")
				continue
			}
			for i, e := range list {
				sub := p.choiceRule(fmt.Sprintf("%s/%s/%d", f, k, i), e, jsonataMode, false)
				if sub == nil {
					continue
				}
				if k == "And" {
					r.And = append(r.And, sub)
				} else {
					r.Or = append(r.Or, sub)
				}
			}
		case "Not":
			n++
			r.Not = p.choiceRule(f+"/Not", o[k], jsonataMode, false)
		case "Condition", "Output":
			p.fail(f+"/"+k, "field %s is only supported by the JSONata query language", k)
		default:
			op := strings.TrimSuffix(k, "Path")
			kind, known := comparisonOps[op]
			if !known || (op != k && strings.HasPrefix(op, "Is")) || (op != k && op == "StringMatches") {
				p.fail(f+"/"+k, "unknown comparison operator %s", k)
				continue
			}
			n++
			r.Op = k
			r.Operand = o[k]
			if op != k {
				str, ok := o[k].(string)
				if !ok {
					p.fail(f+"/"+k, "must be a path")
				} else {
					p.compilePath(f+"/"+k, str)
				}
				continue
			}
			switch kind {
			case "string":
				if _, ok := o[k].(string); !ok {
					p.fail(f+"/"+k, "must be a string, found %s", jsonTypeName(o[k]))
				}
			case "number":
				if _, ok := o[k].(float64); !ok {
					p.fail(f+"/"+k, "must be a number, found %s", jsonTypeName(o[k]))
				}
			case "boolean":
				if _, ok := o[k].(bool); !ok {
					p.fail(f+"/"+k, "must be a boolean, found %s", jsonTypeName(o[k]))
				}
			case "timestamp":
				str, ok := o[k].(string)
				if !ok {
					p.fail(f+"/"+k, "must be a timestamp string, found %s", jsonTypeName(o[k]))
				} else if _, err := parseTimestamp(str); err != nil {
					p.fail(f+"/"+k, "must be an RFC 3339 timestamp, found %q", str)
				}
			}
		}
	}
	if n != 1 {
		p.fail(f, "a choice rule needs exactly one comparison operator or And/Or/Not, found %d", n)
	}
	if r.Op != "" {
		v, ok := o["Variable"].(string)
		if !ok {
			p.fail(f+"/Variable", "required: the path of the value to compare")
		} else {
			p.pathOrIntrinsic(f+"/Variable", v)
		}
		r.Variable = v
	} else if _, ok := o["Variable"]; ok {
		p.fail(f+"/Variable", "not allowed with And/Or/Not")
	}
	return r
}

// evalRule evaluates a JSONPath-mode choice rule against the state input.
func (x *run) evalRule(fr *frame, r *ChoiceRule, input any) (bool, error) {
	switch {
	case r.And != nil:
		for _, s := range r.And {
			ok, err := x.evalRule(fr, s, input)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, s := range r.Or {
			ok, err := x.evalRule(fr, s, input)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := x.evalRule(fr, r.Not, input)
		return !ok, err
	}
	val, present, err := x.refValue(fr, &r.variable, input, nil)
	if err != nil {
		return false, err
	}
	op := r.Op
	operand := r.Operand
	if strings.HasSuffix(op, "Path") {
		op = strings.TrimSuffix(op, "Path")
		v, ok, err := x.refValue(fr, &r.operand, input, nil)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", operand)}
		}
		operand = v
	}
	switch op {
	case "IsPresent":
		return present == operand.(bool), nil
	}
	if !present {
		return false, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("Invalid path '%s': The choice state's condition path references an invalid value.", r.Variable)}
	}
	switch op {
	case "IsNull":
		return (val == nil) == operand.(bool), nil
	case "IsNumeric":
		_, ok := val.(float64)
		return ok == operand.(bool), nil
	case "IsString":
		_, ok := val.(string)
		return ok == operand.(bool), nil
	case "IsBoolean":
		_, ok := val.(bool)
		return ok == operand.(bool), nil
	case "IsTimestamp":
		s, ok := val.(string)
		if ok {
			_, err := parseTimestamp(s)
			ok = err == nil
		}
		return ok == operand.(bool), nil
	case "BooleanEquals":
		b, ok := val.(bool)
		ob, ok2 := operand.(bool)
		return ok && ok2 && b == ob, nil
	case "StringMatches":
		s, ok := val.(string)
		return ok && wildcardMatch(operand.(string), s), nil
	}
	if strings.HasPrefix(op, "String") {
		a, ok := val.(string)
		b, ok2 := operand.(string)
		if !ok || !ok2 {
			return false, nil
		}
		return compareResult(op, "String", strings.Compare(a, b)), nil
	}
	if strings.HasPrefix(op, "Numeric") {
		a, ok := val.(float64)
		b, ok2 := operand.(float64)
		if !ok || !ok2 {
			return false, nil
		}
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return compareResult(op, "Numeric", c), nil
	}
	if strings.HasPrefix(op, "Timestamp") {
		as, ok := val.(string)
		bs, ok2 := operand.(string)
		if !ok || !ok2 {
			return false, nil
		}
		a, aok := timestampOf(as)
		b, bok := timestampOf(bs)
		if !aok || !bok {
			return false, nil
		}
		return compareResult(op, "Timestamp", a.Compare(b)), nil
	}
	return false, &Failure{Name: ErrRuntime, Cause: "unknown comparison operator " + op}
}

func compareResult(op, prefix string, c int) bool {
	switch strings.TrimPrefix(op, prefix) {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// wildcardMatch implements StringMatches: '*' matches any run of
// characters, '\*' a literal star, '\\' a backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		r    rune
	}
	var toks []tok
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		if rs[i] == '\\' && i+1 < len(rs) {
			i++
			toks = append(toks, tok{r: rs[i]})
			continue
		}
		toks = append(toks, tok{star: rs[i] == '*', r: rs[i]})
	}
	str := []rune(s)
	// iterative glob matching with backtracking on the last star
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].r == str[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			ti = starT + 1
			starS++
			si = starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}

// timestampOf parses a timestamp operand; a string that is not one
// compares false.
func timestampOf(s string) (time.Time, bool) {
	t, err := parseTimestamp(s)
	return t, err == nil
}

// parseTimestamp parses the RFC 3339 timestamps ASL accepts.
func parseTimestamp(s string) (time.Time, error) {
	if !strings.Contains(s, "T") {
		return time.Time{}, fmt.Errorf("timestamp %q: missing 'T'", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("timestamp %q: %w", s, err)
	}
	return t, nil
}
