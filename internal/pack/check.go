package pack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/spell"
)

var refRE = regexp.MustCompile(`^[a-z0-9_]+\.[A-Za-z0-9_][A-Za-z0-9_-]*$`)

// add indexes a pack and its items, reporting references defined twice.
func (l *loader) add(p *Pack) {
	if first := l.set.packs[p.Ref]; first != nil {
		l.diag(p.Pos, "ref", "pack %s is defined twice: first in %s, again in %s; expected each pack once", p.Ref, first.Dir, p.Dir)
		return
	}
	l.set.packs[p.Ref] = p
	l.set.Packs = append(l.set.Packs, p)
	twice := func(kind, ref string, first, again Pos) {
		l.diag(again, "name", "%s %s is defined twice: first at %s; expected each name once in a pack", kind, ref, first)
	}
	p.Actions = dedupe(p.Actions, l.set.actions, func(a *Action) (string, Pos) { return a.Ref, a.Pos }, func(a, b *Action) { twice("action", a.Ref, a.Pos, b.Pos) })
	p.Rules = dedupe(p.Rules, l.set.rules, func(r *Rule) (string, Pos) { return r.Ref, r.Pos }, func(a, b *Rule) { twice("rule", a.Ref, a.Pos, b.Pos) })
	p.Sensors = dedupe(p.Sensors, l.set.sensors, func(s *Sensor) (string, Pos) { return s.Ref, s.Pos }, func(a, b *Sensor) { twice("sensor", a.Ref, a.Pos, b.Pos) })
	p.TriggerTypes = dedupe(p.TriggerTypes, l.set.triggers, func(t *TriggerType) (string, Pos) { return t.Ref, t.Pos }, func(a, b *TriggerType) { twice("trigger type", a.Ref, a.Pos, b.Pos) })
	p.Policies = dedupe(p.Policies, l.set.policies, func(t *Policy) (string, Pos) { return t.Ref, t.Pos }, func(a, b *Policy) { twice("policy", a.Ref, a.Pos, b.Pos) })
}

func dedupe[T any](items []T, index map[string]T, ref func(T) (string, Pos), report func(first, again T)) []T {
	out := items[:0]
	for _, it := range items {
		r, _ := ref(it)
		if first, dup := index[r]; dup {
			report(first, it)
			continue
		}
		index[r] = it
		out = append(out, it)
	}
	return out
}

// check runs the checks across packs: references between items.
func (l *loader) check() {
	l.checkWebhookSignatures()
	for _, p := range l.set.Packs {
		for _, d := range l.packDeps[p] {
			dep := strings.TrimSpace(strings.SplitN(d.val.Value, "=", 2)[0])
			if packRefRE.MatchString(dep) && l.set.packs[dep] == nil {
				f := &file{l: l, path: p.Pos.File}
				f.errorf(d.val, "dependencies", "pack %q is not among the loaded packs%s: expected it next to %s", dep, spell.Suggest(dep, sortedKeys(l.set.packs)), p.Ref)
			}
		}
		for _, r := range p.Rules {
			l.checkRule(r)
		}
		for _, a := range p.Actions {
			if l.workflowNodes[a] != nil {
				l.checkWorkflow(a)
			}
		}
		for _, pol := range p.Policies {
			if pol.ResourceRef != "" && l.set.actions[pol.ResourceRef] == nil {
				l.diag(pol.Pos, "resource_ref", "%s", l.missingRef("action", pol.ResourceRef, sortedKeys(l.set.actions)))
			}
		}
	}
}

