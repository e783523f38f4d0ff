package pack

import (
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/rule"

	"github.com/bwc-project/bwc/internal/spell"
)

var ruleFields = []string{"name", "pack", "description", "enabled", "trigger", "criteria", "action", "tags", "type"}

func (l *loader) loadRules(src source, dir string, p *Pack) {
	for _, rel := range l.metaFiles(src, path.Join(dir, "rules")) {
		f, root := l.readMeta(src, rel, "a mapping with name, trigger, criteria and action")
		if root == nil {
			continue
		}
		m := f.fields(root, "", ruleFields)
		r := &Rule{Pack: p.Ref, Pos: f.pos(root), Enabled: f.enabled(m, false)}
		r.Name = f.itemName(m, root, p, "name")
		if r.Name != "" {
			r.Ref = p.Ref + "." + r.Name
			if e, ok := m.get("name"); ok {
				r.Pos = f.pos(e.key)
			}
		}
		if e, ok := m.get("description"); ok {
			r.Description, _ = f.str(e, "description")
		}
		r.Tags = f.tags(m)
		if e, ok := m.get("type"); ok {
			f.ruleType(e)
		}
		if e, ok := m.get("trigger"); ok {
			r.Trigger.Pos = f.pos(e.key)
			if e.val.Kind != yaml.MappingNode {
				f.errorf(e.val, "trigger", "found %s, expected a mapping with type and parameters", describe(e.val))
			} else {
				tm := f.fields(e.val, "trigger", []string{"type", "parameters"})
				if te, ok := tm.get("type"); ok {
					r.Trigger.Type, _ = f.str(te, "trigger.type")
					if bwc := st2TriggerName(r.Trigger.Type); bwc != "" {
						// st2's name of a built-in trigger type: the same trigger.
						r.Trigger.Type = bwc
					}
					l.node(r).triggerType = te.val
				} else {
					f.errorf(e.val, "trigger.type", "missing: expected a trigger type reference such as core.webhook")
				}
				if pe, ok := tm.get("parameters"); ok {
					r.Trigger.Parameters, _ = f.object(pe, "trigger.parameters")
					l.node(r).triggerParams = pe.val
				}
			}
		} else {
			f.errorf(root, "trigger", "missing: expected {type: <trigger type>, parameters: {...}}")
		}
		if e, ok := m.get("criteria"); ok {
			r.Criteria = f.criteria(e)
		}
		if e, ok := m.get("action"); ok {
			r.Action.Pos = f.pos(e.key)
			if e.val.Kind != yaml.MappingNode {
				f.errorf(e.val, "action", "found %s, expected a mapping with ref and parameters", describe(e.val))
			} else {
				am := f.fields(e.val, "action", []string{"ref", "parameters"})
				if re, ok := am.get("ref"); ok {
					r.Action.Ref, _ = f.str(re, "action.ref")
					l.node(r).actionRef = re.val
				} else {
					f.errorf(e.val, "action.ref", "missing: expected an action reference such as core.local")
				}
				if pe, ok := am.get("parameters"); ok {
					r.Action.Parameters, _ = f.object(pe, "action.parameters")
					l.node(r).actionParams = pe.val
				}
			}
		} else {
			f.errorf(root, "action", "missing: expected {ref: <action>, parameters: {...}}")
		}
		if r.Ref != "" {
			p.Rules = append(p.Rules, r)
		}
	}
}

func (f *file) ruleType(e entry) {
	if e.val.Kind != yaml.MappingNode {
		f.errorf(e.val, "type", "found %s, expected {ref: standard}", describe(e.val))
		return
	}
	tm := f.fields(e.val, "type", []string{"ref", "parameters"})
	if re, ok := tm.get("ref"); ok {
		if s, ok := f.str(re, "type.ref"); ok && s != "standard" {
			if s == "backstop" {
				f.errorf(re.val, "type.ref", "backstop rules are not supported by BWC: expected standard")
			} else {
				f.errorf(re.val, "type.ref", "found %q, expected standard", s)
			}
		}
	}
}

// criteria reads st2 criteria, in file order.
func (f *file) criteria(e entry) []Criterion {
	n := e.val
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n, "criteria", "found %s, expected a mapping of payload keys to {type, pattern}", describe(n))
		return nil
	}
	m := f.fields(n, "criteria", nil)
	var out []Criterion
	for _, key := range m.order {
		ce := m.fields[key]
		field := "criteria." + key
		c := Criterion{Key: key, Pos: f.pos(ce.key)}
		if !keyHasRoot(key, "trigger") {
			f.errorf(ce.key, field, "found the key %q, expected a key into the payload starting with trigger. (e.g. trigger.body.status)", key)
		}
		if f.criterion(ce, field, &c, false) {
			out = append(out, c)
		}
	}
	return out
}

