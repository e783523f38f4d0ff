package localcloud

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	awsdirect "github.com/bwc-project/bwc/internal/aws/direct"
	"github.com/bwc-project/bwc/internal/aws/sfnddb"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
)

func TestTransformInput(t *testing.T) {
	event := []byte(`{"id": "e1", "detail": {"payload": {"v": "2.0", "n": 3, "o": {"a": [1]}}}}`)
	tests := []struct {
		name  string
		paths map[string]string
		tmpl  string
		want  string
		err   bool
	}{
		{"values of every type", map[string]string{"id": "$.id", "v": "$.detail.payload.v", "n": "$.detail.payload.n", "o": "$.detail.payload.o"},
			`{"id":<id>,"x":{"v":<v>,"n":<n>,"o":<o>}}`, `{"id":"e1","x":{"v":"2.0","n":3,"o":{"a":[1]}}}`, false},
		{"absent path is null", map[string]string{"t": "$.detail.trigger_instance_id"}, `{"t":<t>}`, `{"t":null}`, false},
		{"the whole event", map[string]string{"e": "$"}, `[<e>]`, `[` + string(event) + `]`, false},
		{"unknown placeholder stays", map[string]string{}, `{"a":"<b>"}`, `{"a":"<b>"}`, false},
		{"bad path", map[string]string{"x": "detail.v"}, `<x>`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := transformInput(tt.paths, tt.tmpl, event)
			if tt.err != (err != nil) {
				t.Fatalf("error %v, want an error: %v", err, tt.err)
			}
			if !tt.err && !jsonEqual(t, got, tt.want) {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// The example rule on the direct path, put through PutEvents, runs as the
// stack runs it: its direct machine records the enforcement in the table
// (dynalite) and starts the action machine; the same event again records
// nothing more and starts nothing more; the enforcer is not invoked for it
// and the direct machine's executions send no status change.
func TestDirectRule(t *testing.T) {
	const ref, table = "examples.deployment_succeeded", "bwc-test"
	ctx := context.Background()
	client := dynamotest.StartDynalite(t).Client
	if err := dynamo.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	set, diags, err := pack.LoadDirs(filepath.Join("..", "..", "packs"))
	if err != nil || len(diags) > 0 {
		t.Fatalf("loading packs: %v %v", err, diags)
	}
	compiled, diags := content.Compile(set)
	if len(diags) > 0 {
		t.Fatalf("compiling packs: %v", diags)
	}
	direct := map[string]DirectRule{}
	for _, r := range compiled.Rules.Rules {
		p, err := content.RulePath(r, compiled.Machines)
		if err != nil {
			t.Fatal(err)
		}
		if p.Path == content.PathDirect {
			def, err := awsdirect.Definition(r.Ref, p, 0)
			if err != nil {
				t.Fatal(err)
			}
			direct[r.Ref] = DirectRule{Path: p, Definition: def}
		}
	}
	if direct[ref].Path.Path != content.PathDirect {
		t.Fatalf("rule %s is not on the direct path", ref)
	}
	machines := map[string][]byte{content.ActionMachineRef: content.ActionMachineDefinition()}
	for wf, m := range compiled.Machines {
		if machines[wf], err = m.JSON(); err != nil {
			t.Fatal(err)
		}
	}
	enf, runner, completion := newRecorder(nil), newRecorder(runnerAnswer), newRecorder(nil)
	c, err := New(Config{
		Rules: compiled.Rules.Rules, Machines: machines, Direct: direct, Table: table, DynamoDB: &sfnddb.Port{API: client},
		Functions:  map[string]Function{FnEnforcer: enf, FnRunner: runner, FnCompletion: completion},
		RetryDelay: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	defer c.Close()
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	sf := sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "deployment_succeeded.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sample struct {
		Trigger string         `json:"trigger"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(raw, &sample); err != nil {
		t.Fatal(err)
	}
	const ti, trace = "ti-direct-1", "trace-direct"
	detail, err := json.Marshal(rule.Detail{Trigger: sample.Trigger, TriggerInstanceID: ti, TraceTag: trace, Payload: sample.Payload})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the same event twice: EventBridge delivers at least once
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			EventBusName: aws.String(c.EventBusName()), Source: aws.String(rule.SourceFor(sample.Trigger)),
			DetailType: aws.String(sample.Trigger), Detail: aws.String(string(detail)),
		}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("PutEvents: %v %+v", err, out)
		}
		c.Wait()
	}

	enID := enforcer.EnforcementID(ti, ref)
	exID := enforcer.ExecutionID(enID)
	got, err := dynamo.New(client, table, store.Options{}).GetEnforcement(ctx, enID)
	if err != nil {
		t.Fatalf("reading the enforcement back: %v", err)
	}
	if got.Rule != ref || got.TriggerInstanceID != ti || got.ExecutionID != exID || got.Status != store.EnforcementSucceeded {
		t.Errorf("enforcement %+v, want rule %s, trigger instance %s, execution %s, succeeded", got, ref, ti, exID)
	}

	var runs []map[string]any
	for _, p := range runner.all() {
		var m map[string]any
		if err := json.Unmarshal(p, &m); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, m)
	}
	wantArn := "arn:aws:states:us-east-1:" + Account + ":execution:" + MachineName(DefaultName, content.ActionMachineRef) + ":" + exID
	if len(runs) != 1 || runs[0]["execution"] != wantArn || runs[0]["action"] != "core.echo" ||
		!reflect.DeepEqual(runs[0]["parameters"], map[string]any{"message": "2.15.0"}) {
		t.Fatalf("runner invocations %v, want one of core.echo {message: 2.15.0} in %s", runs, wantArn)
	}
	for _, p := range enf.all() {
		var m map[string]any
		_ = json.Unmarshal(p, &m)
		if m["rule"] == ref {
			t.Errorf("the enforcer was invoked for the direct rule: %s", p)
		}
	}

	list, err := sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(c.MachineARN(content.DirectMachineRef(ref)))})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Executions) != 2 {
		t.Fatalf("direct machine executions %+v, want one per delivery", list.Executions)
	}
	duplicates := 0
	for _, e := range list.Executions {
		d, err := sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: e.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusSucceeded {
			t.Errorf("direct execution %s: %s %s %s", aws.ToString(e.ExecutionArn), d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		var o map[string]any
		_ = json.Unmarshal([]byte(aws.ToString(d.Output)), &o)
		if o["duplicate"] == true {
			duplicates++
		}
	}
	if duplicates != 1 {
		t.Errorf("%d direct executions ended as duplicates, want 1", duplicates)
	}

	var statuses []string
	for _, p := range completion.all() {
		var ev struct {
			Detail struct {
				StateMachineARN string `json:"stateMachineArn"`
				Status          string `json:"status"`
			} `json:"detail"`
		}
		_ = json.Unmarshal(p, &ev)
		if ev.Detail.StateMachineARN != c.MachineARN(content.ActionMachineRef) {
			t.Errorf("status change of %s sent to completion; only BWC machines' are", ev.Detail.StateMachineARN)
		}
		statuses = append(statuses, ev.Detail.Status)
	}
	if !reflect.DeepEqual(statuses, []string{"RUNNING", "SUCCEEDED"}) {
		t.Errorf("status changes %v, want RUNNING then SUCCEEDED of the action machine", statuses)
	}
}

// The direct machines' table substitution is the one internal/aws/direct
// writes.
func TestTableNameParam(t *testing.T) {
	if tableNameParam != awsdirect.TableNameParam {
		t.Errorf("tableNameParam %q, internal/aws/direct writes ${%s}", tableNameParam, awsdirect.TableNameParam)
	}
}
