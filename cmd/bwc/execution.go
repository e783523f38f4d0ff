package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/api/client"
	"github.com/bwc-project/bwc/internal/store"
)

// defaultAPIURL and defaultAPIKeyFile are where the CLI finds the engine
// when neither flags nor the environment say.
const (
	defaultAPIURL     = "http://127.0.0.1:9101"
	defaultAPIKeyFile = ".bwc/api-key"
)

// apiFlags are the flags of commands that talk to the API.
type apiFlags struct {
	url string
}

func (f *apiFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.url, "api", "", "URL of the BWC API (default $BWC_API_URL, else "+defaultAPIURL+")")
}

// client builds the API client: the URL from --api, $BWC_API_URL or the
// default; the key from $BWC_API_KEY or the file .bwc/api-key.
func (f *apiFlags) client() (*client.Client, error) {
	u := f.url
	if u == "" {
		u = os.Getenv("BWC_API_URL")
	}
	if u == "" {
		u = defaultAPIURL
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	key := strings.TrimSpace(os.Getenv("BWC_API_KEY"))
	if key == "" {
		b, err := os.ReadFile(defaultAPIKeyFile)
		if err != nil {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: no API key: set BWC_API_KEY or run from the directory where bwc serve wrote %s (%v)", defaultAPIKeyFile, err)}
		}
		key = strings.TrimSpace(string(b))
	}
	return client.New(u, key, &http.Client{}), nil
}

// apiExit turns an API error into the CLI's exit error: 1 for an answer
// of the API, and for a server that cannot be reached.
func apiExit(err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		return &exitError{code: 1, msg: "bwc: " + ce.Error()}
	}
	return &exitError{code: 1, msg: "bwc: " + err.Error()}
}

const executionExitCodes = `Exit codes: 0 success; 1 the API answered an error (unknown execution, a
conflict) or cannot be reached; 2 bad flags or arguments.`

func newExecutionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "execution",
		Aliases: []string{"executions", "ex"},
		Short:   "List, inspect, follow and cancel executions (through the API)",
		Long: `Commands on executions, through the API of a running engine (bwc serve).

The API is found with --api URL, else $BWC_API_URL, else ` + defaultAPIURL + `;
the API key is $BWC_API_KEY, else the content of ` + defaultAPIKeyFile + `.`,
	}
	cmd.AddCommand(newExecutionListCmd(), newExecutionGetCmd(), newExecutionTailCmd(), newExecutionCancelCmd(), newExecutionReRunCmd(),
		newExecutionControlCmd("pause", "Pause a workflow: it starts no more tasks, and is paused once its running tasks end",
			"Pause a workflow: it starts no more tasks, and is paused once its running tasks end."+pauseResumeHelp, (*client.Client).Pause),
		newExecutionControlCmd("resume", "Resume a paused workflow", "Resume a paused workflow."+pauseResumeHelp, (*client.Client).Resume))
	return cmd
}

func flagErrors(cmd *cobra.Command) {
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
	})
}

