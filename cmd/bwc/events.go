package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/pattern"
)

func newEventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Work with events and EventBridge event patterns",
		Long: `Commands for the events that flow on the bus and the EventBridge event
patterns that rules compile to.`,
	}
	cmd.AddCommand(newEventsTestPatternCmd())
	return cmd
}

func newEventsTestPatternCmd() *cobra.Command {
	var patternArg, eventArg string
	cmd := &cobra.Command{
		Use:   "test-pattern --pattern FILE --event FILE",
		Short: "Test whether an event matches an EventBridge event pattern",
		Long: `Test whether an event matches an EventBridge event pattern, the local twin
of "aws events test-event-pattern". The pattern is validated as EventBridge
validates it, and matched with BWC's matcher, the one the embedded engine uses.

Flags:
  --pattern FILE   the event pattern (JSON object). "-" reads stdin; an
                   argument starting with "{" is taken as the JSON itself.
  --event FILE     the event (JSON object), read the same way. --pattern and
                   --event cannot both be "-".

Output: "true" or "false" on stdout.

Exit codes: 0 the event matches; 1 it does not match; 2 an invalid pattern or
event, an unreadable file, or bad flags, with the reason on stderr (for an
invalid pattern, the field path and what is wrong).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if patternArg == "" || eventArg == "" {
				return &exitError{code: 2, msg: "bwc: both --pattern and --event are required"}
			}
			if patternArg == "-" && eventArg == "-" {
				return &exitError{code: 2, msg: "bwc: --pattern and --event cannot both be read from stdin"}
			}
			src, err := readJSONArg(cmd.InOrStdin(), patternArg)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the pattern: %v", err)}
			}
			event, err := readJSONArg(cmd.InOrStdin(), eventArg)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the event: %v", err)}
			}
			p, err := pattern.Parse(src)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			m := pattern.NewMatcher()
			m.AddPattern("pattern", p)
			ids, err := m.Match(event)
			if err != nil {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			matched := len(ids) == 1
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), matched); err != nil {
				return fmt.Errorf("writing the result: %w", err)
			}
			if !matched {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
	})
	cmd.Flags().StringVar(&patternArg, "pattern", "", `event pattern: a JSON file, "-" for stdin, or inline JSON starting with "{"`)
	cmd.Flags().StringVar(&eventArg, "event", "", `event: a JSON file, "-" for stdin, or inline JSON starting with "{"`)
	return cmd
}

// readJSONArg returns the text an argument names: inline JSON when it starts
// with "{", stdin for "-", else the file's content.
func readJSONArg(stdin io.Reader, arg string) ([]byte, error) {
	if trimmed := bytes.TrimLeft([]byte(arg), " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		return []byte(arg), nil
	}
	if arg == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(arg)
}
