package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/store"
)

const inquiryExitCodes = `Exit codes: 0 success; 1 the API answered an error (unknown inquiry, a
response that does not satisfy the schema, an inquiry no longer pending) or
cannot be reached; 2 bad flags or arguments.`

func newInquiryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "inquiry",
		Aliases: []string{"inquiries"},
		Short:   "List, inspect and answer inquiries (core.ask, through the API)",
		Long: `Commands on inquiries: the questions a core.ask action (or a workflow's
approval task) asks a person, through the API of a running engine (bwc serve).
The execution that asked stays pending until the inquiry is answered with a
response that satisfies its schema.

The API is found with --api URL, else $BWC_API_URL, else ` + defaultAPIURL + `;
the API key is $BWC_API_KEY, else the content of ` + defaultAPIKeyFile + `.`,
	}
	cmd.AddCommand(newInquiryListCmd(), newInquiryGetCmd(), newInquiryRespondCmd())
	return cmd
}

func newInquiryListCmd() *cobra.Command {
	var af apiFlags
	var status string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--status S] [--limit N] [--json]",
		Short: "List inquiries, newest first",
		Long: `List inquiries, newest first.

Flags:
  --status S   only inquiries in this status: pending, responded, timeout
               or canceled
  --limit N    at most N inquiries; 0, the default, for the API's page size
  --json       print {"items": [...], "next": TOKEN} as the API answers

Output: a table with the id, status, the execution that asked, when it was
asked, and who answered.

` + inquiryExitCodes,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st := store.InquiryStatus(status)
			if status != "" && !st.Valid() {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: --status %q is not an inquiry status: expected pending, responded, timeout or canceled", status)}
			}
			if limit < 0 {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: --limit %d: expected 0 (the API's page size) or more", limit)}
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			list, err := c.InquiryPage(cmd.Context(), store.InquiryQuery{Status: st, Limit: limit})
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), list)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSTATUS\tEXECUTION\tCREATED\tRESPONDED BY")
			for _, q := range list.Items {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", q.ID, q.Status, q.ExecutionID, q.CreatedAt.Local().Format(time.DateTime), dash(q.RespondedBy))
			}
			return tw.Flush()
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().StringVar(&status, "status", "", "only inquiries in this status")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many inquiries")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func newInquiryGetCmd() *cobra.Command {
	var af apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ID [--json]",
		Short: "Show an inquiry: its schema, who may answer, and the response",
		Long: `Show an inquiry: status, the execution that asked, the users and roles
that may answer, the schema a response must satisfy, and the response once
given.

Flags:
  --json   print the inquiry as the API answers it

` + inquiryExitCodes,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := af.client()
			if err != nil {
				return err
			}
			q, err := c.Inquiry(cmd.Context(), args[0])
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), q)
			}
			return printInquiry(cmd.OutOrStdout(), q)
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func printInquiry(w io.Writer, q store.Inquiry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "id:\t%s\n", q.ID)
	fmt.Fprintf(tw, "status:\t%s\n", q.Status)
	fmt.Fprintf(tw, "execution:\t%s\n", q.ExecutionID)
	fmt.Fprintf(tw, "created:\t%s\n", q.CreatedAt.Local().Format(time.RFC3339))
	if len(q.Users) > 0 {
		fmt.Fprintf(tw, "users:\t%s\n", strings.Join(q.Users, ", "))
	}
	if len(q.Roles) > 0 {
		fmt.Fprintf(tw, "roles:\t%s\n", strings.Join(q.Roles, ", "))
	}
	if q.RespondedBy != "" {
		fmt.Fprintf(tw, "responded by:\t%s\n", q.RespondedBy)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the inquiry: %w", err)
	}
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"schema", q.Schema}, {"response", q.Response}} {
		var v any
		if len(f.raw) == 0 || json.Unmarshal(f.raw, &v) != nil || v == nil {
			continue
		}
		b, _ := json.MarshalIndent(v, "", "  ")
		if _, err := fmt.Fprintf(w, "%s:\n%s\n", f.name, b); err != nil {
			return fmt.Errorf("writing the inquiry: %w", err)
		}
	}
	return nil
}

