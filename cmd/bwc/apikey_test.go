package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
)

// dynaliteEndpoint runs dynalite on a free loopback port until the test ends
// and returns its endpoint.
func dynaliteEndpoint(t *testing.T) string { return dynamotest.StartDynalite(t).Endpoint }

func TestAPIKeyCreate(t *testing.T) {
	endpoint := dynaliteEndpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "bwc")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "bwc")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	client := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("bwc", "bwc", ""), BaseEndpoint: aws.String(endpoint),
	})
	if err := dynamo.CreateTable(ctx, client, "bwc"); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, "", "apikey", "create", "--table", "bwc", "--region", "us-east-1", "--endpoint-url", endpoint)
	key := strings.TrimSpace(out)
	if code != 0 || !strings.HasPrefix(key, "bwc_") || strings.Contains(key, "\n") {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	got, err := dynamo.New(client, "bwc", store.Options{}).APIKeyByHash(ctx, store.HashAPIKey(key))
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "admin" || got.Role != "admin" || !got.Enabled {
		t.Errorf("stored key %+v", got)
	}
	// a second key is another key
	_, out2, _ := runCLI(t, "", "apikey", "create", "--table", "bwc", "--region", "us-east-1", "--endpoint-url", endpoint, "--user", "ops")
	if strings.TrimSpace(out2) == key || strings.TrimSpace(out2) == "" {
		t.Errorf("second key %q", out2)
	}

	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no table", []string{"apikey", "create"}, 2},
		{"no such table", []string{"apikey", "create", "--table", "nope", "--region", "us-east-1", "--endpoint-url", endpoint}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, out, errOut := runCLI(t, "", tt.args...); code != tt.code || errOut == "" || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d", code, out, errOut, tt.code)
			}
		})
	}
}
