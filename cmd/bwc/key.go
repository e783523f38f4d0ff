package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/api/client"
	"github.com/bwc-project/bwc/internal/store"
)

const keyExitCodes = `Exit codes: 0 success; 1 the API answered an error (unknown key, a refused
value) or cannot be reached; 2 bad flags or arguments (a --scope other than
system or user).`

func newKeyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "key",
		Aliases: []string{"keys", "kv"},
		Short:   "Read and write the datastore (key-value pairs, secrets; through the API)",
		Long: `Commands on the datastore: the key-value pairs that rules and actions read
with $kv() and $secret(), and that hold secrets such as a webhook's signature
secret or an SSH password. A pair is in scope system (shared) or user (the
caller's own, the user of the API key). Secret values are encrypted at rest
and read as ******** unless decrypted.

The API is found with --api URL, else $BWC_API_URL, else ` + defaultAPIURL + `;
the API key is $BWC_API_KEY, else the content of ` + defaultAPIKeyFile + `.`,
	}
	cmd.AddCommand(newKeyListCmd(), newKeyGetCmd(), newKeySetCmd(), newKeyDeleteCmd())
	return cmd
}

// scopeFlag is the --scope flag of the key commands.
type scopeFlag struct{ scope string }

func (f *scopeFlag) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.scope, "scope", string(store.ScopeSystem), "system, or user (the API key's user's own keys)")
}

func (f *scopeFlag) get() (store.Scope, error) {
	s := store.Scope(f.scope)
	if s != store.ScopeSystem && s != store.ScopeUser {
		return "", &exitError{code: 2, msg: fmt.Sprintf("bwc: --scope %q: expected system or user", f.scope)}
	}
	return s, nil
}