// criterion reads {type, pattern, condition}. inSearch is true inside a
// search pattern, whose keys start with item.
func (f *file) criterion(ce entry, field string, c *Criterion, inSearch bool) bool {
	if ce.val.Kind != yaml.MappingNode {
		f.errorf(ce.val, field, "found %s, expected {type: <operator>, pattern: <value>}", describe(ce.val))
		return false
	}
	allowed := []string{"type", "pattern", "condition"}
	if inSearch {
		allowed = []string{"type", "pattern"}
	}
	cm := f.fields(ce.val, field, allowed)
	op := ""
	if te, ok := cm.get("type"); ok {
		if s, ok := f.str(te, field+".type"); ok {
			c.Type = s
			canon, known := rule.CanonicalOp(s)
			if !known {
				f.errorf(te.val, field+".type", "unknown operator %q%s: expected one of %s", s, spell.Suggest(s, rule.OperatorNames()), strings.Join(rule.OperatorNames(), ", "))
			}
			op = canon
		}
	} else {
		f.errorf(ce.val, field+".type", "missing: expected an operator such as equals, contains, regex or exists")
	}
	pe, hasPattern := cm.get("pattern")
	if hasPattern {
		c.Pattern = f.value(pe.val, field+".pattern")
	} else if op != "" && op != rule.OpExists && op != rule.OpNExists {
		f.errorf(ce.val, field+".pattern", "missing: operator %s needs a pattern", c.Type)
	}
	if ce2, ok := cm.get("condition"); ok {
		if s, ok := f.str(ce2, field+".condition"); ok {
			c.Condition = s
			switch {
			case op != "" && op != rule.OpSearch:
				f.errorf(ce2.val, field+".condition", "found a condition on operator %s: expected a condition only with search", c.Type)
			case s != rule.SearchAny && s != rule.SearchAll && s != rule.SearchAny2Any && s != rule.SearchAll2Any:
				f.errorf(ce2.val, field+".condition", "found %q%s, expected any, all, any2any or all2any", s, spell.Suggest(s, []string{"any", "all", "any2any", "all2any"}))
			}
		}
	} else if op == rule.OpSearch {
		f.errorf(ce.val, field+".condition", "missing: search needs a condition: any, all, any2any or all2any")
	}
	if op == rule.OpSearch && hasPattern && !inSearch {
		f.searchPattern(pe, field+".pattern")
	}
	return true
}

// searchPattern checks the child criteria of a search.
func (f *file) searchPattern(pe entry, field string) {
	if pe.val.Kind != yaml.MappingNode {
		f.errorf(pe.val, field, "found %s, expected child criteria {item.<key>: {type, pattern}}", describe(pe.val))
		return
	}
	m := f.fields(pe.val, field, nil)
	for _, key := range m.order {
		ce := m.fields[key]
		cf := field + "." + key
		if !keyHasRoot(key, "item") {
			f.errorf(ce.key, cf, "found the key %q, expected a key into each list item starting with item. (e.g. item.name)", key)
		}
		var c Criterion
		f.criterion(ce, cf, &c, true)
	}
}

func keyHasRoot(key, root string) bool {
	return strings.HasPrefix(key, root+".") || strings.HasPrefix(key, root+"[")
}

// st2TriggerName returns BWC's name of a built-in trigger type written with
// st2's name (core.st2.webhook is core.webhook), or "".
func st2TriggerName(ref string) string {
	switch ref {
	case "core.st2.generic.actiontrigger":
		return "core.actiontrigger"
	case "core.st2.generic.inquiry":
		return "core.inquiry"
	case "core.st2.IntervalTimer", "core.st2.CronTimer", "core.st2.DateTimer", "core.st2.webhook":
		return "core." + strings.TrimPrefix(ref, "core.st2.")
	}
	return ""
}

func fmtList(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

// ruleNodes are the YAML nodes of a rule the cross-reference checks point
// into.
type ruleNodes struct {
	triggerType, triggerParams, actionRef, actionParams *yaml.Node
}

func (l *loader) node(r *Rule) *ruleNodes {
	n := l.rules[r]
	if n == nil {
		n = &ruleNodes{}
		l.rules[r] = n
	}
	return n
}