// checkWebhookSignatures reports core.webhook rules on one url that
// declare different signatures (or one a signature and the other none):
// the signature authenticates requests to the url, whichever rules they
// then match.
func (l *loader) checkWebhookSignatures() {
	type first struct {
		r        *Rule
		sig, key string
	}
	byURL := map[string]first{}
	for _, p := range l.set.Packs {
		for _, r := range p.Rules {
			if r.Trigger.Type != webhookTrigger {
				continue
			}
			u, ok := r.Trigger.Parameters["url"].(string)
			if !ok {
				continue // reported by the parameters_schema
			}
			u = strings.Trim(strings.TrimSpace(u), "/")
			sig, key := "no signature (the API key)", ""
			if v, ok := r.Trigger.Parameters[webhookSignature]; ok {
				sig = "signature " + jsonText(v)
				b, _ := json.Marshal(v) // map keys sorted: a canonical form
				key = string(b)
			}
			f, seen := byURL[u]
			if !seen {
				byURL[u] = first{r, sig, key}
				continue
			}
			if f.key == key {
				continue
			}
			n := l.node(r)
			at := n.triggerParams
			if k := keyNode(n.triggerParams, webhookSignature); k != nil {
				at = k
			}
			msg := fmt.Sprintf("rule %s declares %s for webhook %q, but rule %s (%s) declares %s: expected every rule on one webhook url to declare the same signature", r.Ref, sig, u, f.r.Ref, f.r.Pos, f.sig)
			if at == nil {
				l.diag(r.Pos, "trigger.parameters.signature", "%s", msg)
				continue
			}
			(&file{l: l, path: r.Pos.File}).errorf(at, "trigger.parameters.signature", "%s", msg)
		}
	}
}

// webhookTrigger is the built-in webhook trigger type, and webhookSignature
// its parameter declaring how requests are signed.
const (
	webhookTrigger   = "core.webhook"
	webhookSignature = "signature"
)

// missingRef says that a reference names nothing, with a suggestion.
func (l *loader) missingRef(kind, ref string, refs []string) string {
	if !refRE.MatchString(ref) {
		return fmt.Sprintf("found %q, expected an %s reference <pack>.<name>%s", ref, kind, spell.Suggest(ref, refs))
	}
	return fmt.Sprintf("%s %s does not exist%s", kind, ref, spell.Suggest(ref, refs))
}

func (l *loader) checkRule(r *Rule) {
	f := &file{l: l, path: r.Pos.File}
	n := l.node(r)
	if t := r.Trigger.Type; t != "" {
		tt := l.set.triggers[t]
		switch {
		case tt != nil:
			l.checkTriggerParams(f, r, tt, n)
		default:
			msg := l.missingRef("trigger type", t, sortedKeys(l.set.triggers))
			if refRE.MatchString(t) {
				msg += ": expected a trigger type declared by a sensor (sensors/*.yaml trigger_types)"
			}
			f.errorf(n.triggerType, "trigger.type", "%s", msg)
		}
	}
	if ref := r.Action.Ref; ref != "" {
		a := l.set.actions[ref]
		if a == nil {
			f.errorf(n.actionRef, "action.ref", "%s", l.missingRef("action", ref, sortedKeys(l.set.actions)))
			return
		}
		posOf := func(key string) Pos {
			if n.actionParams != nil {
				return f.pos(keyNode(n.actionParams, key))
			}
			return r.Action.Pos
		}
		l.checkCall(a, r.Action.Parameters, "action.parameters", r.Action.Pos, posOf, "rule "+r.Ref)
	}
}

func (l *loader) checkTriggerParams(f *file, r *Rule, tt *TriggerType, n *ruleNodes) {
	at := n.triggerParams
	if at == nil {
		at = n.triggerType
	}
	if tt.ParametersSchema == nil {
		if len(r.Trigger.Parameters) > 0 {
			f.errorf(at, "trigger.parameters", "trigger type %s takes no parameters: expected none", tt.Ref)
		}
		return
	}
	sch, probs := compileSchema(tt.ParametersSchema)
	if probs != nil {
		return // reported on the trigger type
	}
	v := any(r.Trigger.Parameters)
	if r.Trigger.Parameters == nil {
		v = map[string]any{}
	}
	for _, pr := range validateValue(sch, v) {
		field := "trigger.parameters"
		if len(pr.Tokens) > 0 {
			field += "." + strings.Join(pr.Tokens, ".")
		}
		f.errorf(nodeAt(at, pr.Tokens), field, "%s (parameters_schema of %s)", pr.Msg, tt.Ref)
	}
}

