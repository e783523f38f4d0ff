package content

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/workflow"
)

// How a rule's matched events reach their execution on AWS (the CDK stack's
// EventBridge rule target).
const (
	// PathEnforcer: the EventBridge rule invokes the enforcer Lambda, which
	// checks the residual, renders the parameters, records the enforcement
	// and starts the state machine with the enforcement's execution id.
	PathEnforcer = "enforcer"
	// PathDirect: EventBridge starts the rule's direct machine
	// (DirectMachineRef), its input built by an input transformer from the
	// event; the direct machine records the enforcement and starts the
	// state machine that runs the action.
	PathDirect = "direct"
)

// DirectMachineRef is the reference of the state machine a direct rule's
// EventBridge target starts: it records the enforcement with Step
// Functions' DynamoDB integration, then starts the rule's Machine
// (internal/aws/direct generates it).
func DirectMachineRef(ruleRef string) string { return ruleRef + ".direct" }

// DirectTarget is the input transformer of a direct rule's EventBridge
// target, which starts DirectMachine: the event's id, trigger instance id
// and trace tag (which the enforcement ids and record are made from; a BWC
// event's id is its trigger instance id, an AWS service event has only the
// former) and, as input, the input of the rule's Machine (p.InputTemplate).
// It returns nothing for an enforcer path.
func (p AWSPath) DirectTarget() (paths map[string]string, template string) {
	if p.Path != PathDirect {
		return nil, ""
	}
	paths = map[string]string{"event_id": "$.id", "trigger_instance_id": "$.detail.trigger_instance_id", "trace_tag": "$.detail.trace_tag"}
	for k, v := range p.InputPaths {
		paths[k] = v
	}
	return paths, `{"event_id":<event_id>,"trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>,"input":` + p.InputTemplate + `}`
}

// AWSPath is the AWS path of one rule: which target its EventBridge rule
// has, why, which state machine the execution runs and, for a direct
// target, the input transformer.
type AWSPath struct {
	// Path is PathEnforcer or PathDirect; Reason says why, in a phrase that
	// follows "because".
	Path   string `json:"path"`
	Reason string `json:"reason"`
	// Machine is the reference of the state machine the execution runs: the
	// workflow's or hand-written asl action's own (Compiled.HasMachine), or
	// ActionMachineRef for any other action.
	Machine string `json:"machine"`
	// DirectMachine is, for a direct path, the state machine EventBridge
	// starts (DirectMachineRef), which records the enforcement and starts
	// Machine.
	DirectMachine string `json:"direct_machine,omitempty"`
	// InputPaths and InputTemplate are, for a direct path, how the input
	// of Machine is built from the event (placeholder name -> JSON path
	// into the event; the template), as an EventBridge input transformer;
	// DirectTarget wraps them into the input of DirectMachine.
	InputPaths    map[string]string `json:"input_paths,omitempty"`
	InputTemplate string            `json:"input_template,omitempty"`
}

// RulePath decides the AWS path of a compiled rule. A rule goes direct when
// it needs nothing but the event: no residual condition, no $kv, $secret or
// $config in its parameters (rule.Compiled.NeedsEnforcer), and every
// parameter a constant or a plain path into the event ({% $trigger.a.b %},
// {% $event.x %}), which an EventBridge input transformer can copy. Any
// other JSONata keeps the enforcer, because an input transformer cannot
// evaluate it. machines are the compiled workflows by action reference.
//
// It is a pure function; the error is only for a parameter value that
// cannot be encoded as JSON.
func RulePath(r *rule.Compiled, machines map[string]*workflow.Machine) (AWSPath, error) {
	_, own := machines[r.Action.Ref]
	return rulePath(r, own)
}

// rulePath is RulePath for an action that runs on a state machine of its
// own (own: a workflow or a hand-written asl action, whose machine gets
// the parameters as its input) or on the action machine.
func rulePath(r *rule.Compiled, own bool) (AWSPath, error) {
	p := AWSPath{Path: PathEnforcer, Machine: ActionMachineRef}
	if own {
		p.Machine = r.Action.Ref
	}
	if r.Residual != "" {
		p.Reason = "the rule has a residual condition the bus cannot check"
		return p, nil
	}
	if fns := enforcerFunctions(r.Action.Parameters); len(fns) > 0 {
		p.Reason = "its parameters call " + strings.Join(fns, ", ") + ", which only the enforcer provides"
		return p, nil
	}
	paths, tmpl, err := directInput(r, own)
	if err != nil {
		var nt *notTransformable
		if errors.As(err, &nt) {
			p.Reason = nt.Error()
			return p, nil
		}
		return AWSPath{}, fmt.Errorf("deciding the AWS path of rule %s: %w", r.Ref, err)
	}
	p.Path, p.Reason = PathDirect, "its parameters need nothing but the event (constants and plain paths)"
	p.InputPaths, p.InputTemplate = paths, tmpl
	p.DirectMachine = DirectMachineRef(r.Ref)
	return p, nil
}

