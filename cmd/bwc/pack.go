package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/spell"
)

// packsDirDefault is where the pack commands look without arguments.
const packsDirDefault = "packs"

func newPackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pack",
		Short: "Validate, list and inspect packs",
		Long: `Commands for packs: folders in StackStorm's layout holding actions, rules,
sensors and their trigger types, workflows and policies (docs/packs.md).

A packs directory holds one directory per pack (each with a pack.yaml); a
directory that holds a pack.yaml itself is read as a single pack.`,
	}
	cmd.AddCommand(newPackValidateCmd(), newPackListCmd(), newPackShowCmd())
	return cmd
}

// packCheck loads the packs in dirs (default "packs") and returns them with
// every problem found, sorted by file, line and column. The error is for a
// directory that cannot be read at all.
func packCheck(dirs []string) (*pack.Set, pack.Diagnostics, error) {
	if len(dirs) == 0 {
		dirs = []string{packsDirDefault}
	}
	set, diags, err := pack.LoadDirs(dirs...)
	if err != nil {
		return nil, nil, err
	}
	// The compilers find what the loader cannot: invalid regular
	// expressions and templates, workflow graphs ASL cannot run. They run
	// on files the loader found no problem in (a file with loader problems
	// would mostly repeat them), like a compiler's later passes.
	_, cdiags := content.Compile(set)
	bad := map[string]bool{}
	for _, d := range diags {
		bad[d.Pos.File] = true
	}
	for _, d := range cdiags {
		if !bad[d.Pos.File] {
			diags = append(diags, d)
		}
	}
	return set, diags.Sort(), nil
}

// packSummary is one pack's line in validate and list.
type packSummary struct {
	Ref          string `json:"ref"`
	Version      string `json:"version"`
	Description  string `json:"description"`
	Dir          string `json:"dir"`
	Actions      int    `json:"actions"`
	Workflows    int    `json:"workflows"`
	Rules        int    `json:"rules"`
	Sensors      int    `json:"sensors"`
	TriggerTypes int    `json:"trigger_types"`
	Policies     int    `json:"policies"`
}

// packTotals sums the counts over the packs.
type packTotals struct {
	Packs        int `json:"packs"`
	Actions      int `json:"actions"`
	Workflows    int `json:"workflows"`
	Rules        int `json:"rules"`
	Sensors      int `json:"sensors"`
	TriggerTypes int `json:"trigger_types"`
	Policies     int `json:"policies"`
}

func summarizePacks(set *pack.Set) ([]packSummary, packTotals) {
	out := []packSummary{}
	total := packTotals{Packs: len(set.Packs)}
	for _, p := range set.Packs {
		s := packSummary{
			Ref: p.Ref, Version: p.Version, Description: p.Description, Dir: p.Dir,
			Actions: len(p.Actions), Workflows: p.Workflows(), Rules: len(p.Rules),
			Sensors: len(p.Sensors), TriggerTypes: len(p.TriggerTypes), Policies: len(p.Policies),
		}
		out = append(out, s)
		total.Actions += s.Actions
		total.Workflows += s.Workflows
		total.Rules += s.Rules
		total.Sensors += s.Sensors
		total.TriggerTypes += s.TriggerTypes
		total.Policies += s.Policies
	}
	return out, total
}

// packDiagnosticJSON is a diagnostic as --json prints it.
type packDiagnosticJSON struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Text    string `json:"text"`
}

func packDiagnosticsJSON(diags pack.Diagnostics) []packDiagnosticJSON {
	out := []packDiagnosticJSON{}
	for _, d := range diags {
		out = append(out, packDiagnosticJSON{File: d.Pos.File, Line: d.Pos.Line, Col: d.Pos.Col, Field: d.Field, Message: d.Message, Text: d.String()})
	}
	return out
}

func newPackValidateCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "validate [DIR]... [--json]",
		Short: "Validate packs and report every problem with its file, line and column",
		Long: `Validate the packs in each DIR (default "packs"): YAML syntax, unknown and
missing fields, references between packs (rule triggers and actions,
workflow task actions, policies), parameter schemas and their defaults,
runner types and parameters, entry points, criteria operators, and the
workflows. Every problem of every pack is reported, not only the first.

Output: on success, a table of the packs with their counts of actions,
workflows, rules, sensors, trigger types and policies, and a "valid:" line
with the totals. On problems, one line per problem, sorted by file:

  FILE:LINE:COL: FIELD: MESSAGE

then an "invalid:" line with the number of problems. With --json, one object:
{"valid", "packs": [{ref, version, description, dir, actions, workflows,
rules, sensors, trigger_types, policies}], "totals": {packs, actions,
workflows, rules, sensors, trigger_types, policies}, "diagnostics":
[{file, line, col, field, message, text}]}.

Exit codes: 0 the packs are valid; 1 there are problems; 2 a directory cannot
be read or bad flags.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, diags, err := packCheck(args)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			out := cmd.OutOrStdout()
			packs, total := summarizePacks(set)
			if asJSON {
				err = packWriteJSON(out, map[string]any{
					"valid": len(diags) == 0, "packs": packs, "totals": total, "diagnostics": packDiagnosticsJSON(diags),
				})
			} else if len(diags) > 0 {
				err = printPackDiagnostics(out, diags)
			} else {
				err = printPacksValid(out, packs, total)
			}
			if err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			if len(diags) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print the report as JSON")
	return cmd
}

func printPackDiagnostics(w io.Writer, diags pack.Diagnostics) error {
	files := map[string]bool{}
	for _, d := range diags {
		if _, err := fmt.Fprintln(w, d.String()); err != nil {
			return err
		}
		files[d.Pos.File] = true
	}
	_, err := fmt.Fprintf(w, "invalid: %s in %s\n", packPlural(len(diags), "problem"), packPlural(len(files), "file"))
	return err
}

func printPacksValid(w io.Writer, packs []packSummary, total packTotals) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACK\tVERSION\tACTIONS\tWORKFLOWS\tRULES\tSENSORS\tTRIGGER TYPES\tPOLICIES")
	for _, p := range packs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\n", p.Ref, p.Version, p.Actions, p.Workflows, p.Rules, p.Sensors, p.TriggerTypes, p.Policies)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "valid: %s, %s (%s), %s, %s, %s, %s\n",
		packPlural(len(packs), "pack"), packPlural(total.Actions, "action"), packPlural(total.Workflows, "workflow"),
		packPlural(total.Rules, "rule"), packPlural(total.Sensors, "sensor"), packPlural(total.TriggerTypes, "trigger type"),
		packPlural(total.Policies, "policy"))
	return err
}

func packPlural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func newPackListCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [DIR]... [--json]",
		Short: "List the packs with their counts of actions, rules, sensors and trigger types",
		Long: `List the packs in each DIR (default "packs"), with their version, counts of
actions, workflows, rules, sensors, trigger types and policies, and
description. Packs with problems are listed as far as they could be read;
a note on stderr gives the number of problems (bwc pack validate lists them).

Output: a table, or with --json {"packs": [{ref, version, description, dir,
actions, workflows, rules, sensors, trigger_types, policies}], "problems": N}.

Exit codes: 0 listed (even with problems); 2 a directory cannot be read or
bad flags.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, diags, err := packCheck(args)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			packs, _ := summarizePacks(set)
			out := cmd.OutOrStdout()
			if asJSON {
				err = packWriteJSON(out, map[string]any{"packs": packs, "problems": len(diags)})
			} else {
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "PACK\tVERSION\tACTIONS\tWORKFLOWS\tRULES\tSENSORS\tTRIGGER TYPES\tPOLICIES\tDESCRIPTION")
				for _, p := range packs {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n", p.Ref, p.Version, p.Actions, p.Workflows, p.Rules, p.Sensors, p.TriggerTypes, p.Policies, packOneLine(p.Description, 60))
				}
				err = tw.Flush()
			}
			if err != nil {
				return fmt.Errorf("writing the list: %w", err)
			}
			if len(diags) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "bwc: note: the packs have %s; bwc pack validate lists them\n", packPlural(len(diags), "problem"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print the list as JSON")
	return cmd
}

