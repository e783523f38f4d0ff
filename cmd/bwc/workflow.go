package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/workflow"
)

func newWorkflowCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "workflow",
		Short: "Compile and inspect workflows",
		Long: `Commands that compile workflows to Amazon States Language and show how their
tasks map to states. See docs/workflows.md for the workflow language.`,
	}
	cmd.AddCommand(newWorkflowCompileCmd(), newWorkflowInspectCmd())
	return cmd
}

const workflowArgHelp = `The workflow is an action reference (pack.name, runner_type workflow) or the
path of a workflow file; a file outside the packs is compiled with the packs'
actions (so its tasks can call them) under the reference given by --ref
(default "local.<file name>").`

func newWorkflowCompileCmd() *cobra.Command {
	var dirs []string
	var output, ref string
	cmd := &cobra.Command{
		Use:   "compile <ref|file> [--packs DIR]... [-o FILE]",
		Short: "Compile a workflow to an ASL state machine (JSON)",
		Long: `Compile a workflow to an Amazon States Language state machine with
QueryLanguage JSONata, as Step Functions runs it on AWS and BWC's interpreter
runs it in bwc serve. Resource ARNs are left as definition substitutions
(${RunnerFunctionArn}, ${StateMachineArn_<pack>_<name>}) for the CDK app to
fill in. The output is deterministic: the golden files under statemachines/ are
this output.

` + workflowArgHelp + `

Flags:
  --packs DIR   a directory of packs (repeatable; default "packs").
  -o FILE       write the state machine to FILE instead of stdout.
  --ref REF     the reference of a workflow file outside the packs.

Exit codes: 0 compiled; 1 compile errors (each with file:line:col and task, on
stderr); 2 the workflow or the packs cannot be loaded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, _, err := compileWorkflowArg(cmd, dirs, args[0], ref)
			if err != nil {
				return err
			}
			b, err := m.JSON()
			if err != nil {
				return err
			}
			if output != "" {
				if err := os.WriteFile(output, b, 0o644); err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
				}
				return nil
			}
			if _, err := cmd.OutOrStdout().Write(b); err != nil {
				return fmt.Errorf("writing the state machine: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "packs", nil, "a directory of packs (repeatable; default packs)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE")
	cmd.Flags().StringVar(&ref, "ref", "", "reference of a workflow file outside the packs")
	return cmd
}

func newWorkflowInspectCmd() *cobra.Command {
	var dirs []string
	var ref string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect <ref|file> [--packs DIR]... [--json]",
		Short: "Show a workflow's tasks, transitions and the ASL states each becomes",
		Long: `Show a workflow's tasks in file order: the action each runs, its transitions
(condition, published variables, next task), and the names of the ASL states
the task compiles to, so an execution in the Step Functions console or in
bwc execution get can be read against the workflow file.

` + workflowArgHelp + `

Flags:
  --packs DIR   a directory of packs (repeatable; default "packs").
  --ref REF     the reference of a workflow file outside the packs.
  --json        print JSON: {"ref", "file", "tasks": [{"name", "action",
                "join", "with", "states", "next": [{"when", "publish", "do"}]}],
                "substitutions"}.

Exit codes: 0 shown; 1 compile errors; 2 the workflow or the packs cannot be
loaded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, w, err := compileWorkflowArg(cmd, dirs, args[0], ref)
			if err != nil {
				return err
			}
			view := inspectWorkflow(m, w)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), view)
			}
			return printInspect(cmd.OutOrStdout(), view)
		},
	}
	cmd.Flags().StringArrayVar(&dirs, "packs", nil, "a directory of packs (repeatable; default packs)")
	cmd.Flags().StringVar(&ref, "ref", "", "reference of a workflow file outside the packs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// compileWorkflowArg compiles the workflow an argument names.
func compileWorkflowArg(cmd *cobra.Command, dirs []string, arg, ref string) (*workflow.Machine, *workflow.Workflow, error) {
	c, err := loadCompiled(cmd, dirs)
	if err != nil {
		return nil, nil, err
	}
	if a := c.Packs.Action(arg); a != nil {
		if a.RunnerType != "workflow" {
			return nil, nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: action %s has runner type %s, not workflow", arg, a.RunnerType)}
		}
		m := c.Machines[arg]
		if m == nil || a.Workflow == nil {
			return nil, nil, &exitError{code: 1, msg: fmt.Sprintf("bwc: workflow %s does not compile (see bwc pack validate)", arg)}
		}
		return m, a.Workflow, nil
	}
	src, err := os.ReadFile(arg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(arg, "/\\") {
			return nil, nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: %s is neither a workflow action nor a file%s", arg, didYouMean(arg, c.MachineRefs()))}
		}
		return nil, nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
	}
	w, err := workflow.Parse(arg, src)
	if err != nil {
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	if ref == "" {
		base := arg[strings.LastIndexAny(arg, "/\\")+1:]
		ref = "local." + strings.TrimSuffix(strings.TrimSuffix(base, ".yaml"), ".yml")
	}
	m, err := workflow.Compile(w, ref, content.Kinds(c.Packs))
	if err != nil {
		return nil, nil, &exitError{code: 1, msg: err.Error()}
	}
	return m, w, nil
}

type inspectView struct {
	Ref           string        `json:"ref"`
	File          string        `json:"file"`
	Tasks         []inspectTask `json:"tasks"`
	Substitutions []string      `json:"substitutions"`
}

type inspectTask struct {
	Name   string        `json:"name"`
	Action string        `json:"action"`
	Join   string        `json:"join,omitempty"`
	With   string        `json:"with,omitempty"`
	States []string      `json:"states"`
	Next   []inspectNext `json:"next,omitempty"`
}

type inspectNext struct {
	When    string   `json:"when,omitempty"`
	Publish []string `json:"publish,omitempty"`
	Do      []string `json:"do"`
}

func inspectWorkflow(m *workflow.Machine, w *workflow.Workflow) inspectView {
	v := inspectView{Ref: m.Ref, File: w.File, Substitutions: m.Substitutions}
	for _, name := range w.Order {
		t := w.Tasks[name]
		it := inspectTask{Name: name, Action: t.Action, Join: t.Join, States: m.States[name]}
		if t.With != nil {
			it.With = t.With.Items
		}
		for _, tr := range t.Next {
			n := inspectNext{When: tr.When, Do: tr.Do}
			for _, p := range tr.Publish {
				n.Publish = append(n.Publish, p.Name)
			}
			if len(n.Do) == 0 {
				n.Do = []string{"(end)"}
			}
			it.Next = append(it.Next, n)
		}
		v.Tasks = append(v.Tasks, it)
	}
	sort.Strings(v.Substitutions)
	return v
}

func printInspect(w io.Writer, v inspectView) error {
	var b strings.Builder
	fmt.Fprintf(&b, "workflow %s (%s)\n\n", v.Ref, v.File)
	for _, t := range v.Tasks {
		fmt.Fprintf(&b, "%s  action %s", t.Name, t.Action)
		if t.Join != "" {
			fmt.Fprintf(&b, "  join %s", t.Join)
		}
		if t.With != "" {
			fmt.Fprintf(&b, "  with items %s", t.With)
		}
		fmt.Fprintf(&b, "\n  states: %s\n", strings.Join(t.States, ", "))
		for _, n := range t.Next {
			when := n.When
			if when == "" {
				when = "always"
			}
			fmt.Fprintf(&b, "  when %s", when)
			if len(n.Publish) > 0 {
				fmt.Fprintf(&b, " publish %s", strings.Join(n.Publish, ", "))
			}
			fmt.Fprintf(&b, " -> %s\n", strings.Join(n.Do, ", "))
		}
		b.WriteString("\n")
	}
	if len(v.Substitutions) > 0 {
		fmt.Fprintf(&b, "definition substitutions: %s\n", strings.Join(v.Substitutions, ", "))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing the workflow: %w", err)
	}
	return nil
}
