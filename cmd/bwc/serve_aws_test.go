package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/engine"
	"github.com/bwc-project/bwc/internal/localcloud"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
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
		{"--table without --aws", []string{"--table", "bwc"}, "--table needs --aws"},
		{"--dynamodb-endpoint without --aws", []string{"--dynamodb-endpoint", "http://127.0.0.1:1"}, "--dynamodb-endpoint needs --aws"},
		{"--dynamodb-endpoint without --table", []string{"--aws", "--dynamodb-endpoint", "http://127.0.0.1:1"}, "--dynamodb-endpoint needs --table"},
		{"--dynamodb-endpoint not a URL", []string{"--aws", "--table", "t", "--dynamodb-endpoint", "127.0.0.1:1"}, "expected an http:// URL"},
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

// fakeFunction is an aws-lambda-rie stand-in that records its invocations
// and answers {}.
type fakeFunction struct {
	srv *httptest.Server
	got chan []byte
}

func newFakeFunction(t *testing.T) *fakeFunction {
	t.Helper()
	f := &fakeFunction{got: make(chan []byte, 1000)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == localcloud.InvocationPath {
			f.got <- b
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// With --table and the enforcer function, the example direct rule runs as
// on AWS: its direct machine records the enforcement in DynamoDB
// (dynalite) and starts the action machine, whose task the engine runs
// in-process under the enforcer's execution id; the enforcer function is
// not invoked for it.
func TestLocalCloudDirectRule(t *testing.T) {
	const ref, table = "examples.deployment_succeeded", "bwc-direct"
	client := dynamotest.StartDynalite(t).Client
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	eng, err := engine.Open(ctx, engine.Config{
		PackDirs: []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("..", "..", "packs", "examples")},
		DBPath:   filepath.Join(dir, "bwc.db"), Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine: %v", err)
		}
	})
	if err := waitEngine(ctx, eng.URL, nil); err != nil {
		t.Fatal(err)
	}
	enforcerFn := newFakeFunction(t)
	opts := &awsOptions{enabled: true, listen: "127.0.0.1:0", apigwListen: "127.0.0.1:0", table: table,
		dynamodbEndpoint: aws.ToString(client.Options().BaseEndpoint), lambdas: []string{"enforcer=" + enforcerFn.srv.URL}}
	if err := opts.check(); err != nil {
		t.Fatal(err)
	}
	lc, err := startLocalCloud(eng, opts, filepath.Join(dir, "bwc.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer lc.stop()
	var banner strings.Builder
	printAWSBanner(&banner, lc)
	for _, want := range []string{ref, "record the enforcement in table " + table, "(created)"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner.String())
		}
	}

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(lc.awsURL) })
	const ti = "ti-serve-direct"
	detail := `{"trigger": "examples.deployment", "trigger_instance_id": "` + ti + `", "payload": {"service": "checkout", "version": "2.15.0", "environment": "production", "status": "succeeded"}}`
	out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String("bwc"), Source: aws.String("bwc.examples"), DetailType: aws.String("examples.deployment"), Detail: aws.String(detail),
	}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("PutEvents: %v %+v", err, out)
	}
	enID := enforcer.EnforcementID(ti, ref)
	exID := enforcer.ExecutionID(enID)
	var ex store.Execution
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		ex, err = eng.Store.GetExecution(ctx, exID)
		if err == nil && ex.Status.Finished() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution %s: %+v, %v", exID, ex, err)
		}
	}
	if ex.Status != store.StatusSucceeded || ex.Action != "core.echo" || !strings.Contains(string(ex.Result), "2.15.0") || ex.Context.Rule != ref {
		t.Errorf("engine execution %+v (result %s)", ex, ex.Result)
	}
	en, err := dynamo.New(client, table, store.Options{}).GetEnforcement(ctx, enID)
	if err != nil {
		t.Fatalf("reading the enforcement from the table: %v", err)
	}
	if en.Rule != ref || en.ExecutionID != exID {
		t.Errorf("enforcement %+v", en)
	}
	lc.cloud.Wait()
	for len(enforcerFn.got) > 0 {
		if p := <-enforcerFn.got; strings.Contains(string(p), `"rule":"`+ref+`"`) {
			t.Errorf("the enforcer function was invoked for the direct rule: %s", p)
		}
	}
}

// With --lambda poller and timer, the local cloud invokes the poller
// function per polling sensor with {"pack", "sensor"}, and the engine
// hands its timers and sensors off (internal/engine tests the hand-off).
func TestServeAWSPollers(t *testing.T) {
	dir := t.TempDir()
	eng, err := engine.Open(context.Background(), engine.Config{
		PackDirs: []string{filepath.Join("..", "..", "packs", "core"), filepath.Join("..", "..", "tests", "testdata", "packs")},
		DBPath:   filepath.Join(dir, "bwc.db"), Listen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	poller, timerFn := newFakeFunction(t), newFakeFunction(t)
	opts := &awsOptions{enabled: true, listen: "127.0.0.1:0", apigwListen: "127.0.0.1:0",
		lambdas: []string{"poller=" + poller.srv.URL, "timer=" + timerFn.srv.URL}}
	if err := opts.check(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- serveAWS(ctx, &stdout, eng, opts, filepath.Join(dir, "bwc.db"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	var got []byte
	select {
	case got = <-poller.got:
	case err := <-done:
		t.Fatalf("serveAWS ended: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the poller function was not invoked")
	}
	var tick []byte
	select {
	case tick = <-timerFn.got:
	case <-time.After(30 * time.Second):
		t.Fatal("the timer function was not invoked")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The schedule's input, as the stack's: pack, sensor and Scheduler's
	// scheduled time (the poll's identity).
	var in struct {
		Pack, Sensor  string
		ScheduledTime string `json:"scheduled_time"`
	}
	if err := json.Unmarshal(got, &in); err != nil || in.Pack != "e2e" || in.Sensor != "e2e.Ticker" {
		t.Errorf("poller input %s (%v)", got, err)
	} else if _, err := time.Parse(time.RFC3339, in.ScheduledTime); err != nil {
		t.Errorf("poller input %s: scheduled_time: %v", got, err)
	}
	if !strings.Contains(string(tick), `"rule":"e2e.tick"`) {
		t.Errorf("timer input %s", tick)
	}
	for _, want := range []string{"a schedule per polling sensor: 1; the engine does not run them", "the engine's own timers do not fire"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, stdout.String())
		}
	}
}