func newExecutionListCmd() *cobra.Command {
	var af apiFlags
	var q store.ExecutionQuery
	var status string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--action REF] [--status S] [--rule REF] [--trace-tag T] [--parent ID] [--limit N] [--json]",
		Short: "List executions, newest first",
		Long: `List executions, newest first.

Flags:
  --action REF     only executions of this action
  --status S       only executions in this status (requested, scheduled,
                   running, pending, succeeded, failed, timeout, canceled,
                   abandoned, ...)
  --rule REF       only executions started by this rule
  --trace-tag T    only executions with this trace tag
  --parent ID      only the children of this execution
  --limit N        at most N executions; 0, the default, for 50
  --json           print {"items": [...], "next": TOKEN} as the API answers

Output: a table with the id, action, status, start time and rule of each
execution; with --json the API's answer.

` + executionExitCodes,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q.Status = store.ExecutionStatus(status)
			if status != "" && !q.Status.Valid() {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: --status %q is not an execution status", status)}
			}
			if q.Limit < 0 {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: --limit %d: expected 0 (the default, 50) or more", q.Limit)}
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			list, err := c.Executions(cmd.Context(), q)
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tACTION\tSTATUS\tSTARTED\tRULE")
			for _, ex := range list.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ex.ID, ex.Action, ex.Status, ex.StartedAt.Local().Format(time.DateTime), dash(ex.Context.Rule))
			}
			return tw.Flush()
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().StringVar(&q.Action, "action", "", "only executions of this action")
	cmd.Flags().StringVar(&status, "status", "", "only executions in this status")
	cmd.Flags().StringVar(&q.Rule, "rule", "", "only executions started by this rule")
	cmd.Flags().StringVar(&q.TraceTag, "trace-tag", "", "only executions with this trace tag")
	cmd.Flags().StringVar(&q.ParentID, "parent", "", "only children of this execution")
	cmd.Flags().IntVar(&q.Limit, "limit", 0, "at most this many executions")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newExecutionGetCmd() *cobra.Command {
	var af apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID [--json]",
		Short: "Show an execution with its result",
		Long: `Show an execution: action, status, parameters (secrets masked), context
(user, rule, trigger instance, trace tag), status log and result.

Flags:
  --json   print the execution as the API answers it

` + executionExitCodes,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			ex, err := c.Execution(cmd.Context(), args[0])
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), ex)
			}
			return printExecution(cmd.OutOrStdout(), ex)
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func printExecution(w io.Writer, ex store.Execution) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", ex.ID)
	fmt.Fprintf(tw, "action:\t%s\n", ex.Action)
	fmt.Fprintf(tw, "runner:\t%s\n", ex.Runner)
	fmt.Fprintf(tw, "status:\t%s\n", ex.Status)
	fmt.Fprintf(tw, "started:\t%s\n", ex.StartedAt.Local().Format(time.RFC3339))
	if !ex.EndedAt.IsZero() {
		fmt.Fprintf(tw, "ended:\t%s (%s)\n", ex.EndedAt.Local().Format(time.RFC3339), ex.EndedAt.Sub(ex.StartedAt).Round(time.Millisecond))
	}
	if ex.ParentID != "" {
		fmt.Fprintf(tw, "parent:\t%s\n", ex.ParentID)
	}
	if ex.Context.User != "" {
		fmt.Fprintf(tw, "user:\t%s\n", ex.Context.User)
	}
	if ex.Context.Rule != "" {
		fmt.Fprintf(tw, "rule:\t%s\n", ex.Context.Rule)
		fmt.Fprintf(tw, "trigger instance:\t%s\n", ex.Context.TriggerInstanceID)
	}
	if ex.Context.TraceTag != "" {
		fmt.Fprintf(tw, "trace tag:\t%s\n", ex.Context.TraceTag)
	}
	if len(ex.Parameters) > 0 {
		b, _ := json.Marshal(ex.Parameters)
		fmt.Fprintf(tw, "parameters:\t%s\n", b)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(ex.Result) > 0 {
		var v any
		if json.Unmarshal(ex.Result, &v) == nil {
			b, _ := json.MarshalIndent(v, "", "  ")
			fmt.Fprintf(w, "result:\n%s\n", b)
		}
	}
	return nil
}

