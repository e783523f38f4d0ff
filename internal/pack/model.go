package pack

import (
	"sort"

	"github.com/bwc-project/bwc/internal/workflow"
)

// Set is a loaded tree of packs, with every item indexed by reference.
type Set struct {
	// Packs in reference order.
	Packs []*Pack `json:"packs"`

	packs    map[string]*Pack
	actions  map[string]*Action
	rules    map[string]*Rule
	sensors  map[string]*Sensor
	triggers map[string]*TriggerType
	policies map[string]*Policy
}

// Pack returns the pack with the reference ref, or nil.
func (s *Set) Pack(ref string) *Pack { return s.packs[ref] }

// Action returns the action with the reference ref (pack.name), or nil.
func (s *Set) Action(ref string) *Action { return s.actions[ref] }

// Rule returns the rule with the reference ref, or nil.
func (s *Set) Rule(ref string) *Rule { return s.rules[ref] }

// Sensor returns the sensor with the reference ref, or nil.
func (s *Set) Sensor(ref string) *Sensor { return s.sensors[ref] }

// TriggerType returns the trigger type with the reference ref, or nil.
func (s *Set) TriggerType(ref string) *TriggerType { return s.triggers[ref] }

// Policy returns the policy with the reference ref, or nil.
func (s *Set) Policy(ref string) *Policy { return s.policies[ref] }

// Actions returns every action of every pack, in reference order.
func (s *Set) Actions() []*Action { return sortedValues(s.actions) }

// Rules returns every rule of every pack, in reference order.
func (s *Set) Rules() []*Rule { return sortedValues(s.rules) }

// TriggerTypes returns every trigger type of every pack, in reference order.
func (s *Set) TriggerTypes() []*TriggerType { return sortedValues(s.triggers) }

// Sensors returns every sensor of every pack, in reference order.
func (s *Set) Sensors() []*Sensor { return sortedValues(s.sensors) }

