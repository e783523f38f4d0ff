package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/pack"
)

func newRunCmd() *cobra.Command {
	var af apiFlags
	var async, follow, asJSON bool
	var traceTag string
	cmd := &cobra.Command{
		Use:   "run REF [NAME=VALUE]... [--async] [--tail] [--json]",
		Short: "Run an action on the engine and show its result",
		Long: `Run an action on a running engine (bwc serve), through its API.

Parameters are NAME=VALUE arguments. Each value is converted to the type the
action declares for the parameter: integer, number and boolean values are
parsed, array and object values are read as JSON (an array may also be
written a,b,c); anything else is a string. The engine validates them
(required, types, enums, immutable) and fills in the defaults.

Flags:
  --async          print the execution id and return at once
  --tail           print the action's output while it runs
  --trace-tag T    link the execution to a trace tag
  --json           print the finished execution as JSON
  --api URL        the API (default $BWC_API_URL, else ` + defaultAPIURL + `)

Output: without --async, the finished execution (id, status, result); with
--async, the execution id alone.

Exit codes: 0 the execution succeeded (or, with --async, was accepted); 1 it
ended in another status (failed, timeout, canceled, abandoned), or the API
refused the request (unknown action, invalid parameters: each problem is
listed) or cannot be reached; 2 bad arguments.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			raw := map[string]string{}
			var order []string
			for _, a := range args[1:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: argument %q: expected NAME=VALUE", a)}
				}
				if _, dup := raw[k]; !dup {
					order = append(order, k)
				}
				raw[k] = v
			}
			ctx := cmd.Context()
			params := map[string]any{}
			if len(raw) > 0 {
				action, err := c.Action(ctx, args[0])
				if err != nil {
					return apiExit(err)
				}
				for _, k := range order {
					v, err := convertParam(&action, k, raw[k])
					if err != nil {
						return &exitError{code: 2, msg: "bwc: " + err.Error()}
					}
					params[k] = v
				}
			}
			ex, err := c.Run(ctx, api.RunRequest{Action: args[0], Parameters: params, TraceTag: traceTag})
			if err != nil {
				return apiExit(err)
			}
			if async {
				_, err := fmt.Fprintln(cmd.OutOrStdout(), ex.ID)
				return err
			}
			if follow {
				if _, err := tail(ctx, c, ex.ID, cmd.OutOrStdout(), cmd.ErrOrStderr()); err != nil {
					return apiExit(err)
				}
			}
			return waitAndPrint(cmd, c, ex.ID, asJSON)
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().BoolVar(&async, "async", false, "return the execution id at once")
	cmd.Flags().BoolVar(&follow, "tail", false, "print the output while the action runs")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print the execution as JSON")
	cmd.Flags().StringVar(&traceTag, "trace-tag", "", "trace tag of the execution")
	return cmd
}

// convertParam converts a NAME=VALUE argument to the parameter's type. An
// unknown parameter is sent as a string (the engine says it is unknown).
func convertParam(a *pack.Action, name, v string) (any, error) {
	p := a.Param(name)
	if p == nil {
		return v, nil
	}
	for _, typ := range strings.Split(p.Type, "|") {
		switch typ {
		case "integer":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n, nil
			}
		case "number":
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f, nil
			}
		case "boolean":
			if b, err := strconv.ParseBool(v); err == nil {
				return b, nil
			}
		case "array":
			var arr []any
			if json.Unmarshal([]byte(v), &arr) == nil {
				return arr, nil
			}
			if !strings.HasPrefix(strings.TrimSpace(v), "[") {
				parts := strings.Split(v, ",")
				out := make([]any, len(parts))
				for i, s := range parts {
					out[i] = strings.TrimSpace(s)
				}
				return out, nil
			}
		case "object":
			var obj map[string]any
			if err := json.Unmarshal([]byte(v), &obj); err == nil {
				return obj, nil
			}
		case "string", "":
			return v, nil
		}
	}
	if p.Type == "" {
		return v, nil
	}
	return nil, fmt.Errorf("parameter %s=%q: expected %s", name, v, p.Type)
}
