// Command bwc is the BWC command-line tool: it validates and inspects packs,
// tests event patterns and JSONata expressions, runs state machines locally,
// and (with `bwc serve`) runs the embedded engine.
//
// Each command group lives in its own file and is added to the root command
// in newRootCmd. Commands return errors; main prints them and exits non-zero.
// A command that needs a specific exit code returns an *exitError.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes the CLI with the given arguments and streams and returns the
// process exit code. It is separate from main so tests can drive the CLI.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, ee.msg)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "bwc: %v\n", err)
	return 1
}

// exitError asks main to exit with a specific code. msg, when not empty, is
// printed to stderr as is.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "bwc",
		Short: "BWC: event-driven automation for operations teams, on AWS serverless or embedded",
		Long: `bwc is the command-line tool of BWC.

Sensors emit triggers, rules match triggers and run actions, workflows chain
actions, and packs bundle them as code. bwc validates and inspects packs, tests
rules, patterns and expressions locally, and runs the embedded engine.

Exit codes: 0 success; 1 a failure or a negative answer (no match, invalid
pack); 2 bad input (a file or argument that cannot be read or parsed), unless a
command documents otherwise.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(),
		newJSONataCmd(),
		newEventsCmd(),
		newRuleCmd(),
		newWorkflowCmd(),
		newPackCmd(),
		newServeCmd(),
		newRunCmd(),
		newExecutionCmd(),
		newASLCmd(),
		newInquiryCmd(),
		newKeyCmd(),
		newCostCmd(),
		newAPIKeyCmd(),
	)
	badInputExits2(root)
	return root
}

// badInputExits2 makes wrong arguments and flags exit with code 2, with the
// command's usage line, on every command: they are bad input like an
// unreadable file.
func badInputExits2(root *cobra.Command) {
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &exitError{code: 2, msg: fmt.Sprintf("bwc %s: %v (usage: %s)", cmd.Name(), err, cmd.UseLine())}
	})
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if args := cmd.Args; args != nil {
			cmd.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc %s: %v (usage: %s)", c.Name(), err, c.UseLine())}
				}
				return nil
			}
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
