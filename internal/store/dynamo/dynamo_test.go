package dynamo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/nodetools"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/secret"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

// nodeModules finds the npm packages the tests run; it fails the test when
// dynalite is not installed.
func nodeModules(t *testing.T) string { return nodetools.Require(t, "dynalite") }

// startDynalite runs dynalite (in memory) on a free loopback port until
// the test ends and returns a client for it.
func startDynalite(t *testing.T) *dynamodb.Client {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the DynamoDB conformance run needs Node.js to run dynalite")
	}
	cli := filepath.Join(nodeModules(t), "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("dynalite is not installed (%v): run `make node-tools`", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(node, cli, "--host", "127.0.0.1", "--port", strconv.Itoa(port),
		"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0", "--maxItemSizeKb", "400")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dynalite: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dynalite did not listen on %s: %v\n%s", addr, err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("bwc", "bwc", ""),
		BaseEndpoint: aws.String("http://" + addr),
	})
}

func TestConformance(t *testing.T) {
	client := startDynalite(t)
	var tables atomic.Int64
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		name := fmt.Sprintf("bwc-%d", tables.Add(1))
		if err := dynamo.CreateTable(context.Background(), client, name); err != nil {
			t.Fatal(err)
		}
		return dynamo.New(client, name, opts)
	})
}

// TestStorageLayout checks what the conformance suite cannot see: secrets
// and secret parameters are not stored in clear, every item has the TTL
// attribute, and a large result is split into items under 400 KB.
func TestStorageLayout(t *testing.T) {
	ctx := context.Background()
	client := startDynalite(t)
	if err := dynamo.CreateTable(ctx, client, "layout"); err != nil {
		t.Fatal(err)
	}
	db := dynamo.New(client, "layout", store.Options{Cipher: &storetest.Cipher{}})
	if _, err := db.PutKeyValue(ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "pw"}, Value: "hunter2-plain", Secret: true}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("x"), 2<<20)
	big[0], big[len(big)-1] = '"', '"'
	x := store.Execution{ID: "e", Action: "a.b", Parameters: map[string]any{"token": "tok-plain"}, SecretParameters: []string{"token"}, Result: big}
	if _, err := db.CreateExecution(ctx, x); err != nil {
		t.Fatal(err)
	}
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String("layout")}
	for {
		out, err := client.Scan(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, out.Items...)
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	chunks := 0
	for _, it := range items {
		size := 0
		for k, v := range it {
			size += len(k)
			switch v := v.(type) {
			case *types.AttributeValueMemberS:
				size += len(v.Value)
				if bytes.Contains([]byte(v.Value), []byte("plain")) {
					t.Errorf("item %v stores a secret in clear: %s", it["PK"], k)
				}
			case *types.AttributeValueMemberB:
				size += len(v.Value)
				if bytes.Contains(v.Value, []byte("plain")) {
					t.Errorf("item %v stores a secret in clear: %s", it["PK"], k)
				}
			}
		}
		if size >= 400<<10 {
			t.Errorf("item %v is %d bytes", it["SK"], size)
		}
		sk := it["SK"].(*types.AttributeValueMemberS).Value
		if strings.HasPrefix(sk, "RES#") {
			chunks++
		}
		if sk != "#" && !strings.HasPrefix(sk, "RES#") {
			continue
		}
		if _, ok := it["ttl"]; !ok && it["PK"].(*types.AttributeValueMemberS).Value != "KV#system#" {
			t.Errorf("item %v %s has no ttl attribute", it["PK"], sk)
		}
	}
	if chunks < 7 {
		t.Errorf("a 2 MB result is stored in %d chunks", chunks)
	}
}

// TestExecutionSecretsBoundToID moves an execution's sealed secrets to
// another execution's item behind the store's back: they must not decrypt
// there.
func TestExecutionSecretsBoundToID(t *testing.T) {
	ctx := context.Background()
	client := startDynalite(t)
	if err := dynamo.CreateTable(ctx, client, "bound"); err != nil {
		t.Fatal(err)
	}
	c, err := secret.New(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamo.New(client, "bound", store.Options{Cipher: c})
	for _, x := range []store.Execution{
		{ID: "e1", Action: "a.b", Parameters: map[string]any{"token": "tok-plain"}, SecretParameters: []string{"token"}},
		{ID: "e2", Action: "a.b"},
	} {
		if _, err := db.CreateExecution(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.ExecutionSecrets(ctx, "e1")
	if err != nil || got["token"] != "tok-plain" {
		t.Fatalf("secrets of e1: %v, %v", got, err)
	}
	key := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "EX#" + id}, "SK": &types.AttributeValueMemberS{Value: "#"}}
	}
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bound"), Key: key("e1")})
	if err != nil {
		t.Fatal(err)
	}
	sealed, ok := out.Item["secp"].(*types.AttributeValueMemberB)
	if !ok || bytes.Contains(sealed.Value, []byte("tok-plain")) {
		t.Fatalf("sealed secrets of e1: %#v", out.Item["secp"])
	}
	_, err = client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String("bound"), Key: key("e2"),
		UpdateExpression:          aws.String("SET secp = :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": sealed},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = db.ExecutionSecrets(ctx, "e2")
	if !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("secrets moved to e2: %v, %v; want secret.ErrDecrypt", got, err)
	}
}