// enforcerFunctions lists, sorted, the enforcer-only functions the
// parameter templates call.
func enforcerFunctions(v any) []string {
	found := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		case string:
			for _, f := range []string{"$kv", "$secret", "$config"} {
				if strings.Contains(x, f+"(") {
					found[f] = true
				}
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(found))
	for f := range found {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// notTransformable: a parameter needs JSONata evaluation.
type notTransformable struct{ at string }

func (e *notTransformable) Error() string {
	return "parameter " + e.at + " needs JSONata evaluation, which an EventBridge input transformer cannot do"
}

// plainPath matches a template that is only a path into the payload or the
// envelope, which an EventBridge input transformer can copy.
var plainPath = regexp.MustCompile(`^\{%\s*\$(trigger|event)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*%\}$`)

// directInput builds the input transformer of a rule whose parameters are
// constants or plain paths: for an action with a machine of its own (a
// workflow, a hand-written asl action), its input is the parameters; for
// another action, the generic action machine's input {action, parameters,
// context}.
func directInput(r *rule.Compiled, ownMachine bool) (map[string]string, string, error) {
	t := &transformer{paths: map[string]string{}}
	params, err := t.value(r.Action.Parameters, "")
	if err != nil {
		return nil, "", err
	}
	if ownMachine {
		return t.paths, params, nil
	}
	t.paths["trigger_instance_id"] = "$.detail.trigger_instance_id"
	t.paths["trace_tag"] = "$.detail.trace_tag"
	action, err := json.Marshal(r.Action.Ref)
	if err != nil {
		return nil, "", fmt.Errorf("encoding action reference: %w", err)
	}
	ref, err := json.Marshal(r.Ref)
	if err != nil {
		return nil, "", fmt.Errorf("encoding rule reference: %w", err)
	}
	tmpl := fmt.Sprintf(`{"action":%s,"parameters":%s,"context":{"rule":%s,"trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>}}`, action, params, ref)
	return t.paths, tmpl, nil
}

type transformer struct {
	paths map[string]string
}

func (t *transformer) value(v any, at string) (string, error) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			kj, err := literal(k, at)
			if err != nil {
				return "", err
			}
			sub := k
			if at != "" {
				sub = at + "." + k
			}
			vj, err := t.value(x[k], sub)
			if err != nil {
				return "", err
			}
			parts = append(parts, kj+":"+vj)
		}
		return "{" + strings.Join(parts, ",") + "}", nil
	case []any:
		parts := make([]string, 0, len(x))
		for i, e := range x {
			ej, err := t.value(e, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return "", err
			}
			parts = append(parts, ej)
		}
		return "[" + strings.Join(parts, ",") + "]", nil
	case string:
		if m := plainPath.FindStringSubmatch(x); m != nil {
			path := "$" + m[2]
			if m[1] == "trigger" {
				path = "$.detail.payload" + m[2]
			}
			name := fmt.Sprintf("p%d", len(t.paths))
			t.paths[name] = path
			return "<" + name + ">", nil
		}
		if strings.Contains(x, "{%") {
			return "", &notTransformable{at: at}
		}
	}
	return literal(v, at)
}

// literal encodes a constant. encoding/json escapes '<' and '>' (as \u003c
// and \u003e), so no constant can read as an input template placeholder.
func literal(v any, at string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encoding parameter %s: %w", at, err)
	}
	return string(b), nil
}

// RulePath is the package's RulePath with what only the packs know: an
// action of HandWritten runs on its own state machine, as a workflow; a rule
// that sets a secret parameter of its action keeps the enforcer, which
// seals the value in the execution record, instead of sending it through
// the direct machine's input in clear.
func (c *Compiled) RulePath(r *rule.Compiled) (AWSPath, error) {
	p, err := rulePath(r, c.HasMachine(r.Action.Ref))
	if err != nil || p.Path != PathDirect || c.Packs == nil {
		return p, err
	}
	a := c.Packs.Action(r.Action.Ref)
	if a == nil {
		return p, nil
	}
	var secret []string
	for _, prm := range a.Effective {
		if _, set := r.Action.Parameters[prm.Name]; set && prm.Secret {
			secret = append(secret, prm.Name)
		}
	}
	if len(secret) == 0 {
		return p, nil
	}
	sort.Strings(secret)
	return AWSPath{
		Path: PathEnforcer, Machine: p.Machine,
		Reason: "it sets the secret parameter " + strings.Join(secret, ", ") + " of " + a.Ref + ", which only the enforcer seals",
	}, nil
}