// checkCall checks the parameters a rule or a workflow task passes to an
// action: every name is a parameter of the action, none is immutable,
// literal values satisfy the parameter's schema, and required parameters
// without a default are given.
func (l *loader) checkCall(a *Action, params map[string]any, field string, at Pos, posOf func(string) Pos, caller string) {
	var names []string
	for _, p := range a.Effective {
		names = append(names, p.Name)
	}
	for _, k := range sortedKeys(params) {
		p := a.Param(k)
		kf := field + "." + k
		if p == nil {
			l.diag(posOf(k), kf, "action %s has no parameter %q%s: expected one of %s", a.Ref, k, spell.Suggest(k, names), fmtList(names))
			continue
		}
		if p.Immutable {
			l.diag(posOf(k), kf, "parameter %s of %s is immutable (its value is fixed by the action): expected no value for it in %s", k, a.Ref, caller)
			continue
		}
		v := params[k]
		if hasTemplate(v) {
			continue
		}
		sch := l.schemaOf(p)
		if sch == nil {
			continue
		}
		for _, pr := range validateValue(sch, normalize(v)) {
			ptr := ""
			if s := pr.pointer(); s != "" {
				ptr = " at " + s
			}
			l.diag(posOf(k), kf, "the value %s does not satisfy parameter %s of %s%s: %s", jsonText(v), k, a.Ref, ptr, pr.Msg)
		}
	}
	for _, p := range a.Effective {
		if !p.Required || p.HasDefault {
			continue
		}
		if _, given := params[p.Name]; !given {
			l.diag(at, field, "missing required parameter %s of %s (it has no default): expected %s to give it", p.Name, a.Ref, caller)
		}
	}
}

// schemaOf returns a parameter's compiled schema, or nil when it does not
// compile (reported where the parameter is defined).
func (l *loader) schemaOf(p *Parameter) *jsonschema.Schema {
	if s, ok := l.compiled[p]; ok {
		return s
	}
	s, probs := compileSchema(p.Schema)
	if probs != nil {
		s = nil
	}
	l.compiled[p] = s
	return s
}

func (l *loader) checkWorkflow(a *Action) {
	l.checkTasks(a)
	w := a.Workflow
	if w == nil {
		return // the workflow has errors, reported by workflow.Parse
	}
	// The action's parameters are the workflow's input.
	declared := map[string]bool{}
	for _, p := range a.Parameters {
		declared[p.Name] = true
	}
	inputs := map[string]bool{}
	for _, in := range w.Input {
		inputs[in.Name] = true
		if !in.HasDefault && !declared[in.Name] {
			l.diag(Pos{File: in.Pos.File, Line: in.Pos.Line, Col: in.Pos.Col}, "input."+in.Name, "input %s has no default and action %s declares no parameter %s: expected a parameter for it in %s", in.Name, a.Ref, in.Name, a.Pos.File)
		}
	}
	for _, p := range a.Parameters {
		if !inputs[p.Name] {
			l.diag(p.Pos, "parameters."+p.Name, "parameter %s is not an input of the workflow %s: expected it in the workflow's input list", p.Name, a.EntryPointPath)
		}
	}
}

// checkTasks checks the action and input of each task of a workflow action,
// from the workflow file's YAML, so that it runs even when the workflow has
// other errors.
func (l *loader) checkTasks(a *Action) {
	f, root := l.workflows[a], l.workflowNodes[a]
	if root == nil || root.Kind != yaml.MappingNode {
		return
	}
	tasks := resolve(nodeAt(root, []string{"tasks"}))
	if tasks == root || tasks.Kind != yaml.MappingNode {
		return
	}
	refs := sortedKeys(l.set.actions)
	for i := 0; i+1 < len(tasks.Content); i += 2 {
		name, body := tasks.Content[i].Value, resolve(tasks.Content[i+1])
		if body.Kind != yaml.MappingNode {
			continue
		}
		field := "tasks." + name
		actionNode := keyNode(body, "action")
		if actionNode == body {
			continue
		}
		an := nodeAt(body, []string{"action"})
		if an.Kind != yaml.ScalarNode || an.Value == "" {
			continue
		}
		target := l.set.actions[an.Value]
		if target == nil {
			f.errorf(an, field+".action", "%s", l.missingRef("action", an.Value, refs))
			continue
		}
		var input map[string]any
		inputNode := keyNode(body, "input")
		in := body
		if inputNode != body {
			in = nodeAt(body, []string{"input"})
			if in.Kind != yaml.MappingNode {
				continue // reported by workflow.Parse
			}
			input, _ = f.value(in, field+".input").(map[string]any)
		}
		posOf := func(k string) Pos {
			if in != body {
				return f.pos(keyNode(in, k))
			}
			return f.pos(tasks.Content[i])
		}
		l.checkCall(target, input, field+".input", f.pos(tasks.Content[i]), posOf, "task "+name+" of workflow "+a.Ref)
	}
}
