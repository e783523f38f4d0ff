package dynamo_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/aws/kms"
	"github.com/bwc-project/bwc/internal/aws/kms/kmstest"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
	"github.com/bwc-project/bwc/internal/store/secret"
	"github.com/bwc-project/bwc/internal/store/storetest"
)

// startDynalite runs dynalite (in memory) on a free loopback port until
// the test ends and returns a client for it.
func startDynalite(t *testing.T) *dynamodb.Client { return dynamotest.StartDynalite(t).Client }

func TestConformance(t *testing.T) {
	client := startDynalite(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		name := dynamotest.TableName()
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

// TestKMSEnvelopeSecrets stores secrets over KMS's 4096-byte limit on
// direct encryption through the AWS cipher (envelope encryption, over a
// fake KMS): a datastore secret of 10 KB and an execution whose secret
// parameters together exceed 4 KB.
func TestKMSEnvelopeSecrets(t *testing.T) {
	ctx := context.Background()
	client := startDynalite(t)
	if err := dynamo.CreateTable(ctx, client, "envelope"); err != nil {
		t.Fatal(err)
	}
	fake := &kmstest.Fake{}
	db := dynamo.New(client, "envelope", store.Options{Cipher: kms.New(fake, "arn:aws:kms:us-east-1:1:key/k")})
	big := strings.Repeat("s3cr3t-", 10<<10/7)
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"datastore secret of 10 KB", func(t *testing.T) {
			ref := store.KeyRef{Scope: store.ScopeSystem, Name: "big"}
			if _, err := db.PutKeyValue(ctx, store.KeyValue{KeyRef: ref, Value: big, Secret: true}); err != nil {
				t.Fatal(err)
			}
			got, err := db.GetKeyValue(ctx, ref, true)
			if err != nil || got.Value != big {
				t.Fatalf("GetKeyValue: %d bytes, %v; want the %d stored", len(got.Value), err, len(big))
			}
		}},
		{"secret parameters over 4 KB", func(t *testing.T) {
			params := map[string]any{"a": big[:3000], "b": big[3000:6000], "plain": "x"}
			x := store.Execution{ID: "e-big", Action: "a.b", Parameters: params, SecretParameters: []string{"a", "b"}}
			if _, err := db.CreateExecution(ctx, x); err != nil {
				t.Fatal(err)
			}
			got, err := db.ExecutionSecrets(ctx, "e-big")
			if err != nil || got["a"] != params["a"] || got["b"] != params["b"] {
				t.Fatalf("ExecutionSecrets: %d values, %v", len(got), err)
			}
		}},
	} {
		t.Run(tc.name, tc.run)
	}
	var generated, decrypted int
	for _, c := range fake.Calls() {
		switch c.Op {
		case "GenerateDataKey":
			generated++
		case "Decrypt":
			decrypted++
		default:
			t.Errorf("KMS %s called; the cipher should only generate data keys and decrypt them", c.Op)
		}
		if len(c.Context) != 1 || c.Context[kms.ContextKey] == "" {
			t.Errorf("KMS %s with encryption context %v, want the record's aad", c.Op, c.Context)
		}
	}
	if generated != 2 || decrypted != 2 {
		t.Errorf("KMS calls: %d GenerateDataKey, %d Decrypt; want 2 and 2", generated, decrypted)
	}
}

// CreateTable of a table that exists (a create the SDK retried) succeeds.
func TestCreateTableTwice(t *testing.T) {
	client := startDynalite(t)
	name := dynamotest.TableName()
	for i := range 2 {
		if err := dynamo.CreateTable(context.Background(), client, name); err != nil {
			t.Fatalf("create %d: %v", i+1, err)
		}
	}
}