func newPackShowCmd() *cobra.Command {
	var asJSON bool
	var dirs []string
	cmd := &cobra.Command{
		Use:   "show <ref> [--packs DIR]... [--json]",
		Short: "Show a pack, or one action, rule, trigger type, sensor or policy",
		Long: `Show what a reference names, from the packs in --packs (default "packs"):

  <pack>              the pack's metadata and tables of its actions, rules,
                      trigger types, sensors, policies and configuration
  <pack>.<action>     the action: runner, entry point, parameters (its own
                      and its runner's, with defaults and flags) and, for a
                      workflow, its tasks
  <pack>.<rule>       the rule: trigger and its parameters, criteria in file
                      order, action and its parameters
  <pack>.<trigger>    the trigger type: its parameters and payload schemas
  <pack>.<sensor>     the sensor: entry point, poll interval, trigger types
  <pack>.<policy>     the policy: resource, type and parameters

Flags:
  --packs DIR   a directory of packs (repeatable; default "packs").
  --json        print {"kind": "pack"|"action"|"rule"|"trigger_type"|
                "sensor"|"policy", "<kind>": {...}} with every field.

Exit codes: 0 shown; 1 nothing has that reference (with a suggestion for near
misses); 2 a directory cannot be read, or bad flags or arguments.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			set, diags, err := packCheck(dirs)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			kind, item := lookupPackRef(set, args[0])
			if item == nil {
				return &exitError{code: 1, msg: fmt.Sprintf("bwc: no pack, action, rule, trigger type, sensor or policy is named %q%s", args[0], spell.Suggest(args[0], set.Refs()))}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				err = packWriteJSON(out, packShowJSON(kind, item))
			} else {
				err = printPackItem(out, set, item)
			}
			if err != nil {
				return fmt.Errorf("writing %s: %w", args[0], err)
			}
			if len(diags) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "bwc: note: the packs have %s; bwc pack validate lists them\n", packPlural(len(diags), "problem"))
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "packs", nil, `a directory of packs (repeatable; default "packs")`)
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print as JSON")
	return cmd
}

// lookupRef finds what a reference names.
func lookupPackRef(set *pack.Set, ref string) (string, any) {
	if p := set.Pack(ref); p != nil {
		return "pack", p
	}
	if a := set.Action(ref); a != nil {
		return "action", a
	}
	if r := set.Rule(ref); r != nil {
		return "rule", r
	}
	if t := set.TriggerType(ref); t != nil {
		return "trigger_type", t
	}
	if s := set.Sensor(ref); s != nil {
		return "sensor", s
	}
	if p := set.Policy(ref); p != nil {
		return "policy", p
	}
	return "", nil
}

// workflowTaskJSON is one task of a workflow action, for show --json.
type workflowTaskJSON struct {
	Name   string   `json:"name"`
	Action string   `json:"action"`
	Next   []string `json:"next,omitempty"`
	Pos    string   `json:"pos"`
}

func packShowJSON(kind string, item any) map[string]any {
	out := map[string]any{"kind": kind, kind: item}
	if a, ok := item.(*pack.Action); ok && a.Workflow != nil {
		var tasks []workflowTaskJSON
		for _, name := range a.Workflow.Order {
			t := a.Workflow.Tasks[name]
			tasks = append(tasks, workflowTaskJSON{Name: name, Action: t.Action, Next: packNextTasks(a, name), Pos: t.Pos.String()})
		}
		out["workflow_tasks"] = tasks
	}
	return out
}

func packNextTasks(a *pack.Action, task string) []string {
	var out []string
	seen := map[string]bool{}
	for _, tr := range a.Workflow.Tasks[task].Next {
		for _, d := range tr.Do {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	return out
}

func printPackItem(w io.Writer, set *pack.Set, item any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch x := item.(type) {
	case *pack.Pack:
		printPackMeta(tw, x)
	case *pack.Action:
		printPackAction(tw, x)
	case *pack.Rule:
		printPackRule(tw, set, x)
	case *pack.TriggerType:
		fmt.Fprintf(tw, "trigger type %s\n", x.Ref)
		packField(tw, "description", x.Description)
		packField(tw, "sensor", x.Sensor)
		packField(tw, "defined at", x.Pos.String())
		fmt.Fprintf(tw, "\nPARAMETERS SCHEMA\n%s\n", packIndentedJSON(x.ParametersSchema))
		fmt.Fprintf(tw, "\nPAYLOAD SCHEMA\n%s\n", packIndentedJSON(x.PayloadSchema))
	case *pack.Sensor:
		fmt.Fprintf(tw, "sensor %s\n", x.Ref)
		packField(tw, "description", x.Description)
		packField(tw, "enabled", fmt.Sprint(x.Enabled))
		if x.EntryPoint == "" {
			packField(tw, "entry point", "none (emitted by the engine or from outside the pack)")
		} else {
			packField(tw, "entry point", x.EntryPoint+" ("+x.EntryPointPath+")")
		}
		if x.PollInterval > 0 {
			packField(tw, "poll interval", fmt.Sprintf("%ds", x.PollInterval))
		}
		packField(tw, "trigger types", strings.Join(x.TriggerTypes, ", "))
		packField(tw, "file", x.Pos.File)
	case *pack.Policy:
		fmt.Fprintf(tw, "policy %s\n", x.Ref)
		packField(tw, "description", x.Description)
		packField(tw, "enabled", fmt.Sprint(x.Enabled))
		packField(tw, "resource", x.ResourceRef)
		packField(tw, "type", x.PolicyType)
		packField(tw, "file", x.Pos.File)
		fmt.Fprintf(tw, "\nPARAMETERS\n%s\n", packIndentedJSON(x.Parameters))
	}
	return tw.Flush()
}

func packField(w io.Writer, name, value string) {
	if value != "" {
		fmt.Fprintf(w, "  %s:\t%s\n", name, value)
	}
}

func printPackMeta(w io.Writer, p *pack.Pack) {
	fmt.Fprintf(w, "pack %s %s\n", p.Ref, p.Version)
	packField(w, "description", p.Description)
	packField(w, "author", strings.TrimSpace(p.Author+" "+packAngle(p.Email)))
	packField(w, "directory", p.Dir)
	packField(w, "dependencies", strings.Join(p.Dependencies, ", "))
	packField(w, "keywords", strings.Join(p.Keywords, ", "))
	fmt.Fprintf(w, "\nACTIONS (%d)\n", len(p.Actions))
	if len(p.Actions) > 0 {
		fmt.Fprintln(w, "  REF\tRUNNER\tENABLED\tDESCRIPTION")
		for _, a := range packSortedBy(p.Actions, func(a *pack.Action) string { return a.Ref }) {
			fmt.Fprintf(w, "  %s\t%s\t%v\t%s\n", a.Ref, a.RunnerType, a.Enabled, packOneLine(a.Description, 60))
		}
	}
	fmt.Fprintf(w, "\nRULES (%d)\n", len(p.Rules))
	if len(p.Rules) > 0 {
		fmt.Fprintln(w, "  REF\tENABLED\tTRIGGER\tACTION")
		for _, r := range packSortedBy(p.Rules, func(r *pack.Rule) string { return r.Ref }) {
			fmt.Fprintf(w, "  %s\t%v\t%s\t%s\n", r.Ref, r.Enabled, r.Trigger.Type, r.Action.Ref)
		}
	}
	fmt.Fprintf(w, "\nTRIGGER TYPES (%d)\n", len(p.TriggerTypes))
	if len(p.TriggerTypes) > 0 {
		fmt.Fprintln(w, "  REF\tSENSOR\tDESCRIPTION")
		for _, t := range packSortedBy(p.TriggerTypes, func(t *pack.TriggerType) string { return t.Ref }) {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", t.Ref, t.Sensor, packOneLine(t.Description, 60))
		}
	}
	fmt.Fprintf(w, "\nSENSORS (%d)\n", len(p.Sensors))
	if len(p.Sensors) > 0 {
		fmt.Fprintln(w, "  REF\tENTRY POINT\tTRIGGER TYPES")
		for _, s := range packSortedBy(p.Sensors, func(s *pack.Sensor) string { return s.Ref }) {
			ep := s.EntryPoint
			if ep == "" {
				ep = "(built in / external)"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", s.Ref, ep, strings.Join(s.TriggerTypes, ", "))
		}
	}
	fmt.Fprintf(w, "\nPOLICIES (%d)\n", len(p.Policies))
	if len(p.Policies) > 0 {
		fmt.Fprintln(w, "  REF\tTYPE\tRESOURCE")
		for _, pol := range packSortedBy(p.Policies, func(p *pack.Policy) string { return p.Ref }) {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", pol.Ref, pol.PolicyType, pol.ResourceRef)
		}
	}
	if len(p.Config) > 0 {
		fmt.Fprintf(w, "\nCONFIG (%d)\n", len(p.Config))
		printPackParams(w, p.Config)
	}
}

func packAngle(s string) string {
	if s == "" {
		return ""
	}
	return "<" + s + ">"
}

func printPackAction(w io.Writer, a *pack.Action) {
	fmt.Fprintf(w, "action %s\n", a.Ref)
	packField(w, "description", a.Description)
	packField(w, "runner", a.RunnerType)
	packField(w, "enabled", fmt.Sprint(a.Enabled))
	if a.EntryPoint != "" {
		packField(w, "entry point", a.EntryPoint+" ("+a.EntryPointPath+")")
	}
	packField(w, "file", a.Pos.File)
	fmt.Fprintf(w, "\nPARAMETERS (%d)\n", len(a.Effective))
	printPackParams(w, a.Effective)
	if a.Workflow != nil {
		fmt.Fprintf(w, "\nWORKFLOW TASKS (%d)\n", len(a.Workflow.Order))
		fmt.Fprintln(w, "  TASK\tACTION\tNEXT")
		for _, name := range a.Workflow.Order {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", name, a.Workflow.Tasks[name].Action, strings.Join(packNextTasks(a, name), ", "))
		}
	}
}

func printPackParams(w io.Writer, ps []*pack.Parameter) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintln(w, "  NAME\tTYPE\tREQUIRED\tDEFAULT\tFLAGS\tDESCRIPTION")
	for _, p := range ps {
		def := ""
		if p.HasDefault {
			def = packOneLine(packCompactJSON(p.Default), 40)
			if p.Secret {
				def = "********"
			}
		}
		var flags []string
		if p.Secret {
			flags = append(flags, "secret")
		}
		if p.Immutable {
			flags = append(flags, "immutable")
		}
		if p.Position != nil {
			flags = append(flags, fmt.Sprintf("position %d", *p.Position))
		}
		if p.Runner != "" {
			flags = append(flags, "runner")
		}
		typ := p.Type
		if typ == "" {
			typ = "any"
		}
		fmt.Fprintf(w, "  %s\t%s\t%v\t%s\t%s\t%s\n", p.Name, typ, p.Required, def, strings.Join(flags, ","), packOneLine(p.Description, 50))
	}
}

func printPackRule(w io.Writer, set *pack.Set, r *pack.Rule) {
	state := "disabled"
	if r.Enabled {
		state = "enabled"
	}
	fmt.Fprintf(w, "rule %s (%s)\n", r.Ref, state)
	packField(w, "description", r.Description)
	packField(w, "file", r.Pos.File)
	fmt.Fprintf(w, "\nTRIGGER %s\n", r.Trigger.Type)
	if set.TriggerType(r.Trigger.Type) == nil {
		fmt.Fprintln(w, "  (no such trigger type is loaded)")
	}
	for _, k := range packSortedKeys(r.Trigger.Parameters) {
		fmt.Fprintf(w, "  %s:\t%s\n", k, packCompactJSON(r.Trigger.Parameters[k]))
	}
	fmt.Fprintf(w, "\nCRITERIA (%d)\n", len(r.Criteria))
	if len(r.Criteria) > 0 {
		fmt.Fprintln(w, "  KEY\tOPERATOR\tPATTERN")
		for _, c := range r.Criteria {
			op := c.Type
			if c.Condition != "" {
				op += " (" + c.Condition + ")"
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\n", c.Key, op, packOneLine(packCompactJSON(c.Pattern), 60))
		}
	}
	fmt.Fprintf(w, "\nACTION %s\n", r.Action.Ref)
	if set.Action(r.Action.Ref) == nil {
		fmt.Fprintln(w, "  (no such action is loaded)")
	}
	for _, k := range packSortedKeys(r.Action.Parameters) {
		fmt.Fprintf(w, "  %s:\t%s\n", k, packCompactJSON(r.Action.Parameters[k]))
	}
}

func packSortedBy[T any](items []T, key func(T) string) []T {
	out := append([]T(nil), items...)
	sort.SliceStable(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

func packSortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func packCompactJSON(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func packIndentedJSON(v any) string {
	if v == nil {
		return "  (none)"
	}
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return "  " + fmt.Sprint(v)
	}
	return "  " + string(b)
}

// oneLine shortens text to one line of at most n characters.
func packOneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

func packWriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
