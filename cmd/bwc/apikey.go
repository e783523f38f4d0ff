package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/spf13/cobra"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
)

func newAPIKeyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apikey",
		Short: "Create API keys in the table of a deployed AWS stack",
		Long: `Commands for the API keys of BWC on AWS. The embedded engine (bwc serve)
creates its admin key itself; a deployed stack starts with none, and
"bwc apikey create" writes the first one into its DynamoDB table.`,
	}
	cmd.AddCommand(newAPIKeyCreateCmd())
	return cmd
}

func newAPIKeyCreateCmd() *cobra.Command {
	var table, region, endpoint, user string
	cmd := &cobra.Command{
		Use:   "create --table NAME [--region REGION] [--endpoint-url URL] [--user NAME]",
		Short: "Create an admin API key in a deployed stack's DynamoDB table and print it",
		Long: `Create an admin API key directly in the DynamoDB table of a deployed BWC
stack (the stack's TableName output) and print the key, once, on stdout: only
its SHA-256 hash is stored. Use it as BWC_API_KEY (or the X-BWC-Api-Key
header) with the stack's ApiUrl. The stack's functions find a new key a
moment later (the lookup reads an index, eventually consistent).

AWS credentials and the region come from the environment and the shared
configuration files, as for the AWS CLI (AWS_PROFILE, AWS_REGION, ...). The
caller needs dynamodb:PutItem on the table.

Flags:
  --table NAME        the table (required).
  --region REGION     the region (default: from the environment).
  --endpoint-url URL  a DynamoDB-compatible endpoint instead of AWS's (the
                      local cloud, dynalite).
  --user NAME         the user the key authenticates (default admin).

Output: the key, on one line.

Exit codes: 0 created; 1 the key could not be written (credentials, region,
table); 2 bad usage.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if table == "" {
				return &exitError{code: 2, msg: "bwc apikey create: --table is required: the stack's TableName output"}
			}
			if user == "" {
				return &exitError{code: 2, msg: "bwc apikey create: --user is empty: expected a user name"}
			}
			ctx := cmd.Context()
			var opts []func(*config.LoadOptions) error
			if region != "" {
				opts = append(opts, config.WithRegion(region))
			}
			cfg, err := config.LoadDefaultConfig(ctx, opts...)
			if err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("bwc apikey create: loading the AWS configuration: %v", err)}
			}
			if cfg.Region == "" {
				return &exitError{code: 1, msg: "bwc apikey create: no AWS region: set AWS_REGION or pass --region"}
			}
			client := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
				if endpoint != "" {
					o.BaseEndpoint = aws.String(endpoint)
				}
			})
			var b [24]byte
			if _, err := rand.Read(b[:]); err != nil {
				return fmt.Errorf("generating the key: %w", err)
			}
			key := "bwc_" + hex.EncodeToString(b[:])
			hash := store.HashAPIKey(key)
			db := dynamo.New(client, table, store.Options{})
			if _, err := db.CreateAPIKey(ctx, store.APIKey{ID: user + "-" + hash[:12], KeyHash: hash, User: user, Role: "admin", Enabled: true}); err != nil {
				return &exitError{code: 1, msg: fmt.Sprintf("bwc apikey create: writing the key to table %s: %v", table, err)}
			}
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), key); err != nil {
				return fmt.Errorf("writing the key: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&table, "table", "", "the stack's DynamoDB table (its TableName output)")
	f.StringVar(&region, "region", "", "the AWS region (default: from the environment)")
	f.StringVar(&endpoint, "endpoint-url", "", "a DynamoDB-compatible endpoint")
	f.StringVar(&user, "user", "admin", "the user the key authenticates")
	return cmd
}
