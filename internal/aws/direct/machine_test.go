package direct_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/aws/direct"
	"github.com/bwc-project/bwc/internal/aws/sfnddb"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
	"github.com/bwc-project/bwc/internal/workflow"
)

var update = flag.Bool("update", false, "rewrite statemachines/<rule>.direct.asl.json from packs/")

func repoRoot(t *testing.T) string {
	t.Helper()
	d, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for ; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if d == filepath.Dir(d) {
			t.Fatal("no go.mod above the working directory")
		}
	}
}

func compilePacks(t *testing.T) *content.Compiled {
	t.Helper()
	set, diags, err := pack.LoadDirs(filepath.Join(repoRoot(t), "packs"))
	if err != nil || len(diags) > 0 {
		t.Fatalf("loading packs: %v %v", err, diags)
	}
	c, diags := content.Compile(set)
	if len(diags) > 0 {
		t.Fatalf("compiling packs: %v", diags)
	}
	return c
}

// directRules are the compiled rules on the direct path with their paths.
func directRules(t *testing.T, c *content.Compiled) map[string]content.AWSPath {
	out := map[string]content.AWSPath{}
	for _, r := range c.Rules.Rules {
		p, err := content.RulePath(r, c.Machines)
		if err != nil {
			t.Fatal(err)
		}
		if p.Path == content.PathDirect {
			out[r.Ref] = p
		}
	}
	return out
}

