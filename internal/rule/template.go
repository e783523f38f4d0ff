package rule

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// A template is a parameter value. Strings written "{% expr %}" are JSONata;
// strings with st2-style "{{ path }}" tags are translated to JSONata; any
// other value is a literal. Compiled templates keep the structure of the
// value and hold JSONata only in "{% ... %}" strings, the convention of Step
// Functions' JSONata mode.

type paramError struct {
	field string
	msg   string
}

// compileParameters translates every template in params.
func compileParameters(params map[string]any, field string) (map[string]any, []paramError) {
	out := map[string]any{}
	var errs []paramError
	for _, k := range sortedKeys(params) {
		v, es := compileValue(normalize(params[k]), field+"."+k)
		out[k] = v
		errs = append(errs, es...)
	}
	return out, errs
}

func compileValue(v any, field string) (any, []paramError) {
	switch x := v.(type) {
	case string:
		s, err := TranslateTemplate(x)
		if err != nil {
			return x, []paramError{{field: field, msg: err.Error()}}
		}
		return s, nil
	case []any:
		out := make([]any, len(x))
		var errs []paramError
		for i, e := range x {
			var es []paramError
			out[i], es = compileValue(e, field+"["+strconv.Itoa(i)+"]")
			errs = append(errs, es...)
		}
		return out, errs
	case map[string]any:
		out := make(map[string]any, len(x))
		var errs []paramError
		for _, k := range sortedKeys(x) {
			var es []paramError
			out[k], es = compileValue(x[k], field+"."+k)
			errs = append(errs, es...)
		}
		return out, errs
	}
	return v, nil
}

// walkTemplates calls fn with the expression of every "{% ... %}" string in v.
func walkTemplates(v any, fn func(expr string)) {
	switch x := v.(type) {
	case string:
		if expr, ok := TemplateExpr(x); ok {
			fn(expr)
		}
	case []any:
		for _, e := range x {
			walkTemplates(e, fn)
		}
	case map[string]any:
		for _, e := range x {
			walkTemplates(e, fn)
		}
	}
}

// TemplateExpr returns the JSONata expression of a "{% ... %}" string.
func TemplateExpr(s string) (string, bool) {
	t := strings.TrimSpace(s)
	if len(t) >= 4 && strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") {
		return strings.TrimSpace(t[2 : len(t)-2]), true
	}
	return "", false
}

var jinjaTag = regexp.MustCompile(`\{\{(.*?)\}\}`)

// TranslateTemplate returns s unchanged when it holds no template, as is when
// it is a JSONata template "{% ... %}", and translated to JSONata when it uses
// st2's "{{ ... }}" tags as a plain path (the value keeps its type) or as
// string interpolation (the result is a string). Any other Jinja is an error
// that shows the JSONata to write instead, where it can.
func TranslateTemplate(s string) (string, error) {
	if _, ok := TemplateExpr(s); ok {
		return s, nil
	}
	if strings.Contains(s, "{%") {
		return "", fmt.Errorf("%q: a JSONata template must be the whole value, written \"{%% expr %%}\"; for text around it, concatenate: \"{%% 'text ' & expr %%}\"", s)
	}
	tags := jinjaTag.FindAllStringSubmatchIndex(s, -1)
	if len(tags) == 0 {
		if strings.Contains(s, "{{") {
			return "", fmt.Errorf("%q: unterminated {{ tag", s)
		}
		return s, nil
	}
	// A whole-value plain path keeps the type of the value it names.
	if len(tags) == 1 && strings.TrimSpace(s[:tags[0][0]]) == "" && strings.TrimSpace(s[tags[0][1]:]) == "" {
		inner := s[tags[0][2]:tags[0][3]]
		expr, err := jinjaPath(inner)
		if err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
		return "{% " + expr + " %}", nil
	}
	var parts []string
	last := 0
	for _, t := range tags {
		if t[0] > last {
			parts = append(parts, lit(s[last:t[0]]))
		}
		expr, err := jinjaPath(s[t[2]:t[3]])
		if err != nil {
			return "", fmt.Errorf("%q: %w", s, err)
		}
		parts = append(parts, "$string("+expr+")")
		last = t[1]
	}
	if last < len(s) {
		parts = append(parts, lit(s[last:]))
	}
	if strings.Contains(strings.Join(parts, ""), "{{") {
		return "", fmt.Errorf("%q: unterminated {{ tag", s)
	}
	return "{% " + strings.Join(parts, " & ") + " %}", nil
}

var jinjaFilters = map[string]string{
	"upper":            "$uppercase(%s)",
	"lower":            "$lowercase(%s)",
	"trim":             "$trim(%s)",
	"string":           "$string(%s)",
	"int":              "$floor($number(%s))",
	"float":            "$number(%s)",
	"to_json_string":   "$string(%s)",
	"json_dump":        "$string(%s)",
	"length":           "$count(%s)",
	"from_json_string": "$parse(%s)",
}

// jinjaPath translates the inside of a {{ }} tag when it is a plain path.
func jinjaPath(inner string) (string, error) {
	in := strings.TrimSpace(inner)
	if pipe := strings.IndexByte(in, '|'); pipe >= 0 {
		base, err := jinjaPath(in[:pipe])
		filter := strings.TrimSpace(in[pipe+1:])
		name := filter
		if i := strings.IndexAny(name, "( |"); i >= 0 {
			name = name[:i]
		}
		if f, ok := jinjaFilters[name]; ok && err == nil && !strings.Contains(filter, "|") {
			return "", fmt.Errorf("filters (Jinja) are not supported; write JSONata instead: \"{%% %s %%}\"", fmt.Sprintf(f, base))
		}
		return "", fmt.Errorf("filters (Jinja) are not supported; write the value as a JSONata template \"{%% ... %%}\" (see docs/rules.md)")
	}
	root, rest := in, ""
	if i := strings.IndexAny(in, ".["); i >= 0 {
		root, rest = in[:i], in[i:]
	}
	switch root {
	case "trigger":
		if rest == "" {
			return "$trigger", nil
		}
		segs, err := parseKey(in, "trigger")
		if err != nil {
			return "", notPlain(in)
		}
		return "$trigger" + jsonataPath(segs), nil
	case "st2kv", "config_context":
		segs, err := parseKey(in, root)
		if err != nil {
			return "", notPlain(in)
		}
		if root == "config_context" {
			if segs[0].IsIndex {
				return "", notPlain(in)
			}
			return "$config(" + lit(segs[0].Name) + ")" + jsonataPath(segs[1:]), nil
		}
		if len(segs) < 2 || segs[0].IsIndex || segs[1].IsIndex || (segs[0].Name != "system" && segs[0].Name != "user") {
			return "", fmt.Errorf("%q: a datastore reference is st2kv.system.<key> or st2kv.user.<key>", in)
		}
		return "$kv(" + lit(segs[0].Name) + ", " + lit(segs[1].Name) + ")" + jsonataPath(segs[2:]), nil
	}
	return "", notPlain(in)
}

func notPlain(in string) error {
	return fmt.Errorf("{{ %s }} is not a plain path (trigger.<field>..., st2kv.system.<key>, config_context.<key>): write the value as a JSONata template \"{%% ... %%}\" over $trigger, $event, $rule, $kv(), $secret() and $config()", in)
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func jsonataPath(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.IsIndex {
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
			continue
		}
		b.WriteByte('.')
		if identRE.MatchString(s.Name) {
			b.WriteString(s.Name)
		} else {
			b.WriteString("`" + strings.ReplaceAll(s.Name, "`", "") + "`")
		}
	}
	return b.String()
}