func newInquiryRespondCmd() *cobra.Command {
	var af apiFlags
	var response string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "respond ID [--response JSON] [NAME=VALUE]... [--json]",
		Short: "Answer a pending inquiry",
		Long: `Answer a pending inquiry. The response is a JSON object given with
--response, and/or NAME=VALUE arguments that set (or override) one field
each. A VALUE is converted to the type the inquiry's schema gives the field
(boolean: true/false, yes/no; integer, number, array, object); a field the
schema does not type stays a string. The engine checks the response against
the schema: an invalid response is refused with the field at fault, and the
inquiry stays pending.

  bwc inquiry respond iq-1234 --response '{"approved": true}'
  bwc inquiry respond iq-1234 approved=true comment="disk replaced"

Flags:
  --response JSON   the response object
  --json            print the answered inquiry as the API answers it

Output: the inquiry's id and status after the answer.

` + inquiryExitCodes,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp := map[string]any{}
			if response != "" {
				if err := json.Unmarshal([]byte(response), &resp); err != nil || resp == nil {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: --response %q: expected a JSON object such as '{\"approved\": true}'", response)}
				}
			}
			type pair struct{ k, v string }
			var pairs []pair
			for _, a := range args[1:] {
				k, v, ok := strings.Cut(a, "=")
				if !ok || k == "" {
					return &exitError{code: 2, msg: fmt.Sprintf("bwc: argument %q: expected NAME=VALUE", a)}
				}
				pairs = append(pairs, pair{k, v})
			}
			if response == "" && len(pairs) == 0 {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: no response: give --response JSON or NAME=VALUE arguments (usage: %s)", cmd.UseLine())}
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if len(pairs) > 0 {
				q, err := c.Inquiry(ctx, args[0])
				if err != nil {
					return apiExit(err)
				}
				types := schemaFieldTypes(q.Schema)
				for _, p := range pairs {
					resp[p.k] = convertField(types[p.k], p.v)
				}
			}
			q, err := c.Respond(ctx, args[0], resp)
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), q)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", q.ID, q.Status)
			return err
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	cmd.Flags().StringVar(&response, "response", "", "the response, a JSON object")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

// schemaFieldTypes returns the JSON Schema types of the top-level
// properties of an inquiry's schema ("type": "boolean" or ["integer",
// "null"]).
func schemaFieldTypes(raw json.RawMessage) map[string][]string {
	var doc struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	out := map[string][]string{}
	if json.Unmarshal(raw, &doc) != nil {
		return out
	}
	for name, p := range doc.Properties {
		switch t := p.Type.(type) {
		case string:
			out[name] = []string{t}
		case []any:
			for _, s := range t {
				if s, ok := s.(string); ok {
					out[name] = append(out[name], s)
				}
			}
		}
	}
	return out
}

// convertField converts a NAME=VALUE value to the first of types it
// parses as. A value that fits none stays a string, so that the engine's
// schema check names the field and says what it expected.
func convertField(types []string, v string) any {
	sort.SliceStable(types, func(i, j int) bool { return types[i] != "string" && types[j] == "string" })
	for _, t := range types {
		switch t {
		case "boolean":
			if b, ok := parseBool(v); ok {
				return b
			}
		case "integer":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				return n
			}
		case "number":
			if f, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
				return f
			}
		case "array":
			var arr []any
			if json.Unmarshal([]byte(v), &arr) == nil {
				return arr
			}
		case "object":
			var obj map[string]any
			if json.Unmarshal([]byte(v), &obj) == nil && obj != nil {
				return obj
			}
		case "null":
			if v == "null" {
				return nil
			}
		case "string":
			return v
		}
	}
	return v
}

// parseBool reads a boolean as Go writes it (true, 1, F...) or as people
// answer (yes, no, y, n, on, off).
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes", "y", "on":
		return true, true
	case "no", "n", "off":
		return false, true
	}
	b, err := strconv.ParseBool(v)
	return b, err == nil
}