// statemachines/<rule>.direct.asl.json are the direct machines of the
// rules in packs/, as Definition writes them now (go generate
// ./internal/content rewrites them).
func TestGoldens(t *testing.T) {
	c := compilePacks(t)
	dir := filepath.Join(repoRoot(t), "statemachines")
	want := map[string][]byte{}
	for ref, p := range directRules(t, c) {
		def, err := direct.Definition(ref, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		want[content.DirectMachineRef(ref)+".asl.json"] = def
	}
	if len(want) == 0 {
		t.Fatal("no rule in packs/ takes the direct path: the example pack should have one")
	}
	existing, _ := filepath.Glob(filepath.Join(dir, "*.direct.asl.json"))
	for _, f := range existing {
		if _, ok := want[filepath.Base(f)]; !ok {
			if *update {
				if err := os.Remove(f); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("statemachines/%s is the direct machine of a rule that is no longer direct; run go generate ./internal/content", filepath.Base(f))
		}
	}
	for name, b := range want {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(b) {
			t.Errorf("statemachines/%s is stale or missing; run go generate ./internal/content", name)
		}
	}
}

// transform applies an EventBridge input transformer to an event: each
// <name> becomes the JSON value at its path, null when the path is absent.
func transform(t *testing.T, paths map[string]string, tmpl string, event []byte) any {
	t.Helper()
	var ev any
	if err := json.Unmarshal(event, &ev); err != nil {
		t.Fatal(err)
	}
	out := regexp.MustCompile(`<([A-Za-z0-9_]+)>`).ReplaceAllStringFunc(tmpl, func(m string) string {
		path, ok := paths[m[1:len(m)-1]]
		if !ok {
			t.Fatalf("placeholder %s has no path", m)
		}
		v := ev
		for _, k := range strings.Split(strings.TrimPrefix(path, "$."), ".") {
			obj, _ := v.(map[string]any)
			v = obj[k]
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	})
	var in any
	if err := json.Unmarshal([]byte(out), &in); err != nil {
		t.Fatalf("transformed input %s: %v", out, err)
	}
	return in
}

type startedChild struct {
	name  string
	input any
}

// fakeStarter stands for the enforcer's starter: it starts nothing.
type fakeStarter struct{}

func (fakeStarter) Start(_ context.Context, req enforcer.StartRequest) (store.Execution, error) {
	return store.Execution{ID: req.ExecutionID, Action: req.Action.Ref}, nil
}

func scan(t *testing.T, client *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	out, err := client.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Items
}

// The direct machine of the example rule, run on internal/asl with its
// DynamoDB task executed against dynalite, records the enforcement the
// enforcer records for the same event, item for item, and starts the
// action's machine under the enforcer's execution id; the same event again
// writes nothing, starts nothing and ends as a duplicate.
func TestDirectMachineRecordsTheEnforcerRecord(t *testing.T) {
	ctx := context.Background()
	client := dynamotest.StartDynalite(t).Client
	c := compilePacks(t)
	const ref = "examples.deployment_succeeded"
	p, ok := directRules(t, c)[ref]
	if !ok {
		t.Fatalf("rule %s does not take the direct path", ref)
	}
	var r *rule.Compiled
	for _, cr := range c.Rules.Rules {
		if cr.Ref == ref {
			r = cr
		}
	}
	payload := map[string]any{"service": "checkout", "version": "2.15.0", "environment": "production", "status": "succeeded"}
	at := time.Date(2026, 11, 30, 1, 2, 3, 456e6, time.UTC)
	tests := []struct {
		name, trace string
		retention   time.Duration
		// service: an event with no trigger instance id (an AWS service's):
		// its event id stands for one
		service bool
		// lostStart: the first delivery records the enforcement, then its
		// start fails for good; the next delivery must start the execution
		lostStart bool
	}{
		{name: "with trace tag", trace: "trace-1"},
		{name: "without trace tag"},
		{name: "kept for ever", trace: "trace-3", retention: -1},
		{name: "service event", service: true},
		{name: "start lost after the record", trace: "trace-5", lostStart: true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table, enfTable := "direct-"+string(rune('a'+i)), "enforcer-"+string(rune('a'+i))
			for _, n := range []string{table, enfTable} {
				if err := dynamo.CreateTable(ctx, client, n); err != nil {
					t.Fatal(err)
				}
			}
			clock := asl.NewManualClock(at)
			opts := store.Options{Clock: clock, Retention: store.Retention{Enforcements: tt.retention}}
			def, err := direct.Definition(ref, p, tt.retention)
			if err != nil {
				t.Fatal(err)
			}
			const childARN = "arn:aws:states:us-east-1:123456789012:stateMachine:bwc-bwc_action"
			def = []byte(strings.NewReplacer(
				"${"+direct.TableNameParam+"}", table,
				"${"+workflow.StateMachineArnParam(p.Machine)+"}", childARN,
			).Replace(string(def)))

			var mu sync.Mutex
			var started []startedChild
			failStart := tt.lostStart
			child, err := asl.Parse([]byte(`{"QueryLanguage":"JSONata","StartAt":"Run","States":{"Run":{"Type":"Pass","End":true}}}`))
			if err != nil {
				t.Fatal(err)
			}
			cp := &asl.ChildExecutions{
				Machines: func(arn string) (*asl.Machine, error) {
					if arn != childARN {
						t.Errorf("started %s, want %s", arn, childARN)
					}
					return child, nil
				},
				Next: &sfnddb.Port{API: client},
			}
			in := asl.New(asl.WithTaskPort(asl.TaskPortFunc(func(ctx context.Context, req *asl.TaskRequest) (asl.TaskResult, error) {
				if req.Kind == "states" {
					params, _ := req.Parameters.(map[string]any)
					name, _ := params["Name"].(string)
					mu.Lock()
					defer mu.Unlock()
					if failStart {
						failStart = false
						return asl.TaskResult{}, &asl.Failure{Name: "StepFunctions.AccessDeniedException", Cause: "not allowed (test)"}
					}
					for _, s := range started {
						if s.name == name {
							// As Step Functions answers a name in use.
							return asl.TaskResult{}, &asl.Failure{Name: direct.ErrorStarted, Cause: "Execution Already Exists: '" + name + "'"}
						}
					}
					started = append(started, startedChild{name: name, input: params["Input"]})
				}
				return cp.RunTask(ctx, req)
			})), asl.WithClock(clock))
			cp.Interpreter = in
			m, err := in.Parse(def)
			if err != nil {
				t.Fatalf("parsing the direct machine: %v\n%s", err, def)
			}

			env := rule.NewEnvelope("ti-"+tt.name, "examples.deployment", nil, payload, tt.trace, at)
			event, err := env.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if tt.service {
				var m map[string]any
				if err := json.Unmarshal(event, &m); err != nil {
					t.Fatal(err)
				}
				delete(m["detail"].(map[string]any), "trigger_instance_id")
				if event, err = json.Marshal(m); err != nil {
					t.Fatal(err)
				}
			}
			input := transform(t, mergePaths(p), targetTemplate(p), event)

			// What the enforcer records for the same event (for a service
			// event: were its event id a trigger instance id).
			enfDB := dynamo.New(client, enfTable, opts)
			enf, err := enforcer.New([]*rule.Compiled{r}, c.Packs, enfDB, fakeStarter{}, nil, enforcer.Options{Now: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := enf.Enforce(ctx, ref, env)
			if err != nil || rec.Status != store.EnforcementSucceeded {
				t.Fatalf("enforcer: %+v, %v", rec, err)
			}
			want, err := enfDB.GetEnforcement(ctx, rec.ID)
			if err != nil {
				t.Fatal(err)
			}

			db := dynamo.New(client, table, opts)
			// The deliveries of the event: the first starts the execution
			// (with lostStart, the first fails after recording and the
			// second starts it); the last finds it started: a duplicate.
			runs := []string{"starts", "duplicate"}
			if tt.lostStart {
				runs = []string{"fails", "starts", "duplicate"}
			}
			for i, want := range runs {
				x, err := in.Start(ctx, m, input, asl.StartOptions{Name: fmt.Sprintf("delivery-%d", i+1)})
				if err != nil {
					t.Fatal(err)
				}
				d := x.Describe()
				if want == "fails" {
					if d.Status != asl.StatusFailed {
						t.Fatalf("delivery %d: %s, want FAILED (its start was refused)", i+1, d.Status)
					}
					continue
				}
				if d.Status != asl.StatusSucceeded {
					t.Fatalf("delivery %d: %s %s: %s", i+1, d.Status, d.Error, d.Cause)
				}
				out, _ := d.Output.(map[string]any)
				if want == "starts" && (out["enforcement"] != rec.ID || out["execution"] != rec.ExecutionID || out["duplicate"] != nil) {
					t.Errorf("delivery %d output %v, want enforcement %s execution %s started", i+1, out, rec.ID, rec.ExecutionID)
				}
				if want == "duplicate" && (out["enforcement"] != rec.ID || out["duplicate"] != true) {
					t.Errorf("delivery %d (same event) output %v, want a duplicate of %s", i+1, out, rec.ID)
				}
			}
			if len(started) != 1 || started[0].name != rec.ExecutionID {
				t.Fatalf("started %+v, want one execution named %s", started, rec.ExecutionID)
			}
			wantInput := map[string]any{
				"action": "core.echo", "parameters": map[string]any{"message": "2.15.0"},
				"context": map[string]any{"rule": ref, "trigger_instance_id": env.Detail.TriggerInstanceID, "trace_tag": nilIfEmpty(tt.trace)},
			}
			if tt.service {
				wantInput["context"].(map[string]any)["trigger_instance_id"] = nil
			}
			if !reflect.DeepEqual(started[0].input, wantInput) {
				t.Errorf("started with input %v, want %v", started[0].input, wantInput)
			}

			got, err := db.GetEnforcement(ctx, rec.ID)
			if err != nil {
				t.Fatalf("reading the direct machine's enforcement back: %v", err)
			}
			if !sameRecord(got, want) {
				t.Errorf("direct machine recorded\n %+v\nthe enforcer records\n %+v", got, want)
			}
			list, err := db.ListEnforcements(ctx, store.EnforcementQuery{Rule: ref})
			if err != nil || len(list.Items) != 1 || list.Items[0].ID != rec.ID {
				t.Errorf("ListEnforcements by rule: %+v, %v; want the one enforcement", list.Items, err)
			}
			if tt.trace != "" {
				tr, err := db.GetTrace(ctx, tt.trace)
				if err != nil || !reflect.DeepEqual(tr.EnforcementIDs, []string{rec.ID}) {
					t.Errorf("GetTrace: %+v, %v", tr, err)
				}
			}
			// Item for item: every attribute the adapter writes, and no other.
			gotItems, wantItems := scan(t, client, table), scan(t, client, enfTable)
			if len(gotItems) != 1 || len(wantItems) != 1 {
				t.Fatalf("%d items written by the direct machine, %d by the enforcer; want 1 each", len(gotItems), len(wantItems))
			}
			compareItems(t, gotItems[0], wantItems[0])
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func mergePaths(p content.AWSPath) map[string]string { paths, _ := p.DirectTarget(); return paths }
func targetTemplate(p content.AWSPath) string        { _, tmpl := p.DirectTarget(); return tmpl }

// sameRecord compares records as JSON (the time zones of decoded times may
// differ in representation, not in value).
func sameRecord(a, b store.Enforcement) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// compareItems compares two items attribute by attribute; doc, the JSON
// record, is compared as JSON values (Go and JSONata format fractions of
// seconds differently).
func compareItems(t *testing.T, got, want map[string]types.AttributeValue) {
	t.Helper()
	names := map[string]bool{}
	for k := range got {
		names[k] = true
	}
	for k := range want {
		names[k] = true
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, w := got[k], want[k]
		if k == "doc" {
			var gd, wd map[string]any
			gs, _ := g.(*types.AttributeValueMemberS)
			ws, _ := w.(*types.AttributeValueMemberS)
			if gs == nil || ws == nil {
				t.Errorf("doc: got %v, want %v", g, w)
				continue
			}
			_ = json.Unmarshal([]byte(gs.Value), &gd)
			_ = json.Unmarshal([]byte(ws.Value), &wd)
			for _, d := range []map[string]any{gd, wd} {
				for _, f := range []string{"enforced_at", "expires_at"} {
					if s, ok := d[f].(string); ok {
						if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
							d[f] = tm.UTC().Format(time.RFC3339Nano)
						}
					}
				}
			}
			if !reflect.DeepEqual(gd, wd) {
				t.Errorf("doc: got %s, want %s", gs.Value, ws.Value)
			}
			continue
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("attribute %s: got %#v, want %#v", k, g, w)
		}
	}
}
