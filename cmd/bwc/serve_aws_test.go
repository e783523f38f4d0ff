package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/store"
)

func TestServeAWSBadInput(t *testing.T) {
	packs := filepath.Join("..", "..", "packs")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"--lambda without --aws", []string{"--lambda", "runner=http://127.0.0.1:1"}, "--lambda needs --aws"},
		{"not NAME=URL", []string{"--aws", "--lambda", "runner"}, "expected NAME=URL"},
		{"unknown function", []string{"--aws", "--lambda", "nope=http://127.0.0.1:1"}, "no such function"},
		{"not an http URL", []string{"--aws", "--lambda", "runner=127.0.0.1:1"}, "expected an http:// URL"},
		{"given twice", []string{"--aws", "--lambda", "runner=http://a:1", "--lambda", "runner=http://b:1"}, "given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--packs", packs, "--db", filepath.Join(t.TempDir(), "b.db")}, tc.args...)
			_, stderr, code := engineCLI(args...)
			if code != 2 || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tc.stderr)
			}
		})
	}
}

func TestServeAWSCannotListen(t *testing.T) {
	args := []string{"serve", "--packs", filepath.Join("..", "..", "packs"), "--db", filepath.Join(t.TempDir(), "b.db"),
		"--listen", "127.0.0.1:0", "--aws", "--aws-listen", "256.0.0.1:1"}
	_, stderr, code := engineCLI(args...)
	if code != 1 || !strings.Contains(stderr, "listening on 256.0.0.1:1") {
		t.Errorf("exit %d, stderr %q; want 1 and the address", code, stderr)
	}
}

// TestLocalCloudInProcess drives the local cloud of an engine with no
// function under aws-lambda-rie: the action machine's task runs as an
// engine execution, events go to the engine's bus, and the API Gateway
// front passes routes to the engine's API.
func TestLocalCloudInProcess(t *testing.T) {
	eng := startEngine(t)
	if err := waitEngine(context.Background(), eng.URL, nil); err != nil {
		t.Fatal(err)
	}
	opts := &awsOptions{enabled: true, listen: "127.0.0.1:0", apigwListen: "127.0.0.1:0"}
	if err := opts.check(); err != nil {
		t.Fatal(err)
	}
	lc, err := startLocalCloud(eng, opts, filepath.Join(filepath.Dir(eng.APIKeyFile), "bwc.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer lc.stop()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	sf := sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(lc.awsURL) })
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(lc.awsURL) })
	ctx := context.Background()

	t.Run("action machine runs the action in the engine", func(t *testing.T) {
		out, err := sf.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(lc.cloud.MachineARN(content.ActionMachineRef)),
			Name:            aws.String("ex-aws-1"),
			Input:           aws.String(`{"action": "e2e.greet", "parameters": {"name": "aws"}, "context": {"user": "tester"}}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		var d *sfn.DescribeExecutionOutput
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if d, err = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn}); err != nil {
				t.Fatal(err)
			}
			if d.Status != sfntypes.ExecutionStatusRunning || time.Now().After(deadline) {
				break
			}
		}
		if d.Status != sfntypes.ExecutionStatusSucceeded || !strings.Contains(aws.ToString(d.Output), "aws") {
			t.Fatalf("status %s output %s error %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		ex, err := eng.Store.GetExecution(ctx, "ex-aws-1")
		if err != nil {
			t.Fatal(err)
		}
		if ex.Status != store.StatusSucceeded || ex.Action != "e2e.greet" || ex.Context.User != "tester" {
			t.Errorf("engine execution %+v", ex)
		}
	})

	t.Run("events go to the engine's bus", func(t *testing.T) {
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String("bwc"), Source: aws.String("bwc.e2e"), DetailType: aws.String("e2e.thing"),
			Detail: aws.String(`{"trigger": "e2e.thing", "payload": {"n": 1}, "trace_tag": "tag-aws"}`),
		}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("%v %+v", err, out)
		}
		ti, err := eng.Store.GetTriggerInstance(ctx, store.TriggerInstanceID(aws.ToString(out.Entries[0].EventId)))
		if err != nil {
			t.Fatal(err)
		}
		if ti.Trigger != "e2e.thing" || ti.TraceTag != "tag-aws" || string(ti.Payload) != `{"n":1}` {
			t.Errorf("trigger instance %+v (payload %s)", ti, ti.Payload)
		}
	})

	t.Run("API Gateway front falls back to the engine's API", func(t *testing.T) {
		resp, err := http.Get(lc.apigwURL + "/api/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), "ok") {
			t.Errorf("health %d %s", resp.StatusCode, body)
		}
	})

	t.Run("banner", func(t *testing.T) {
		var b strings.Builder
		printAWSBanner(&b, lc)
		for _, want := range []string{lc.awsURL, lc.apigwURL, "aws --endpoint-url " + lc.awsURL, "function runner:", "in-process"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("banner lacks %q:\n%s", want, b.String())
			}
		}
	})
}

var inquiryID = regexp.MustCompile(`"id": "(iq-[0-9a-f]+)"`)

// TestLocalRunnerAnswersCallbacks: the in-process runner runs core.ask for
// a .waitForTaskToken task until its inquiry is answered, and answers with
// the response.
func TestLocalRunnerAnswersCallbacks(t *testing.T) {
	eng := startEngine(t)
	if err := waitEngine(context.Background(), eng.URL, nil); err != nil {
		t.Fatal(err)
	}
	runner := eng.LocalRunner()
	if a, ok := runner.(interface{ AnswersCallbacks() bool }); !ok || !a.AnswersCallbacks() {
		t.Fatal("the in-process runner does not answer callback tasks")
	}
	type answer struct {
		out []byte
		err error
	}
	done := make(chan answer, 1)
	go func() {
		out, err := runner.Invoke(context.Background(), []byte(`{"action": "core.ask", "task_token": "tok-1",
			"parameters": {"schema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}},
			"context": {"task": "approve", "workflow": "w"}}`))
		done <- answer{out, err}
	}()
	// The inquiry appears once the execution is pending.
	var id string
	for deadline := time.Now().Add(30 * time.Second); id == ""; time.Sleep(10 * time.Millisecond) {
		out, _, code := engineCLI("inquiry", "list", "--json")
		if m := inquiryID.FindStringSubmatch(out); code == 0 && m != nil {
			id = m[1]
		}
		select {
		case a := <-done:
			t.Fatalf("answered before any inquiry: %s, %v", a.out, a.err)
		default:
		}
		if time.Now().After(deadline) {
			out, errOut, code := engineCLI("inquiry", "list", "--json")
			t.Fatalf("no inquiry was created: %d %s %s", code, out, errOut)
		}
	}
	if _, errOut, code := engineCLI("inquiry", "respond", id, "ok=true"); code != 0 {
		t.Fatalf("respond: exit %d: %s", code, errOut)
	}
	a := <-done
	if a.err != nil || !strings.Contains(string(a.out), `"ok":true`) {
		t.Errorf("answer %s, %v", a.out, a.err)
	}
}
