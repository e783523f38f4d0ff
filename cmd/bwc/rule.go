package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/rule"
)

func newRuleCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rule",
		Short: "Explain and test rules",
		Long: `Commands that show what a rule compiles to and test it against trigger
instances, without running anything.`,
	}
	cmd.AddCommand(newRuleExplainCmd(), newRuleTestCmd(), newRuleCompileCmd())
	return cmd
}

func newRuleExplainCmd() *cobra.Command {
	var dirs []string
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "explain <ref> | --all [--packs DIR]... [--json]",
		Short: "Show the event pattern, the residual condition, the parameter templates and the AWS path of a rule",
		Long: `Show what a rule compiles to: the EventBridge event pattern that selects its
events on the bus, which criteria that pattern decides exactly ("bus"), which it
only narrows ("bus+residual") and which only the enforcer checks ("residual"),
the residual JSONata condition, the action's parameter templates, and whether
the rule needs the enforcer (a residual, or $kv/$secret/$config in its
parameters), and the path its events take on AWS, with the reason:

  enforcer  the EventBridge rule invokes the enforcer function, which checks
            the residual, renders the parameters, records the enforcement and
            starts the state machine;
  direct    EventBridge starts the rule's direct machine, which records the
            enforcement in DynamoDB and starts the state machine, its input
            copied from the event by an input transformer (shown): the rule
            has no residual, and its parameters are constants or plain paths
            into the event.

This is the decision the CDK stack makes (docs/deploy.md, "Rules: enforcer or
direct") and bwc cost prices.

Flags:
  --all         instead of one rule, a table of every rule: its AWS path, state
                machine and the reason.
  --packs DIR   a directory of packs (repeatable; default "packs"). The core
                pack is part of it.
  --json        print JSON: the compiled rule (the compiled rule set's entry)
                with "aws": {"path", "reason", "machine", "input_paths",
                "input_template"}; with --all, a list of {"rule", "enabled",
                "aws"}.

Exit codes: 0 shown; 1 the rule does not exist or does not compile; 2 the packs
cannot be loaded, or no rule (or a rule and --all) given.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if all {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadCompiled(cmd, dirs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if all {
				paths, err := rulePaths(c)
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSON(out, paths)
				}
				return writeRulePaths(out, paths)
			}
			cr, err := findRule(c, args[0])
			if err != nil {
				return err
			}
			path, err := c.RulePath(cr)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(out, struct {
					*rule.Compiled
					AWS content.AWSPath `json:"aws"`
				}{cr, path})
			}
			return explainRule(out, cr, path)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "show the AWS path of every rule")
	cmd.Flags().StringArrayVar(&dirs, "packs", nil, "a directory of packs (repeatable; default packs)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// rulePath is one row of `bwc rule explain --all`.
type rulePath struct {
	Rule    string          `json:"rule"`
	Enabled bool            `json:"enabled"`
	AWS     content.AWSPath `json:"aws"`
}

// rulePaths decides the AWS path of every compiled rule, sorted by
// reference.
func rulePaths(c *content.Compiled) ([]rulePath, error) {
	out := []rulePath{}
	for _, cr := range c.Rules.Rules {
		p, err := c.RulePath(cr)
		if err != nil {
			return nil, err
		}
		out = append(out, rulePath{Rule: cr.Ref, Enabled: cr.Enabled, AWS: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rule < out[j].Rule })
	return out, nil
}

func rulePathName(p rulePath) string {
	if !p.Enabled {
		return p.Rule + " (disabled)"
	}
	return p.Rule
}

// writeRulePaths writes the table of `bwc rule explain --all`.
func writeRulePaths(w io.Writer, paths []rulePath) error {
	var b strings.Builder
	width := [3]int{len("RULE"), len("PATH"), len("STATE MACHINE")}
	for _, p := range paths {
		width[0] = max(width[0], len(rulePathName(p)))
		width[1] = max(width[1], len(p.AWS.Path))
		width[2] = max(width[2], len(p.AWS.Machine))
	}
	fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %s\n", width[0], "RULE", width[1], "PATH", width[2], "STATE MACHINE", "WHY")
	for _, p := range paths {
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %s\n", width[0], rulePathName(p), width[1], p.AWS.Path, width[2], p.AWS.Machine, p.AWS.Reason)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the table: %w", err)
	}
	return nil
}

func newRuleCompileCmd() *cobra.Command {
	var dirs []string
	cmd := &cobra.Command{
		Use:   "compile [--packs DIR]...",
		Short: "Print the compiled rule set as JSON",
		Long: `Print the compiled rule set of the packs as JSON: for every rule, its event
pattern, residual condition, criteria plan and parameter templates. This is
what the enforcer and the CDK app consume; the output is deterministic (rules
sorted by reference, keys sorted).

Flags:
  --packs DIR   a directory of packs (repeatable; default "packs").

Exit codes: 0 printed; 1 some rule does not compile (diagnostics on stderr,
the rules that compiled on stdout); 2 the packs cannot be loaded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := loadCompiled(cmd, dirs)
			if err != nil {
				return err
			}
			b, err := c.Rules.MarshalIndent()
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(b); err != nil {
				return fmt.Errorf("writing the rule set: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "packs", nil, "a directory of packs (repeatable; default packs)")
	return cmd
}

func newRuleTestCmd() *cobra.Command {
	var dirs []string
	var instanceArg, configArg string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "test <ref|rule.yaml> --trigger-instance FILE [--packs DIR]... [--config FILE] [--json]",
		Short: "Test whether a rule matches a trigger instance, and why",
		Long: `Test a rule against a trigger instance, as st2-rule-tester does: say whether
it matches, show each criterion's answer and where it was decided (the event
pattern on the bus, or the enforcer's residual condition), and, on a match,
the action parameters the enforcer would render. Nothing is run or recorded.

The rule is a reference (pack.name) or the path of a rule file inside one of
the pack directories. The trigger instance file is JSON:

  {"trigger": "<trigger type ref>", "payload": {...},
   "trigger_parameters": {...}}   (optional)

Without "trigger_parameters", the instance is taken to carry the rule's own
trigger parameters (a webhook's url, a timer's schedule), as st2-rule-tester
does. $config() reads the rule's pack configuration: the defaults of the pack's
config.schema.yaml, overridden by --config. $kv() and $secret() are not
available here: a rule that needs them reports an error for the criterion or
parameter that calls them.

Flags:
  --trigger-instance FILE   the trigger instance ("-" reads stdin).
  --packs DIR               a directory of packs (repeatable; default "packs").
  --config FILE             the pack configuration (YAML or JSON object).
  --json                    print the outcome as JSON.

Exit codes: 0 the rule matches; 1 it does not; 2 the rule, the packs or the
trigger instance cannot be loaded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if instanceArg == "" {
				return &exitError{code: 2, msg: "bwc: --trigger-instance is required"}
			}
			c, err := loadCompiled(cmd, dirs)
			if err != nil {
				return err
			}
			cr, err := findRule(c, args[0])
			if err != nil {
				var ee *exitError
				if asExit(err, &ee) && ee.code == 1 {
					ee.code = 2
				}
				return err
			}
			inst, err := readTriggerInstance(cmd.InOrStdin(), instanceArg)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			config, err := packConfig(c, cr.Pack, configArg)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			res, err := testRule(cmd.Context(), cr, inst, config)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = writeJSON(out, res)
			} else {
				err = printRuleTest(out, res)
			}
			if err != nil {
				return err
			}
			if !res.Matched {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&instanceArg, "trigger-instance", "", "the trigger instance file (- reads stdin)")
	cmd.Flags().StringVar(&configArg, "config", "", "the pack configuration file (YAML or JSON)")
	cmd.Flags().StringArrayVar(&dirs, "packs", nil, "a directory of packs (repeatable; default packs)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// findRule finds a compiled rule by reference or by the path of its file.
func findRule(c *content.Compiled, arg string) (*rule.Compiled, error) {
	if cr, ok := c.Rules.Get(arg); ok {
		return cr, nil
	}
	if strings.HasSuffix(arg, ".yaml") || strings.HasSuffix(arg, ".yml") || strings.ContainsRune(arg, filepath.Separator) {
		want := filepath.Clean(arg)
		for _, cr := range c.Rules.Rules {
			if filepath.Clean(filepath.FromSlash(cr.Pos.File)) == want {
				return cr, nil
			}
		}
		if _, err := os.Stat(arg); err != nil {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: rule file %s: %v", arg, err)}
		}
		return nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: rule file %s is not in the loaded packs (or does not compile): pass the directory that holds its pack with --packs", arg)}
	}
	if r := c.Packs.Rule(arg); r != nil {
		return nil, &exitError{code: 1, msg: fmt.Sprintf("bwc: rule %s does not compile (see bwc pack validate)", arg)}
	}
	var refs []string
	for _, cr := range c.Rules.Rules {
		refs = append(refs, cr.Ref)
	}
	return nil, &exitError{code: 1, msg: fmt.Sprintf("bwc: rule %s does not exist%s", arg, didYouMean(arg, refs))}
}

func explainRule(w io.Writer, cr *rule.Compiled, path content.AWSPath) error {
	var b strings.Builder
	state := "enabled"
	if !cr.Enabled {
		state = "disabled"
	}
	fmt.Fprintf(&b, "rule %s (%s), %s\n", cr.Ref, cr.Pos, state)
	fmt.Fprintf(&b, "trigger: %s", cr.Trigger.Type)
	if len(cr.Trigger.Parameters) > 0 {
		p, _ := json.Marshal(cr.Trigger.Parameters)
		fmt.Fprintf(&b, " %s", p)
	}
	fmt.Fprintf(&b, "\naction: %s\n\n", cr.Action.Ref)

	b.WriteString("event pattern (EventBridge; decides on the bus):\n")
	b.WriteString(indentJSON(cr.Pattern, "  "))
	b.WriteString("\n\ncriteria:\n")
	if len(cr.Criteria) == 0 {
		b.WriteString("  (none: every event of the trigger type matches)\n")
	}
	for _, cp := range cr.Criteria {
		pat, _ := json.Marshal(cp.Pattern)
		op := cp.Op
		if cp.Condition != "" {
			op += " (" + cp.Condition + ")"
		}
		fmt.Fprintf(&b, "  %-13s %s %s %s\n", "["+cp.Where+"]", cp.Key, op, pat)
		if cp.Note != "" {
			fmt.Fprintf(&b, "                %s\n", cp.Note)
		}
	}
	b.WriteString("\nresidual condition (JSONata; checked by the enforcer):\n")
	if cr.Residual == "" {
		b.WriteString("  none: the pattern decides everything\n")
	} else {
		fmt.Fprintf(&b, "  %s\n", cr.Residual)
	}
	b.WriteString("\naction parameters (JSONata templates over $trigger, $event, $rule):\n")
	if len(cr.Action.Parameters) == 0 {
		b.WriteString("  none\n")
	} else {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		_ = enc.Encode(cr.Action.Parameters)
		fmt.Fprintf(&b, "  %s", buf.String())
	}
	b.WriteString("\nenforcer: ")
	if cr.NeedsEnforcer() {
		b.WriteString("needed (a residual condition, or parameters that call $kv, $secret or $config)\n")
	} else {
		b.WriteString("not needed for a condition or for $kv, $secret, $config\n")
	}
	fmt.Fprintf(&b, "\non AWS: %s, because %s\n", path.Path, path.Reason)
	if path.Path == content.PathDirect {
		fmt.Fprintf(&b, "  EventBridge starts state machine %s, which records the enforcement and starts state machine %s with the input\n    %s\n",
			path.DirectMachine, path.Machine, path.InputTemplate)
		names := make([]string, 0, len(path.InputPaths))
		for n := range path.InputPaths {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "    <%s> = %s\n", n, path.InputPaths[n])
		}
	} else {
		fmt.Fprintf(&b, "  EventBridge invokes the enforcer function, which starts state machine %s\n", path.Machine)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the explanation: %w", err)
	}
	return nil
}

// triggerInstance is st2-rule-tester's trigger instance file.
type triggerInstance struct {
	Trigger           string         `json:"trigger"`
	Payload           map[string]any `json:"payload"`
	TriggerParameters map[string]any `json:"trigger_parameters,omitempty"`
	ID                string         `json:"id,omitempty"`
}

func readTriggerInstance(stdin io.Reader, arg string) (*triggerInstance, error) {
	var src []byte
	var err error
	if arg == "-" {
		src, err = io.ReadAll(stdin)
	} else {
		src, err = os.ReadFile(arg)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the trigger instance: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(src, &fields); err != nil {
		found := "invalid JSON (" + err.Error() + ")"
		if json.Valid(src) {
			found = jsonKind(src)
		}
		return nil, fmt.Errorf("trigger instance %s: found %s, expected {\"trigger\": \"<type ref>\", \"payload\": {...}}", arg, found)
	}
	var inst triggerInstance
	for name, raw := range fields {
		var dst any
		want := "a string"
		switch name {
		case "trigger":
			dst = &inst.Trigger
		case "id":
			dst = &inst.ID
		case "payload":
			dst, want = &inst.Payload, "an object"
		case "trigger_parameters":
			dst, want = &inst.TriggerParameters, "an object"
		default:
			return nil, fmt.Errorf("trigger instance %s: /%s: unknown field: expected trigger, payload, trigger_parameters or id", arg, name)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, fmt.Errorf("trigger instance %s: /%s: found %s, expected %s", arg, name, jsonKind(raw), want)
		}
	}
	if inst.Trigger == "" {
		return nil, fmt.Errorf("trigger instance %s: \"trigger\" is missing: expected the trigger type's reference, e.g. core.webhook", arg)
	}
	if inst.Payload == nil {
		inst.Payload = map[string]any{}
	}
	return &inst, nil
}

// ruleTest is the outcome of `bwc rule test`.
type ruleTest struct {
	Rule        string `json:"rule"`
	Matched     bool   `json:"matched"`
	TriggerType struct {
		Want string `json:"want"`
		Got  string `json:"got"`
		OK   bool   `json:"ok"`
	} `json:"trigger_type"`
	TriggerParametersOK bool           `json:"trigger_parameters_ok"`
	Criteria            []rule.Outcome `json:"criteria"`
	Pattern             bool           `json:"pattern"`
	Residual            *bool          `json:"residual,omitempty"`
	Error               string         `json:"error,omitempty"`
	Parameters          map[string]any `json:"parameters,omitempty"`
}

// packConfig is a pack's configuration for $config(): the defaults of its
// config.schema.yaml, overridden by the file at path (if any).
func packConfig(c *content.Compiled, packRef, path string) (map[string]any, error) {
	config := map[string]any{}
	if p := c.Packs.Pack(packRef); p != nil {
		for _, param := range p.Config {
			if param.HasDefault {
				config[param.Name] = param.Default
			}
		}
	}
	if path == "" {
		return config, nil
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the pack configuration: %w", err)
	}
	var file map[string]any
	if err := yaml.Unmarshal(src, &file); err != nil {
		return nil, fmt.Errorf("pack configuration %s: %w (expected a mapping of config keys to values)", path, err)
	}
	for k, v := range file {
		config[k] = v
	}
	return config, nil
}

func testRule(ctx context.Context, cr *rule.Compiled, inst *triggerInstance, config map[string]any) (*ruleTest, error) {
	ev, err := rule.NewEvaluator(cr, rule.Functions{
		Config: func(_ context.Context, _, key string) (any, error) {
			v, ok := config[key]
			if !ok {
				return nil, fmt.Errorf("$config(%q): the pack configuration has no such key and config.schema.yaml gives no default (pass --config)", key)
			}
			return v, nil
		},
	})
	if err != nil {
		return nil, err
	}
	params := inst.TriggerParameters
	if params == nil && inst.Trigger == cr.Trigger.Type {
		params = cr.Trigger.Parameters
	}
	id := inst.ID
	if id == "" {
		id = "rule-test"
	}
	env := rule.NewEnvelope(id, inst.Trigger, params, inst.Payload, "rule-test", time.Now())
	res := &ruleTest{Rule: cr.Ref}
	res.TriggerType.Want, res.TriggerType.Got = cr.Trigger.Type, inst.Trigger
	res.TriggerType.OK = cr.Trigger.Type == inst.Trigger
	res.TriggerParametersOK = triggerParamsMatch(cr.Trigger.Parameters, params)
	raw, err := env.JSON()
	if err != nil {
		return nil, fmt.Errorf("encoding the event: %w", err)
	}
	if res.Pattern, err = ev.MatchesPattern(raw); err != nil {
		return nil, err
	}
	if res.Criteria, err = ev.Explain(ctx, env); err != nil {
		return nil, err
	}
	if cr.Residual != "" && res.Pattern {
		ok, err := ev.CheckResidual(ctx, env)
		if err != nil {
			res.Error = err.Error()
		}
		res.Residual = &ok
	}
	res.Matched = res.Pattern && (res.Residual == nil || *res.Residual)
	if res.Matched {
		p, err := ev.Render(ctx, env)
		if err != nil {
			res.Error = fmt.Sprintf("rendering the action parameters: %v", err)
		} else {
			res.Parameters = p
		}
	}
	return res, nil
}

func triggerParamsMatch(want, got map[string]any) bool {
	for k, v := range want {
		a, _ := json.Marshal(v)
		b, _ := json.Marshal(got[k])
		if !bytes.Equal(a, b) {
			return false
		}
	}
	return true
}

func printRuleTest(w io.Writer, res *ruleTest) error {
	var b strings.Builder
	verdict := "MATCH"
	if !res.Matched {
		verdict = "NO MATCH"
	}
	fmt.Fprintf(&b, "%s: %s\n", res.Rule, verdict)
	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "✗"
	}
	fmt.Fprintf(&b, "  %s trigger type %s", mark(res.TriggerType.OK), res.TriggerType.Got)
	if !res.TriggerType.OK {
		fmt.Fprintf(&b, " (the rule listens to %s)", res.TriggerType.Want)
	}
	b.WriteString("\n")
	if !res.TriggerParametersOK {
		b.WriteString("  ✗ trigger parameters differ from the rule's\n")
	}
	for _, o := range res.Criteria {
		pat, _ := json.Marshal(o.Criterion.Pattern)
		fmt.Fprintf(&b, "  %s %s %s %s  [%s]", mark(o.Matched), o.Criterion.Key, o.Criterion.Op, pat, o.Criterion.Where)
		if o.Error != "" {
			fmt.Fprintf(&b, " error: %s", o.Error)
		}
		b.WriteString("\n")
	}
	if res.Error != "" {
		fmt.Fprintf(&b, "  error: %s\n", res.Error)
	}
	if res.Matched && res.Parameters != nil {
		keys := make([]string, 0, len(res.Parameters))
		for k := range res.Parameters {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString("action parameters:\n")
		for _, k := range keys {
			v, _ := json.Marshal(res.Parameters[k])
			fmt.Fprintf(&b, "  %s: %s\n", k, v)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the result: %w", err)
	}
	return nil
}

func indentJSON(raw []byte, prefix string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, prefix, "  "); err != nil {
		return prefix + string(raw)
	}
	return prefix + buf.String()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind(raw json.RawMessage) string {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return "nothing"
	}
	switch t[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
