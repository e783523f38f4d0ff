package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/asl"
)

func newASLCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "asl",
		Short: "Validate and run Step Functions state machines (ASL) locally",
		Long: `Commands for Amazon States Language state machines, run by BWC's ASL
interpreter, the one the embedded engine uses for workflows.`,
	}
	cmd.AddCommand(newASLRunCmd(), newASLValidateCmd())
	return cmd
}

func newASLValidateCmd() *cobra.Command {
	var subs []string
	cmd := &cobra.Command{
		Use:   "validate DEFINITION",
		Short: "Validate a state machine definition",
		Long: `Validate a state machine definition (ASL, JSON) as the interpreter does
before running it.

DEFINITION is a file; "-" reads stdin.

Flags:
  --sub NAME=VALUE   a definition substitution: "${NAME}" in string values
                     becomes VALUE (repeatable), as CloudFormation's
                     DefinitionSubstitutions.

Output: "valid" on stdout, or one problem per line on stderr, each naming the
state and field (e.g. state "Check", field Next: state "Nope" does not exist).

Exit codes: 0 valid; 1 invalid; 2 an unreadable file or bad flags.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			def, err := readFileArg(cmd.InOrStdin(), args[0])
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the definition: %v", err)}
			}
			opts, err := substitutionOptions(subs)
			if err != nil {
				return err
			}
			if _, err := asl.Parse(def, opts...); err != nil {
				var de *asl.DefinitionError
				if errors.As(err, &de) {
					var b strings.Builder
					for _, p := range de.Problems {
						fmt.Fprintf(&b, "%s\n", p.String())
					}
					return &exitError{code: 1, msg: strings.TrimRight(b.String(), "\n")}
				}
				return &exitError{code: 1, msg: err.Error()}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "valid")
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&subs, "sub", nil, "definition substitution NAME=VALUE (repeatable)")
	return cmd
}

func newASLRunCmd() *cobra.Command {
	var (
		inputFile, mockFile, testCase, name string
		history, pretty                     bool
		subs                                []string
	)
	cmd := &cobra.Command{
		Use:   "run DEFINITION [--input FILE] [--mock-config FILE --test-case NAME] [--history]",
		Short: "Run a state machine on BWC's ASL interpreter, with mocked task results",
		Long: `Run a state machine (ASL, JSON) on BWC's interpreter and print how it ended.
For authors of hand-written state machines: the tasks do not run, their results
come from a mock configuration in the format of AWS Step Functions Local and
LocalStack, so the same mock files work in all three:

  {"StateMachines": {"<name>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
   "MockedResponses": {"<response>": {"0": {"Return": {...}},
                                      "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

Invocations of a state count from 0 (retries included); "n-m" covers a range.
A Return is the task's result as the service returns it (for
arn:aws:states:::lambda:invoke, the whole response with "Payload"); a Throw
fails the task with that error name, which Retry and Catch match. For a
.waitForTaskToken task the Return is what the callback sends. A task with no
mocked response ends the execution with States.Runtime and a cause naming the
state, test case and machine. Wait states, retry intervals and timeouts take
no real time.

DEFINITION is a file; "-" reads stdin.

Flags:
  --input FILE        the execution input (JSON); "-" reads stdin; default {}.
  --mock-config FILE  the mock configuration; needs --test-case.
  --test-case NAME    the test case to use.
  --name NAME         the state machine's name in the mock configuration
                      (default: the definition file's base name without
                      extensions, e.g. "order" for order.asl.json).
  --sub NAME=VALUE    a definition substitution: "${NAME}" in string values
                      becomes VALUE (repeatable).
  --history           also print the execution history events.
  --pretty            indent the JSON output.

Output: one JSON object on stdout: {"status": "SUCCEEDED", "output": ...} or
{"status": "FAILED", "error": "...", "cause": "..."} (status as
DescribeExecution reports it: SUCCEEDED, FAILED, TIMED_OUT, or RUNNING when
only tasks without a mocked callback are left); with --history, also
"history": the events as GetExecutionHistory returns them.

Exit codes: 0 the execution succeeded; 1 it failed, timed out or did not end;
2 bad input: an unreadable file, invalid JSON, an invalid definition (the
problems on stderr, each naming the state and field), an invalid mock
configuration, or an unknown test case.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stdin := cmd.InOrStdin()
			if args[0] == "-" && inputFile == "-" {
				return &exitError{code: 2, msg: "bwc: DEFINITION and --input cannot both be read from stdin"}
			}
			def, err := readFileArg(stdin, args[0])
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the definition: %v", err)}
			}
			var input any = map[string]any{}
			if inputFile != "" {
				b, err := readFileArg(stdin, inputFile)
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the input: %v", err)}
				}
				if err := json.Unmarshal(b, &input); err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: the input is not valid JSON: %v", err)}
				}
			}
			if (mockFile == "") != (testCase == "") {
				return &exitError{code: 2, msg: "bwc: --mock-config and --test-case go together"}
			}
			if name == "" {
				name = machineNameFromPath(args[0])
			}
			clock := asl.NewManualClock(time.Now().UTC())
			var port *asl.MockPort
			if mockFile != "" {
				b, err := os.ReadFile(mockFile)
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the mock configuration: %v", err)}
				}
				mc, err := asl.ParseMockConfig(b)
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
				}
				if port, err = mc.Port(name, testCase); err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
				}
			}
			opts := []asl.Option{asl.WithClock(clock)}
			if port != nil {
				opts = append(opts, asl.WithTaskPort(port))
			} else {
				opts = append(opts, asl.WithTaskPort(asl.TaskPortFunc(func(_ context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
					return asl.TaskResult{}, &asl.Failure{Name: asl.ErrRuntime, Cause: fmt.Sprintf("no mocked response for state %q: pass --mock-config and --test-case", req.StateName)}
				})))
			}
			in := asl.New(opts...)
			popts, err := substitutionOptions(subs)
			if err != nil {
				return err
			}
			m, err := in.Parse(def, popts...)
			if err != nil {
				return &exitError{code: 2, msg: "bwc: " + err.Error()}
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			x, err := in.Start(ctx, m, input, asl.StartOptions{StateMachineName: name})
			if err != nil {
				return fmt.Errorf("starting the execution: %w", err)
			}
			if port != nil {
				err = asl.RunMocked(ctx, x, port)
			} else {
				err = x.RunUntilDone(ctx)
			}
			if err != nil {
				return fmt.Errorf("running the execution: %w", err)
			}
			d := x.Describe()
			out := map[string]any{"status": d.Status}
			switch d.Status {
			case asl.StatusSucceeded:
				out["output"] = d.Output
			case asl.StatusFailed, asl.StatusTimedOut, asl.StatusAborted:
				out["error"] = d.Error
				out["cause"] = d.Cause
			}
			if history {
				out["history"] = x.History()
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if pretty {
				enc.SetIndent("", "  ")
			}
			if err := enc.Encode(out); err != nil {
				return fmt.Errorf("encoding the result: %w", err)
			}
			if _, err := cmd.OutOrStdout().Write(buf.Bytes()); err != nil {
				return fmt.Errorf("writing the result: %w", err)
			}
			if d.Status != asl.StatusSucceeded {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&inputFile, "input", "", "execution input (JSON file, - for stdin)")
	f.StringVar(&mockFile, "mock-config", "", "mock configuration (Step Functions Local format)")
	f.StringVar(&testCase, "test-case", "", "test case of the mock configuration")
	f.StringVar(&name, "name", "", "state machine name in the mock configuration (default: file base name)")
	f.StringArrayVar(&subs, "sub", nil, "definition substitution NAME=VALUE (repeatable)")
	f.BoolVar(&history, "history", false, "also print the history events")
	f.BoolVar(&pretty, "pretty", false, "indent the JSON output")
	return cmd
}

// machineNameFromPath is a definition file's base name without its
// extensions ("order" for statemachines/order.asl.json).
func machineNameFromPath(p string) string {
	if p == "-" {
		return "StateMachine"
	}
	base := filepath.Base(p)
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	return base
}

func substitutionOptions(subs []string) ([]asl.ParseOption, error) {
	if len(subs) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, s := range subs {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, &exitError{code: 2, msg: fmt.Sprintf("bwc: --sub %q: expected NAME=VALUE", s)}
		}
		m[k] = v
	}
	return []asl.ParseOption{asl.WithSubstitutions(m)}, nil
}

// readFileArg reads a file, or stdin for "-".
func readFileArg(stdin io.Reader, arg string) ([]byte, error) {
	if arg == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(arg)
}
