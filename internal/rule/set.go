package rule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// Set is a compiled rule set: what the enforcer and the CDK app consume.
// Its JSON form is deterministic (rules sorted by reference, object keys
// sorted), so it can be committed and diffed.
type Set struct {
	Rules []*Compiled `json:"rules"`
}

// CompileSet compiles every rule. schemas holds the payload schema of each
// trigger type by reference (a missing entry means unknown). All errors of
// all rules are returned together as Errors, with the rules that compiled.
func CompileSet(rules []Rule, schemas map[string]map[string]any) (*Set, error) {
	set := &Set{}
	var errs Errors
	for _, r := range rules {
		c, err := Compile(r, schemas[r.Trigger.Type])
		if err != nil {
			var es Errors
			if errors.As(err, &es) {
				errs = append(errs, es...)
				continue
			}
			return nil, fmt.Errorf("compiling rule %s: %w", r.Ref, err)
		}
		set.Rules = append(set.Rules, c)
	}
	sort.Slice(set.Rules, func(i, j int) bool { return set.Rules[i].Ref < set.Rules[j].Ref })
	if len(errs) > 0 {
		return set, errs
	}
	return set, nil
}

// Get returns the compiled rule with the given reference.
func (s *Set) Get(ref string) (*Compiled, bool) {
	i := sort.Search(len(s.Rules), func(i int) bool { return s.Rules[i].Ref >= ref })
	if i < len(s.Rules) && s.Rules[i].Ref == ref {
		return s.Rules[i], true
	}
	return nil, false
}

// MarshalIndent returns the set as indented JSON with a trailing newline.
func (s *Set) MarshalIndent() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding rule set: %w", err)
	}
	return buf.Bytes(), nil
}
