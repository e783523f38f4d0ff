package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/jsonata"
)

func newJSONataCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "jsonata",
		Short: "Evaluate JSONata expressions as Step Functions runs them",
		Long: `Commands for JSONata, BWC's expression language (JSONata 2.0.6 as AWS Step
Functions runs it: $partition, $range, $hash, $random(seed), $uuid and
$parse added, $eval not available).`,
	}
	cmd.AddCommand(newJSONataEvalCmd())
	return cmd
}

func newJSONataEvalCmd() *cobra.Command {
	var (
		inputFile string
		bindings  string
		pretty    bool
		timeLimit time.Duration
		now       string
	)
	cmd := &cobra.Command{
		Use:   "eval EXPR",
		Short: "Evaluate a JSONata expression and print the result as JSON",
		Long: `Evaluate a JSONata expression, like the JSONata exerciser.

EXPR is the expression; "-" reads it from stdin.

Flags:
  --input FILE      the input document (JSON); "-" reads stdin. Without
                    --input the expression has no input (paths are undefined).
  --bindings JSON   variables as a JSON object, name (without $) to value,
                    e.g. '{"states": {"input": {"a": 1}}}'; "@FILE" reads the
                    object from a file.
  --pretty          indent the JSON output.
  --time-limit D    stop the evaluation after D (default 10s) with U1001.
  --now TIME        the instant $now() and $millis() read, as RFC 3339
                    (e.g. 2024-03-01T10:20:30Z); default the current time.

Output: the result as JSON on stdout, object keys in the order JSONata
produces them, numbers as JavaScript prints them. An undefined result prints
nothing.

Exit codes: 0 a result or an undefined result; 1 a JSONata error, printed on
stderr as "CODE: message (position N)" (e.g. "T2001: ..."); 2 bad input (an
unreadable file, invalid JSON in --input or --bindings, a bad --now, EXPR
and --input both "-").`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := args[0]
			stdinUsed := false
			if src == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading the expression from stdin: %v", err)}
				}
				src = string(b)
				stdinUsed = true
			}
			var input []byte
			if inputFile != "" {
				var err error
				if inputFile == "-" {
					if stdinUsed {
						return &exitError{code: 2, msg: "bwc: EXPR and --input cannot both be read from stdin"}
					}
					input, err = io.ReadAll(cmd.InOrStdin())
				} else {
					input, err = os.ReadFile(inputFile)
				}
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading input: %v", err)}
				}
				if len(bytes.TrimSpace(input)) == 0 {
					return &exitError{code: 2, msg: "bwc: reading input: the input is empty"}
				}
			}
			vars := map[string]any{}
			if bindings != "" {
				raw := []byte(bindings)
				if strings.HasPrefix(bindings, "@") {
					b, err := os.ReadFile(bindings[1:])
					if err != nil {
						return &exitError{code: 2, msg: fmt.Sprintf("bwc: reading bindings: %v", err)}
					}
					raw = b
				}
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				if err := dec.Decode(&vars); err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: --bindings must be a JSON object: %v", err)}
				}
			}
			opts := []jsonata.Option{jsonata.WithTimeLimit(timeLimit)}
			if now != "" {
				at, err := time.Parse(time.RFC3339Nano, now)
				if err != nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: --now must be an RFC 3339 time: %v", err)}
				}
				opts = append(opts, jsonata.WithClock(func() time.Time { return at }))
			}
			expr, err := jsonata.Compile(src, opts...)
			if err != nil {
				return &exitError{code: 1, msg: err.Error()}
			}
			out, err := expr.EvalJSON(context.Background(), input, vars)
			if errors.Is(err, jsonata.ErrUndefined) {
				return nil
			}
			if err != nil {
				var je *jsonata.Error
				if errors.As(err, &je) {
					return &exitError{code: 1, msg: je.Error()}
				}
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: %v", err)}
			}
			if pretty {
				var buf bytes.Buffer
				if err := json.Indent(&buf, out, "", "  "); err == nil {
					out = buf.Bytes()
				}
			}
			w := cmd.OutOrStdout()
			if _, err := w.Write(append(out, '\n')); err != nil {
				return fmt.Errorf("writing the result: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&inputFile, "input", "", `input document (JSON file, "-" for stdin)`)
	cmd.Flags().StringVar(&bindings, "bindings", "", `variables as a JSON object ("@FILE" reads a file)`)
	cmd.Flags().BoolVar(&pretty, "pretty", false, "indent the JSON output")
	cmd.Flags().DurationVar(&timeLimit, "time-limit", 10*time.Second, "maximum evaluation time")
	cmd.Flags().StringVar(&now, "now", "", "the instant $now() and $millis() read (RFC 3339)")
	return cmd
}