// Refs returns every reference the set defines (packs and their items),
// sorted; used for "did you mean" suggestions.
func (s *Set) Refs() []string {
	var out []string
	for _, m := range []map[string]bool{keys(s.packs), keys(s.actions), keys(s.rules), keys(s.sensors), keys(s.triggers), keys(s.policies)} {
		for k := range m {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Pack is one pack: pack.yaml and everything under the pack's directory.
type Pack struct {
	Ref               string   `json:"ref"`
	Name              string   `json:"name"`
	Description       string   `json:"description,omitempty"`
	Version           string   `json:"version,omitempty"`
	Author            string   `json:"author,omitempty"`
	Email             string   `json:"email,omitempty"`
	Keywords          []string `json:"keywords,omitempty"`
	Contributors      []string `json:"contributors,omitempty"`
	Dependencies      []string `json:"dependencies,omitempty"`
	StackStormVersion string   `json:"stackstorm_version,omitempty"`
	// Dir is the pack's directory, as Pos.File paths start.
	Dir string `json:"dir"`
	Pos Pos    `json:"pos"`

	Actions      []*Action      `json:"actions"`
	Rules        []*Rule        `json:"rules"`
	Sensors      []*Sensor      `json:"sensors"`
	TriggerTypes []*TriggerType `json:"trigger_types"`
	Policies     []*Policy      `json:"policies"`
	// Config is config.schema.yaml as parameters, nil when the pack has
	// none; ConfigSchema is the same as a JSON Schema object.
	Config       []*Parameter   `json:"config,omitempty"`
	ConfigSchema map[string]any `json:"config_schema,omitempty"`
}

// Workflows counts the pack's actions of runner type workflow.
func (p *Pack) Workflows() int {
	n := 0
	for _, a := range p.Actions {
		if a.RunnerType == RunnerWorkflow {
			n++
		}
	}
	return n
}

// Action is an action: actions/<name>.yaml.
type Action struct {
	Ref         string `json:"ref"`
	Pack        string `json:"pack"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	RunnerType  string `json:"runner_type"`
	// EntryPoint is as written, relative to the pack's actions directory;
	// EntryPointPath is the file it names, as Pos.File paths are written
	// ("" when the action has no entry point).
	EntryPoint     string `json:"entry_point,omitempty"`
	EntryPointPath string `json:"entry_point_path,omitempty"`
	// Parameters are the action's own parameters, in file order.
	Parameters []*Parameter `json:"parameters"`
	// Effective are the parameters the action takes: its runner's
	// parameters overridden by the action's, then the action's own, in
	// that order. ParametersSchema is the same as a JSON Schema object.
	Effective        []*Parameter   `json:"effective_parameters"`
	ParametersSchema map[string]any `json:"parameters_schema"`
	OutputSchema     map[string]any `json:"output_schema,omitempty"`
	Notify           map[string]any `json:"notify,omitempty"`
	Tags             []Tag          `json:"tags,omitempty"`
	// Workflow is the parsed workflow of a workflow action, nil otherwise
	// or when it has errors.
	Workflow *workflow.Workflow `json:"-"`
	Pos      Pos                `json:"pos"`
}

// Param returns the effective parameter named name, or nil.
func (a *Action) Param(name string) *Parameter {
	for _, p := range a.Effective {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Parameter is one parameter of an action, a runner or a pack config: a JSON
// Schema property with st2's extras.
type Parameter struct {
	Name        string `json:"name"`
	Type        string `json:"type,omitempty"` // as written; several types joined with "|"
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	Default     any    `json:"default"`
	HasDefault  bool   `json:"has_default,omitempty"`
	Secret      bool   `json:"secret,omitempty"`
	Immutable   bool   `json:"immutable,omitempty"`
	Position    *int   `json:"position,omitempty"`
	Enum        []any  `json:"enum,omitempty"`
	// Schema is the property's JSON Schema (without st2's extras required,
	// secret, immutable and position).
	Schema map[string]any `json:"schema"`
	// Runner names the runner type the parameter comes from, when it is a
	// runner parameter (possibly overridden by the action).
	Runner string `json:"runner,omitempty"`
	Pos    Pos    `json:"pos"`
}

// Tag is an st2 tag: {name, value}.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// Rule is a rule: rules/<name>.yaml.
type Rule struct {
	Ref         string      `json:"ref"`
	Pack        string      `json:"pack"`
	Name        string      `json:"name"`
	Description string      `json:"description,omitempty"`
	Enabled     bool        `json:"enabled"`
	Tags        []Tag       `json:"tags,omitempty"`
	Trigger     RuleTrigger `json:"trigger"`
	// Criteria in file order.
	Criteria []Criterion `json:"criteria"`
	Action   RuleAction  `json:"action"`
	Pos      Pos         `json:"pos"`
}

// RuleTrigger is the trigger a rule listens to.
type RuleTrigger struct {
	Type       string         `json:"type"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Pos        Pos            `json:"pos"`
}

// Criterion is one st2 criterion, `key: {type, pattern}`.
type Criterion struct {
	Key string `json:"key"`
	// Type is the operator as written (any st2 name or alias).
	Type    string `json:"type"`
	Pattern any    `json:"pattern"`
	// Condition is the search operator's condition (any, all, any2any,
	// all2any), "" otherwise.
	Condition string `json:"condition,omitempty"`
	Pos       Pos    `json:"pos"`
}

// RuleAction is the action a rule runs and its parameters (templates).
type RuleAction struct {
	Ref        string         `json:"ref"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Pos        Pos            `json:"pos"`
}

// Sensor is a sensor: sensors/<name>.yaml, declaring the trigger types it
// emits. A sensor without an entry point declares trigger types emitted from
// outside the pack: by the engine (core's timers, webhooks and execution
// triggers), by AWS services, or by other systems through core.inject_trigger.
type Sensor struct {
	Ref            string `json:"ref"`
	Pack           string `json:"pack"`
	Name           string `json:"name"` // st2's class_name
	Description    string `json:"description,omitempty"`
	Enabled        bool   `json:"enabled"`
	EntryPoint     string `json:"entry_point,omitempty"`
	EntryPointPath string `json:"entry_point_path,omitempty"`
	// PollInterval is in seconds; 0 when the sensor does not poll.
	PollInterval int      `json:"poll_interval,omitempty"`
	TriggerTypes []string `json:"trigger_types"`
	Pos          Pos      `json:"pos"`
}

// TriggerType is a trigger type a sensor declares.
type TriggerType struct {
	Ref              string         `json:"ref"`
	Pack             string         `json:"pack"`
	Name             string         `json:"name"`
	Description      string         `json:"description,omitempty"`
	ParametersSchema map[string]any `json:"parameters_schema,omitempty"`
	PayloadSchema    map[string]any `json:"payload_schema,omitempty"`
	Tags             []Tag          `json:"tags,omitempty"`
	Sensor           string         `json:"sensor"`
	Pos              Pos            `json:"pos"`
}

// Policy is an action policy: policies/<name>.yaml.
type Policy struct {
	Ref         string         `json:"ref"`
	Pack        string         `json:"pack"`
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Enabled     bool           `json:"enabled"`
	ResourceRef string         `json:"resource_ref"`
	PolicyType  string         `json:"policy_type"`
	Parameters  map[string]any `json:"parameters,omitempty"`
	Pos         Pos            `json:"pos"`
}

func keys[V any](m map[string]V) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}