func newKeyListCmd() *cobra.Command {
	var af apiFlags
	var sf scopeFlag
	var prefix string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--prefix P] [--scope system|user] [--json]",
		Short: "List datastore keys, secrets masked",
		Long: `List the key-value pairs of a scope, by name, secret values masked.

Flags:
  --prefix P   only names that start with P
  --scope S    system (default) or user
  --json       print {"items": [...]} with every pair

Output: a table with the name, value, whether it is a secret, when it was
last set and when it expires. Every page of the API's answer is read; an
API that answers a page token it gave before is an error (exit 1), not an
endless listing.

` + keyExitCodes,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scope, err := sf.get()
			if err != nil {
				return err
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			all := api.KeyList{Items: []store.KeyValue{}}
			q := client.KeyQuery{Scope: scope, Prefix: prefix}
			seen := map[string]bool{}
			for {
				page, err := c.Keys(cmd.Context(), q)
				if err != nil {
					return apiExit(err)
				}
				all.Items = append(all.Items, page.Items...)
				if page.Next == "" {
					break
				}
				if seen[page.Next] {
					// The API would page forever.
					return &exitError{code: 1, msg: fmt.Sprintf("bwc: listing %s keys: the API answered the page token %q a second time (after %d keys); expected a new token or none", scope, page.Next, len(all.Items))}
				}
				seen[page.Next] = true
				q.Token = page.Next
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), all)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tVALUE\tSECRET\tUPDATED\tEXPIRES")
			for _, kv := range all.Items {
				fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\n", kv.Name, oneLine(kv.Value, 60), kv.Secret, kv.UpdatedAt.Local().Format(time.DateTime), expires(kv))
			}
			return tw.Flush()
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	sf.add(cmd)
	cmd.Flags().StringVar(&prefix, "prefix", "", "only names that start with this")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func newKeyGetCmd() *cobra.Command {
	var af apiFlags
	var sf scopeFlag
	var decrypt, asJSON bool
	cmd := &cobra.Command{
		Use:   "get NAME [--decrypt] [--scope system|user] [--json]",
		Short: "Show a datastore value",
		Long: `Show a key-value pair. A secret reads as ******** unless --decrypt is given
and the API key may decrypt it.

Flags:
  --decrypt   show a secret's value
  --scope S   system (default) or user
  --json      print the pair as the API answers it

Output: the name, scope, value, whether it is a secret, when it was last
set and when it expires.

` + keyExitCodes,
		Args: keyArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			scope, err := sf.get()
			if err != nil {
				return err
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			kv, err := c.Key(cmd.Context(), scope, args[0], decrypt)
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), kv)
			}
			return printKey(cmd.OutOrStdout(), kv)
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	sf.add(cmd)
	cmd.Flags().BoolVar(&decrypt, "decrypt", false, "show a secret's value")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func newKeySetCmd() *cobra.Command {
	var af apiFlags
	var sf scopeFlag
	var secret, asJSON bool
	var ttl int
	cmd := &cobra.Command{
		Use:   "set NAME VALUE [--secret] [--ttl SECONDS] [--scope system|user] [--json]",
		Short: "Set a datastore value",
		Long: `Set a key-value pair, creating it or replacing its value. It takes effect at
once: rules and actions read the datastore when they run, and a webhook
reads its signature secret when a request arrives.

  bwc key set github_webhook_secret 's3cr3t' --secret

Flags:
  --secret        encrypt the value at rest and mask it when read
  --ttl SECONDS   delete the pair after this many seconds (0: keep it)
  --scope S       system (default) or user
  --json          print the pair as stored (a secret masked)

Output: the scope and name of the pair that was set.

` + keyExitCodes,
		Args: keyArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			scope, err := sf.get()
			if err != nil {
				return err
			}
			if ttl < 0 {
				return &exitError{code: 2, msg: fmt.Sprintf("bwc: --ttl %d: expected 0 or a number of seconds", ttl)}
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			kv, err := c.PutKey(cmd.Context(), scope, args[0], api.KeyRequest{Value: args[1], Secret: secret, TTL: ttl})
			if err != nil {
				return apiExit(err)
			}
			if asJSON {
				return writeJSONOut(cmd.OutOrStdout(), kv)
			}
			kind := "value"
			if kv.Secret {
				kind = "secret"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "set %s %s/%s\n", kind, kv.Scope, kv.Name)
			return err
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	sf.add(cmd)
	cmd.Flags().BoolVar(&secret, "secret", false, "encrypt the value at rest and mask it when read")
	cmd.Flags().IntVar(&ttl, "ttl", 0, "delete the pair after this many seconds")
	cmd.Flags().BoolVarP(&asJSON, "json", "j", false, "print JSON")
	return cmd
}

func newKeyDeleteCmd() *cobra.Command {
	var af apiFlags
	var sf scopeFlag
	cmd := &cobra.Command{
		Use:   "delete NAME [--scope system|user]",
		Short: "Delete a datastore value",
		Long: `Delete a key-value pair.

Flags:
  --scope S   system (default) or user

Output: the scope and name of the pair that was deleted.

` + keyExitCodes,
		Args: keyArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			scope, err := sf.get()
			if err != nil {
				return err
			}
			c, err := af.client()
			if err != nil {
				return err
			}
			if err := c.DeleteKey(cmd.Context(), scope, args[0]); err != nil {
				return apiExit(err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted %s/%s\n", scope, args[0])
			return err
		},
	}
	flagErrors(cmd)
	af.add(cmd)
	sf.add(cmd)
	return cmd
}

func printKey(w io.Writer, kv store.KeyValue) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", kv.Name)
	scope := string(kv.Scope)
	if kv.User != "" {
		scope += " (" + kv.User + ")"
	}
	fmt.Fprintf(tw, "scope:\t%s\n", scope)
	fmt.Fprintf(tw, "value:\t%s\n", kv.Value)
	fmt.Fprintf(tw, "secret:\t%t\n", kv.Secret)
	fmt.Fprintf(tw, "updated:\t%s\n", kv.UpdatedAt.Local().Format(time.RFC3339))
	if !kv.ExpiresAt.IsZero() {
		fmt.Fprintf(tw, "expires:\t%s\n", kv.ExpiresAt.Local().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the key: %w", err)
	}
	return nil
}

func expires(kv store.KeyValue) string {
	if kv.ExpiresAt.IsZero() {
		return "-"
	}
	return kv.ExpiresAt.Local().Format(time.DateTime)
}

// oneLine shortens a value for a table cell: its first line, at most n
// characters.
func oneLine(s string, n int) string {
	cut := false
	for i, r := range s {
		if r == '\n' || r == '\r' {
			s, cut = s[:i], true
			break
		}
	}
	if r := []rune(s); len(r) > n {
		s, cut = string(r[:n]), true
	}
	if cut {
		s += "…"
	}
	return s
}

// keyArgs takes exactly n arguments, the first a key name, which must not
// be empty.
func keyArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return err
		}
		if strings.TrimSpace(args[0]) == "" {
			return errors.New("NAME is empty: expected the key's name")
		}
		return nil
	}
}