func newExecutionTailCmd() *cobra.Command {
	var af apiFlags
	cmd := &cobra.Command{
		Use:   "tail ID",
		Short: "Print an execution's output as it runs, until it finishes",
		Long: `Print the output of an execution (stdout and stderr, in the order they were
written) from the start, and keep following it until the execution finishes.
Stdout chunks go to stdout, stderr chunks to stderr.

Exit codes: 0 the execution succeeded; 1 it ended in another status (failed,
timeout, canceled, abandoned) or the API answered an error; 2 bad arguments.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			st, err := tail(cmd.Context(), c, args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return apiExit(err)
			}
			if st != store.StatusSucceeded {
				return &exitError{code: 1, msg: fmt.Sprintf("bwc: execution %s %s", args[0], st)}
			}
			return nil
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	return cmd
}

// tail prints an execution's output until it finishes, and returns its
// final status.
func tail(ctx context.Context, c *client.Client, id string, stdout, stderr io.Writer) (store.ExecutionStatus, error) {
	var after int64
	for {
		out, err := c.Output(ctx, id, after)
		if err != nil {
			return "", err
		}
		for _, ch := range out.Chunks {
			w := stdout
			if ch.Stream == store.Stderr {
				w = stderr
			}
			if _, err := io.WriteString(w, ch.Data); err != nil {
				return "", fmt.Errorf("writing output: %w", err)
			}
			after = ch.Seq
		}
		if len(out.Chunks) > 0 {
			continue // there may be more already
		}
		if out.Status.Finished() {
			return out.Status, nil
		}
		select {
		case <-ctx.Done():
			return out.Status, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func newExecutionCancelCmd() *cobra.Command {
	return newExecutionControlCmd("cancel", "Cancel an execution (and its children)", `Cancel an execution: one not started yet is canceled at once; a running one
becomes canceling, its process group is killed, and it becomes canceled.
The children of a workflow are canceled too.

Output: the execution's id and status after the request.

Flags:
  --json   print the execution as the API answers it

Exit codes: 0 canceled or canceling; 1 the execution has finished already
(HTTP 409), is unknown, or the API cannot be reached; 2 bad arguments.`, (*client.Client).Cancel)
}

// pauseResumeHelp is the help of pause and resume after their summary.
const pauseResumeHelp = `

Only workflow executions pause and resume. A paused workflow's checkpoint is
kept, so it stays paused across a restart of the engine.

Output: the execution's id and status after the request.

Flags:
  --json   print the execution as the API answers it

Exit codes: 0 done; 1 the execution is not a workflow or not in a status
that allows it (HTTP 409), is unknown, or the API cannot be reached; 2 bad
arguments.`

// newExecutionControlCmd is a command that asks the API to change an
// execution (cancel, pause, resume) and prints its id and status after.
func newExecutionControlCmd(name, short, long string, fn func(*client.Client, context.Context, string) (store.Execution, error)) *cobra.Command {
	var af apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   name + " ID",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			ex, err := fn(c, cmd.Context(), args[0])
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), ex)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", ex.ID, ex.Status)
			return err
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func newExecutionReRunCmd() *cobra.Command {
	var af apiFlags
	var async, asJSON bool
	var tasks []string
	cmd := &cobra.Command{
		Use:   "re-run ID [NAME=VALUE]... [--tasks TASK] [--async] [--json]",
		Short: "Run an execution's action again with the same parameters",
		Long: `Start a new execution of an execution's action with the same parameters,
overridden by NAME=VALUE arguments (converted as bwc run converts them).
Secret parameters are stored masked: give them again.

With --tasks, ID is a workflow execution and the new run starts at the given
task, with the workflow variables (published values) and the input the
original run had when it last entered that task; the task and those after it
run again, nothing else of the original is reused. NAME=VALUE arguments are
not taken with --tasks. The task must be one the original reached, at the
workflow's top level: a task inside a fork (before its join) or one with
items cannot be started at, and a run starts at one task.

Flags:
  --tasks   the task to start the workflow at (st2's re-run --tasks)
  --async   print the new execution's id and return at once
  --json    print the finished execution as JSON

Output: the new execution, finished (or its id with --async).

Exit codes: 0 the new execution succeeded (or, with --async, was accepted);
1 it ended in another status, or the API refused (unknown execution, invalid
parameters, an unknown task or one the original never reached) or cannot be
reached; 2 bad arguments.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			params := map[string]any{}
			if len(tasks) > 0 && len(args) > 1 {
				return &exitError{code: 2, msg: "bwc: --tasks takes no NAME=VALUE arguments: the tasks start with the original run's variables"}
			}
			if len(args) > 1 {
				orig, err := c.Execution(ctx, args[0])
				if err != nil {
					return apiExit(err)
				}
				action, err := c.Action(ctx, orig.Action)
				if err != nil {
					return apiExit(err)
				}
				for _, a := range args[1:] {
					k, v, ok := strings.Cut(a, "=")
					if !ok || k == "" {
						return &exitError{code: 2, msg: fmt.Sprintf("bwc: argument %q: expected NAME=VALUE", a)}
					}
					if params[k], err = convertParam(&action, k, v); err != nil {
						return &exitError{code: 2, msg: "bwc: " + err.Error()}
					}
				}
			}
			var ex store.Execution
			if len(tasks) > 0 {
				ex, err = c.ReRunTasks(ctx, args[0], tasks)
			} else {
				ex, err = c.ReRun(ctx, args[0], params)
			}
			if err != nil {
				return apiExit(err)
			}
			if async {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), ex.ID)
				return err
			}
			return waitAndPrint(cmd, c, ex.ID, asJSON)
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().StringSliceVar(&tasks, "tasks", nil, "start the workflow at this task (comma-separated list)")
	cmd.Flags().BoolVar(&async, "async", false, "return the new execution's id at once")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

// waitAndPrint waits for execution id to finish, prints it (as JSON with
// asJSON) and exits 1 unless it succeeded.
func waitAndPrint(cmd *cobra.Command, c *client.Client, id string, asJSON bool) error {
	ex, err := c.Wait(cmd.Context(), id, 0)
	if err != nil {
		return apiExit(err)
	}
	if asJSON {
		err = writeJSONOut(cmd.OutOrStdout(), ex)
	} else {
		err = printExecution(cmd.OutOrStdout(), ex)
	}
	if err != nil {
		return err
	}
	if ex.Status != store.StatusSucceeded {
		return &exitError{code: 1}
	}
	return nil
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}
