package main

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bwc-project/bwc/internal/nodetools"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
)

// dynaliteEndpoint runs dynalite on a free loopback port until the test ends
// and returns its endpoint.
func dynaliteEndpoint(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: this test runs dynalite")
	}
	cli := filepath.Join(nodetools.Require(t, "dynalite"), "dynalite", "cli.js")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	_, port, _ := net.SplitHostPort(addr)
	var out bytes.Buffer
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", port, "--createTableMs", "0")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dynalite: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("dynalite did not listen on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

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
