package runner

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// scriptArgs builds a script's arguments the way st2's shell runners do:
// named arguments first, as kwargOp+name=value sorted by name (true booleans
// as a bare kwargOp+name flag; false, null and "" left out), then the
// parameters that have a position, in increasing position, serialised by
// their declared type (booleans as 1/0, arrays comma-joined, objects as JSON,
// null as ""). Runner parameters are not arguments.
func scriptArgs(req *Request, kwargOp string) []string {
	type positional struct {
		pos  int
		name string
	}
	var pos []positional
	var named []string
	for name := range req.Parameters {
		if isRunnerParam(req.Action.RunnerType, name) {
			continue
		}
		if info, ok := req.Action.Parameters[name]; ok && info.Position != nil {
			continue
		}
		named = append(named, name)
	}
	for name, info := range req.Action.Parameters {
		if info.Position != nil && !isRunnerParam(req.Action.RunnerType, name) {
			pos = append(pos, positional{*info.Position, name})
		}
	}
	sort.Strings(named)
	sort.Slice(pos, func(i, j int) bool {
		if pos[i].pos != pos[j].pos {
			return pos[i].pos < pos[j].pos
		}
		return pos[i].name < pos[j].name
	})
	var args []string
	for _, name := range named {
		v := req.Parameters[name]
		switch x := v.(type) {
		case nil:
			continue
		case string:
			if x == "" {
				continue
			}
		case bool:
			if x {
				args = append(args, kwargOp+name)
			}
			continue
		}
		args = append(args, kwargOp+name+"="+namedValue(v))
	}
	for _, p := range pos {
		args = append(args, positionalValue(req.Action.Parameters[p.name].Type, req.Parameters[p.name]))
	}
	return args
}

// namedValue renders a named argument's value: strings as they are, numbers
// in Go's shortest form, arrays and objects as JSON (st2 would print Python's
// repr; JSON is what a script can parse).
func namedValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case int, int64, int32, uint, uint64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// positionalValue is st2's serialize_positional_argument.
func positionalValue(typ string, v any) string {
	if v == nil {
		return ""
	}
	switch typ {
	case "boolean":
		if b, ok := v.(bool); ok {
			if b {
				return "1"
			}
			return "0"
		}
	case "array", "list":
		if list, ok := v.([]any); ok {
			parts := make([]string, len(list))
			for i, e := range list {
				parts[i] = namedValue(e)
			}
			return strings.Join(parts, ",")
		}
	case "object":
		b, err := json.Marshal(v)
		if err == nil {
			if string(b) == "{}" {
				return ""
			}
			return string(b)
		}
	}
	return namedValue(v)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := func(r rune) bool {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("@%+=:,./-_", r)
	}
	if strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
