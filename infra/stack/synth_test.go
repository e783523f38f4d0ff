package stack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/bwc-project/bwc/infra/stack"
	"github.com/bwc-project/bwc/internal/api/routes"
	"github.com/bwc-project/bwc/internal/cost"
	"github.com/bwc-project/bwc/internal/workflow"
)

// synth is one offline synthesis of the stack, shared by the subtests of
// TestSynth (a synthesis takes seconds: jsii runs aws-cdk-lib in Node.js).
type synth struct {
	st       *stack.Stack
	plan     *stack.Plan
	template assertions.Template
	res      map[string]resource // by logical id
	outdir   string
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
	Metadata   map[string]any `json:"Metadata"`
}

// placeholderCode creates build/lambda/<fn>/bootstrap stand-ins: the
// functions' mains do not exist yet, and the synth only packages the files.
func placeholderCode(t *testing.T) string {
	dir := t.TempDir()
	for _, fn := range stack.FunctionNames() {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func synthesize(t *testing.T) *synth {
	t.Helper()
	_, plan := loadPlan(t)
	outdir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir)})
	st, err := stack.New(app, "Bwc", stack.Props{Plan: plan, CodeDir: placeholderCode(t)})
	if err != nil {
		t.Fatal(err)
	}
	stack.AddChecks(app)
	s := &synth{st: st, plan: plan, template: assertions.Template_FromStack(st.Stack, nil), outdir: outdir}
	raw, err := json.Marshal(s.template.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	s.res = doc.Resources
	return s
}

// assert turns a failed CDK assertion (a panic from jsii) into a test error.
func assert(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

func (s *synth) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range s.res {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

func (s *synth) logicalID(c awscdk.CfnElement) string { return *s.st.GetLogicalId(c) }

var hashSuffix = regexp.MustCompile(`[0-9A-F]{8}$`)

// render writes a CloudFormation value as text: references by logical id
// without CDK's hash suffix (Ref(MachineBwcAction), TableArn...).
func render(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			return "Ref(" + hashSuffix.ReplaceAllString(ref, "") + ")"
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok {
			return hashSuffix.ReplaceAllString(ga[0].(string), "") + "." + ga[1].(string)
		}
		if j, ok := x["Fn::Join"].([]any); ok {
			var parts []string
			for _, p := range j[1].([]any) {
				parts = append(parts, render(p))
			}
			return strings.Join(parts, j[0].(string))
		}
		if sub, ok := x["Fn::Sub"].(string); ok {
			return sub
		}
	case []any:
		var parts []string
		for _, e := range x {
			parts = append(parts, render(e))
		}
		sort.Strings(parts)
		return strings.Join(parts, " ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// statements returns the role's policy as "actions on resources" lines,
// sorted.
func (s *synth) statements(roleID string) []string {
	var out []string
	for _, p := range s.ofType("AWS::IAM::Policy") {
		if render(p.Properties["Roles"]) != "Ref("+hashSuffix.ReplaceAllString(roleID, "")+")" {
			continue
		}
		doc := p.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			m := st.(map[string]any)
			if m["Effect"] != "Allow" {
				out = append(out, "unexpected effect "+render(m["Effect"]))
			}
			var actions []string
			for _, a := range asList(m["Action"]) {
				actions = append(actions, a.(string))
			}
			sort.Strings(actions)
			var resources []string
			for _, r := range asList(m["Resource"]) {
				resources = append(resources, render(r))
			}
			sort.Strings(resources)
			line := strings.Join(actions, ",") + " on " + strings.Join(resources, " ")
			if m["Condition"] != nil {
				line += " if " + render(m["Condition"])
			}
			out = append(out, line)
		}
	}
	sort.Strings(out)
	return out
}

func TestSynth(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes the stack with jsii (Node.js): seconds")
	}
	s := synthesize(t)

	t.Run("cdk-nag AwsSolutions", func(t *testing.T) {
		ann := assertions.Annotations_FromStack(s.st.Stack)
		re := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, m := range append(*ann.FindError(jsii.String("*"), re), *ann.FindWarning(jsii.String("*"), re)...) {
			b, _ := json.Marshal(m) // the message's Go fields are deprecated; its JSON says all
			t.Errorf("unsuppressed cdk-nag finding: %s", b)
		}
		// the checks ran: their report lists compliant and suppressed
		// findings, and nothing else
		reports, _ := filepath.Glob(filepath.Join(s.outdir, "AwsSolutions-*NagReport.csv"))
		if len(reports) != 1 {
			t.Fatalf("cdk-nag reports in %s: %v, want one", s.outdir, reports)
		}
		report, err := os.ReadFile(reports[0])
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, line := range strings.Split(strings.TrimSpace(string(report)), "\n")[1:] {
			f := strings.Split(line, "\",\"")
			if len(f) < 3 {
				t.Fatalf("report line %q", line)
			}
			count[f[2]]++
			if f[2] != "Compliant" && f[2] != "Suppressed" {
				t.Errorf("cdk-nag: %s", line)
			}
		}
		if count["Compliant"] == 0 || count["Suppressed"] == 0 {
			t.Errorf("cdk-nag report counts %v: the checks did not run", count)
		}
	})

	t.Run("rules", func(t *testing.T) {
		c, _ := loadPlan(t)
		rules := s.ofType("AWS::Events::Rule")
		enforcer := hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[stack.FnEnforcer].Node().DefaultChild().(awscdk.CfnElement)), "")
		for _, rp := range s.plan.Rules {
			compiled, _ := c.Rules.Get(rp.Ref)
			var pattern map[string]any
			if err := json.Unmarshal(compiled.Pattern, &pattern); err != nil {
				t.Fatal(err)
			}
			state := "ENABLED"
			if !compiled.Enabled {
				state = "DISABLED"
			}
			name := stack.RuleName("bwc", rp.Ref)
			assert(t, "rule "+rp.Ref, func() {
				s.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
					"Name":         name,
					"State":        state,
					"EventPattern": assertions.Match_ObjectEquals(&pattern),
				})
			})
			id := s.logicalID(s.st.Rules[rp.Ref])
			r := rules[id]
			if got, _ := json.Marshal(r.Properties["EventPattern"]); !jsonEqual(got, compiled.Pattern) {
				t.Errorf("rule %s: pattern %s, want the compiled %s", rp.Ref, got, compiled.Pattern)
			}
			if r.Metadata[stack.MetaRuleTarget] != rp.Target || r.Metadata[stack.MetaRuleRef] != rp.Ref || r.Metadata[stack.MetaMachine] != rp.Machine {
				t.Errorf("rule %s: metadata %v, want target %s machine %s", rp.Ref, r.Metadata, rp.Target, rp.Machine)
			}
			targets := r.Properties["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("rule %s: %d targets", rp.Ref, len(targets))
			}
			tg := targets[0].(map[string]any)
			wantArn := enforcer + ".Arn"
			if rp.Target == stack.TargetDirect {
				wantArn = "Ref(Machine" + exportRef(rp.DirectMachine) + ")"
			} else if compiled.NeedsEnforcer() != (rp.Target == stack.TargetEnforcer) && compiled.NeedsEnforcer() {
				t.Errorf("rule %s needs the enforcer", rp.Ref)
			}
			if got := render(tg["Arn"]); got != wantArn {
				t.Errorf("rule %s: target %s, want %s", rp.Ref, got, wantArn)
			}
			if got := render(tg["DeadLetterConfig"].(map[string]any)["Arn"]); got != "DeadLetters.Arn" {
				t.Errorf("rule %s: dead-letter queue %s", rp.Ref, got)
			}
			if tg["RetryPolicy"] == nil {
				t.Errorf("rule %s: no retry policy", rp.Ref)
			}
			it := tg["InputTransformer"].(map[string]any)
			if rp.Target == stack.TargetEnforcer {
				want := fmt.Sprintf(`{"rule":%q,"event":<aws.events.event.json>}`, rp.Ref)
				if it["InputTemplate"] != want {
					t.Errorf("rule %s: enforcer input %v, want %s", rp.Ref, it["InputTemplate"], want)
				}
			} else {
				// the direct machine's input: the ids' sources and the
				// input of the rule's machine
				want := `{"event_id":<event_id>,"trigger_instance_id":<trigger_instance_id>,"trace_tag":<trace_tag>,"input":` + rp.InputTemplate + `}`
				if it["InputTemplate"] != want {
					t.Errorf("rule %s: input template %v, want %s", rp.Ref, it["InputTemplate"], want)
				}
				gotPaths := map[string]string{}
				for k, v := range it["InputPathsMap"].(map[string]any) {
					gotPaths[k] = render(v)
				}
				wantPaths := map[string]string{"event_id": "$.id", "trigger_instance_id": "$.detail.trigger_instance_id", "trace_tag": "$.detail.trace_tag"}
				for k, v := range rp.InputPaths {
					wantPaths[k] = v
				}
				if !reflect.DeepEqual(gotPaths, wantPaths) {
					t.Errorf("rule %s: input paths %v, want %v", rp.Ref, gotPaths, wantPaths)
				}
			}
		}
		// and the assertion does fail on a pattern no rule has
		failed := func() (failed bool) {
			defer func() { failed = recover() != nil }()
			s.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
				"EventPattern": assertions.Match_ObjectEquals(&map[string]any{"source": []any{"bwc.nothing"}}),
			})
			return false
		}()
		if !failed {
			t.Error("HasResourceProperties accepted a pattern no rule has")
		}
		// one rule per BWC rule, plus the execution status rule
		if len(rules) != len(s.plan.Rules)+1 {
			t.Errorf("%d EventBridge rules, want %d", len(rules), len(s.plan.Rules)+1)
		}
		// who may invoke which function: EventBridge for the bus's rules (the
		// enforcer) and the status rule (completion), API Gateway for the API
		var perms []string
		for _, p := range s.ofType("AWS::Lambda::Permission") {
			perms = append(perms, render(p.Properties["FunctionName"])+" by "+render(p.Properties["Principal"])+" from "+render(p.Properties["SourceArn"]))
		}
		sort.Strings(perms)
		fnArn := func(fn string) string {
			return hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[fn].Node().DefaultChild().(awscdk.CfnElement)), "") + ".Arn"
		}
		api := "arn:Ref(AWS::Partition):execute-api:Ref(AWS::Region):Ref(AWS::AccountId):Ref(Api)/*/*/*" // any stage, method and route of this API
		wantPerms := []string{
			fnArn(stack.FnAPI) + " by apigateway.amazonaws.com from " + api,
			fnArn(stack.FnCompletion) + " by events.amazonaws.com from ExecutionStatus.Arn",
			fnArn(stack.FnEnforcer) + " by events.amazonaws.com from arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/bwc/*",
			fnArn(stack.FnInquiry) + " by apigateway.amazonaws.com from " + api,
			fnArn(stack.FnWebhook) + " by apigateway.amazonaws.com from " + api,
		}
		sort.Strings(wantPerms)
		if !reflect.DeepEqual(perms, wantPerms) {
			t.Errorf("invoke permissions:\n  %s\nwant\n  %s", strings.Join(perms, "\n  "), strings.Join(wantPerms, "\n  "))
		}

		// the direct rules' roles may start their direct machine and nothing else
		for _, rp := range s.plan.Rules {
			if rp.Target != stack.TargetDirect {
				continue
			}
			role := "Rule" + exportRef(rp.Ref) + "Role"
			want := []string{"states:StartExecution on Ref(Machine" + exportRef(rp.DirectMachine) + ")"}
			if got := s.statements(role); !reflect.DeepEqual(got, want) {
				t.Errorf("role of rule %s:\n%s\nwant\n%s", rp.Ref, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	})

	t.Run("state machines", func(t *testing.T) {
		c, _ := loadPlan(t)
		machines := s.ofType("AWS::StepFunctions::StateMachine")
		directs := 0
		for _, rp := range s.plan.Rules {
			if rp.Target == stack.TargetDirect {
				directs++
			}
		}
		if directs == 0 {
			t.Error("no direct rule in the test packs")
		}
		hand := c.HandWritten()
		if len(machines) != len(c.Machines)+len(hand)+1+directs {
			t.Errorf("%d state machines, want %d workflows + %d hand-written + the action machine + %d direct rules", len(machines), len(c.Machines), len(hand), directs)
		}
		for ref, m := range c.Machines {
			want, err := m.JSON()
			if err != nil {
				t.Fatal(err)
			}
			// the committed golden file, where there is one, is the same ASL
			if golden, err := os.ReadFile(filepath.Join("../../statemachines", ref+".asl.json")); err == nil && !jsonEqual(golden, want) {
				t.Errorf("state machine %s: compiled ASL differs from statemachines/%s.asl.json", ref, ref)
			}
			checkMachine(t, s, ref, want, m.Substitutions)
		}
		checkMachine(t, s, stack.ActionMachineRef, stack.ActionMachineDefinition(), []string{"RunnerFunctionArn"})

		// each enabled asl action's machine: its entry point file as it
		// is, with the substitutions it uses filled; none for a disabled one
		wantHand := map[string][]string{
			"infratest.fanout": {"RunnerFunctionArn", workflow.StateMachineArnParam("infratest.again")},
			"infratest.shape":  nil,
		}
		var gotHand []string
		for _, a := range hand {
			gotHand = append(gotHand, a.Ref)
		}
		if want := []string{"infratest.fanout", "infratest.shape"}; !reflect.DeepEqual(gotHand, want) {
			t.Errorf("hand-written machines %v, want %v", gotHand, want)
		}
		if _, ok := s.st.Machines["infratest.shape_off"]; ok {
			t.Error("the disabled asl action infratest.shape_off has a state machine")
		}
		for ref, subs := range wantHand {
			a := c.Packs.Action(ref)
			if a == nil {
				t.Fatalf("no action %s in the test packs", ref)
			}
			def, err := os.ReadFile(filepath.FromSlash(a.EntryPointPath))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.st.Machines[ref]; !ok {
				t.Errorf("asl action %s: no state machine", ref)
				continue
			}
			checkMachine(t, s, ref, def, subs)
		}

		// each direct rule's machine: the generated ASL (the golden file,
		// for the examples), the table and the rule's machine substituted,
		// and a role that may put items in the table and start that machine
		for _, rp := range s.plan.Rules {
			if rp.Target != stack.TargetDirect {
				continue
			}
			sm, ok := s.st.DirectMachines[rp.Ref]
			if !ok {
				t.Errorf("rule %s: no direct machine", rp.Ref)
				continue
			}
			r := s.res[s.logicalID(sm.Node().DefaultChild().(awscdk.CfnElement))]
			p := r.Properties
			if golden, err := os.ReadFile(filepath.Join("../../statemachines", rp.DirectMachine+".asl.json")); err == nil && !jsonEqual(golden, rp.DirectDefinition) {
				t.Errorf("rule %s: direct machine differs from statemachines/%s.asl.json", rp.Ref, rp.DirectMachine)
			}
			got, _ := p["DefinitionString"].(string)
			if !jsonEqual([]byte(got), rp.DirectDefinition) {
				t.Errorf("rule %s: direct machine definition differs from the generated ASL:\n%s", rp.Ref, got)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, []byte(got)); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`"Resource":"arn:aws:states:::dynamodb:putItem"`, `"ConditionExpression":"attribute_not_exists(PK)"`,
				`"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"]`, `"Resource":"arn:aws:states:::states:startExecution"`} {
				if !strings.Contains(compact.String(), want) {
					t.Errorf("rule %s: direct machine has no %s", rp.Ref, want)
				}
			}
			if p["StateMachineName"] != stack.MachineName("bwc", rp.DirectMachine) {
				t.Errorf("rule %s: direct machine name %v", rp.Ref, p["StateMachineName"])
			}
			gotSubs := map[string]string{}
			for k, v := range p["DefinitionSubstitutions"].(map[string]any) {
				gotSubs[k] = render(v)
			}
			wantSubs := map[string]string{"TableName": "Ref(Table)", workflow.StateMachineArnParam(rp.Machine): "Ref(Machine" + exportRef(rp.Machine) + ")"}
			if !reflect.DeepEqual(gotSubs, wantSubs) {
				t.Errorf("rule %s: direct machine substitutions %v, want %v", rp.Ref, gotSubs, wantSubs)
			}
			// an Express machine (billed per request and duration, not
			// per transition), whose only history is its log group: every
			// event logged, without execution data, as the workflows'
			if p["StateMachineType"] != "EXPRESS" {
				t.Errorf("rule %s: direct machine type %v, want EXPRESS", rp.Ref, p["StateMachineType"])
			}
			if lc := p["LoggingConfiguration"].(map[string]any); lc["Level"] != "ALL" || lc["IncludeExecutionData"] != false || len(logGroups(lc)) != 1 {
				t.Errorf("rule %s: direct machine logging %v, want level ALL without execution data to one log group", rp.Ref, lc)
			}
			if tc := p["TracingConfiguration"].(map[string]any); tc["Enabled"] != true {
				t.Errorf("rule %s: direct machine tracing %v", rp.Ref, tc)
			}
			role := s.logicalID(sm.Role().Node().DefaultChild().(awscdk.CfnElement))
			var stmts []string
			for _, l := range s.statements(role) {
				if !strings.HasPrefix(l, "logs:") && !strings.HasPrefix(l, "xray:") {
					stmts = append(stmts, l)
				}
			}
			wantStmts := []string{
				"dynamodb:PutItem on Table.Arn",
				"states:StartExecution on Ref(Machine" + exportRef(rp.Machine) + ")",
			}
			if !reflect.DeepEqual(stmts, wantStmts) {
				t.Errorf("role of the direct machine of %s:\n  %s\nwant\n  %s", rp.Ref, strings.Join(stmts, "\n  "), strings.Join(wantStmts, "\n  "))
			}
		}

		// a workflow that runs actions and starts a child workflow
		runner := hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[stack.FnRunner].Node().DefaultChild().(awscdk.CfnElement)), "")
		role := s.logicalID(s.st.Machines["infratest.greet"].Role().Node().DefaultChild().(awscdk.CfnElement))
		var got []string
		for _, l := range s.statements(role) {
			if !strings.HasPrefix(l, "logs:") && !strings.HasPrefix(l, "xray:") {
				got = append(got, l)
			}
		}
		prefix := "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:"
		want := []string{
			"events:DescribeRule,events:PutRule,events:PutTargets on arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule",
			"lambda:InvokeFunction on " + runner + ".Arn",
			"states:DescribeExecution,states:StopExecution on " + prefix + "execution:bwc-infratest_again:*",
			"states:StartExecution on " + prefix + "stateMachine:bwc-infratest_again",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("role of infratest.greet:\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		// the hand-written machines' roles: what their definitions use, no more
		for ref, wantRole := range map[string][]string{"infratest.fanout": want, "infratest.shape": nil} {
			sm, ok := s.st.Machines[ref]
			if !ok {
				continue
			}
			role := s.logicalID(sm.Role().Node().DefaultChild().(awscdk.CfnElement))
			var got []string
			for _, l := range s.statements(role) {
				if !strings.HasPrefix(l, "logs:") && !strings.HasPrefix(l, "xray:") {
					got = append(got, l)
				}
			}
			if !reflect.DeepEqual(got, wantRole) {
				t.Errorf("role of %s:\n  %s\nwant\n  %s", ref, strings.Join(got, "\n  "), strings.Join(wantRole, "\n  "))
			}
		}
	})

	t.Run("functions", func(t *testing.T) {
		fns := s.ofType("AWS::Lambda::Function")
		if len(fns) != len(stack.FunctionNames()) {
			t.Errorf("%d functions, want %d", len(fns), len(stack.FunctionNames()))
		}
		for _, fn := range stack.FunctionNames() {
			assert(t, "function "+fn, func() {
				s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
					"FunctionName":  "bwc-" + fn,
					"Runtime":       "provided.al2023",
					"Architectures": []any{"arm64"},
					"Handler":       "bootstrap",
					"TracingConfig": map[string]any{"Mode": "Active"},
					// what bwc cost prices (internal/cost)
					"MemorySize": cost.DefaultAssumptions().MemoryMB,
				})
			})
		}
	})

	t.Run("function environment", func(t *testing.T) {
		want := map[string]string{"BWC_TABLE": "Ref(Table)", "BWC_EVENT_BUS": "Ref(Bus)", "BWC_KMS_KEY": "SecretsKey.Arn", "BWC_NAME": "bwc"}
		for id, f := range s.ofType("AWS::Lambda::Function") {
			got := map[string]string{}
			for k, v := range f.Properties["Environment"].(map[string]any)["Variables"].(map[string]any) {
				got[k] = render(v)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("function %s: environment %v, want %v", id, got, want)
			}
		}
	})

	t.Run("IAM", func(t *testing.T) {
		for _, tt := range functionPolicies(s) {
			role := s.logicalID(s.st.Roles[tt.fn].Node().DefaultChild().(awscdk.CfnElement))
			got := s.statements(role)
			want := append([]string{
				"logs:CreateLogStream,logs:PutLogEvents on " + exportRef(tt.fn) + "FunctionLogs.Arn",
				"xray:PutTelemetryRecords,xray:PutTraceSegments on *",
			}, tt.want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("policy of %s:\n  %s\nwant\n  %s", tt.fn, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		}
		// no wildcard action anywhere; Resource * only where AWS allows nothing else
		starOK := regexp.MustCompile(`^(xray:(PutTraceSegments|PutTelemetryRecords|GetSamplingRules|GetSamplingTargets)|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$`)
		for id, p := range s.ofType("AWS::IAM::Policy") {
			for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				m := st.(map[string]any)
				star := false
				for _, r := range asList(m["Resource"]) {
					star = star || r == "*"
				}
				for _, a := range asList(m["Action"]) {
					if strings.Contains(a.(string), "*") {
						t.Errorf("policy %s: wildcard action %s", id, a)
					}
					if star && !starOK.MatchString(a.(string)) {
						t.Errorf("policy %s: %s on Resource *", id, a)
					}
				}
			}
		}
		for _, r := range s.ofType("AWS::IAM::Role") {
			if r.Properties["ManagedPolicyArns"] != nil {
				t.Errorf("role with managed policies: %v", r.Properties["ManagedPolicyArns"])
			}
		}
	})

	t.Run("schedules", func(t *testing.T) {
		scheds := s.ofType("AWS::Scheduler::Schedule")
		if len(scheds) != len(s.plan.Timers)+len(s.plan.Pollers)+1 {
			t.Errorf("%d schedules, want %d timers, %d pollers and the inquiry sweep", len(scheds), len(s.plan.Timers), len(s.plan.Pollers))
		}
		timerFn := hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[stack.FnTimer].Node().DefaultChild().(awscdk.CfnElement)), "")
		for _, tp := range s.plan.Timers {
			r := scheds[s.logicalID(s.st.Schedules[tp.Rule])]
			p := r.Properties
			if p["ScheduleExpression"] != tp.Expression || render(p["ScheduleExpressionTimezone"]) != render(nilIfEmpty(tp.Timezone)) {
				t.Errorf("schedule %s: %v %v, want %s %q", tp.Rule, p["ScheduleExpression"], p["ScheduleExpressionTimezone"], tp.Expression, tp.Timezone)
			}
			target := p["Target"].(map[string]any)
			if render(target["Arn"]) != timerFn+".Arn" {
				t.Errorf("schedule %s: target %s", tp.Rule, render(target["Arn"]))
			}
			var input map[string]any
			if err := json.Unmarshal([]byte(target["Input"].(string)), &input); err != nil {
				t.Fatalf("schedule %s input: %v", tp.Rule, err)
			}
			if input["rule"] != tp.Rule || input["trigger"] != tp.Trigger || input["scheduled_time"] != "<aws.scheduler.scheduled-time>" {
				t.Errorf("schedule %s: input %v", tp.Rule, input)
			}
		}
		// the examples' and the test pack's zones, as written
		assert(t, "cron schedule in Paris", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), &map[string]any{
				"ScheduleExpression": "cron(30 9 ? * MON-FRI *)", "ScheduleExpressionTimezone": "Europe/Paris",
			})
		})
		pollerFn := hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[stack.FnPoller].Node().DefaultChild().(awscdk.CfnElement)), "")
		if got, want := s.statements("SchedulerRole"), []string{
			"lambda:InvokeFunction on " + pollerFn + ".Arn", "lambda:InvokeFunction on " + timerFn + ".Arn", "sqs:SendMessage on DeadLetters.Arn",
		}; !reflect.DeepEqual(got, want) {
			t.Errorf("scheduler role: %v, want %v", got, want)
		}
		// one schedule per polling sensor, invoking the poller with {pack, sensor}
		if len(s.plan.Pollers) == 0 {
			t.Fatal("the test packs have no polling sensor")
		}
		for _, pp := range s.plan.Pollers {
			r, ok := scheds[s.logicalID(s.st.Pollers[pp.Sensor])]
			if !ok {
				t.Errorf("no schedule for poller %s", pp.Sensor)
				continue
			}
			p := r.Properties
			if p["Name"] != stack.PollerName("bwc", pp.Sensor) || p["ScheduleExpression"] != pp.Expression || p["State"] != "ENABLED" {
				t.Errorf("poller %s: schedule %v %v %v", pp.Sensor, p["Name"], p["ScheduleExpression"], p["State"])
			}
			target := p["Target"].(map[string]any)
			if render(target["Arn"]) != pollerFn+".Arn" || render(target["RoleArn"]) != "SchedulerRole.Arn" {
				t.Errorf("poller %s: target %s role %s", pp.Sensor, render(target["Arn"]), render(target["RoleArn"]))
			}
			var input map[string]any
			if err := json.Unmarshal([]byte(target["Input"].(string)), &input); err != nil {
				t.Fatalf("poller %s input: %v", pp.Sensor, err)
			}
			if want := map[string]any{"pack": pp.Pack, "sensor": pp.Sensor, "scheduled_time": "<aws.scheduler.scheduled-time>"}; !reflect.DeepEqual(input, want) {
				t.Errorf("poller %s: input %v, want %v", pp.Sensor, input, want)
			}
		}
		assert(t, "probe every five minutes", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), &map[string]any{
				"Name": "bwc-poll-infratest.Probe", "ScheduleExpression": "rate(5 minutes)",
			})
		})
	})

	// The inquiry function is invoked every minute with {"sweep": true}
	// (lambdafn.SweepInquiries), by a role that may invoke it and nothing
	// else.
	t.Run("inquiry sweep", func(t *testing.T) {
		r, ok := s.ofType("AWS::Scheduler::Schedule")[s.logicalID(s.st.InquirySweep)]
		if !ok {
			t.Fatal("no inquiry-sweep schedule")
		}
		p := r.Properties
		if p["Name"] != "bwc-inquiry-sweep" || p["ScheduleExpression"] != "rate(1 minute)" || p["State"] != "ENABLED" {
			t.Errorf("inquiry sweep: %v %v %v, want bwc-inquiry-sweep rate(1 minute) ENABLED", p["Name"], p["ScheduleExpression"], p["State"])
		}
		inquiryFn := hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[stack.FnInquiry].Node().DefaultChild().(awscdk.CfnElement)), "")
		target := p["Target"].(map[string]any)
		if render(target["Arn"]) != inquiryFn+".Arn" || render(target["RoleArn"]) != "InquirySweepRole.Arn" {
			t.Errorf("inquiry sweep: target %s role %s", render(target["Arn"]), render(target["RoleArn"]))
		}
		var input map[string]any
		if err := json.Unmarshal([]byte(target["Input"].(string)), &input); err != nil || !reflect.DeepEqual(input, map[string]any{"sweep": true}) {
			t.Errorf("inquiry sweep: input %v (%v), want {\"sweep\": true}", target["Input"], err)
		}
		if got, want := s.statements("InquirySweepRole"), []string{"lambda:InvokeFunction on " + inquiryFn + ".Arn"}; !reflect.DeepEqual(got, want) {
			t.Errorf("inquiry sweep role: %v, want %v", got, want)
		}
	})

	t.Run("routes", func(t *testing.T) {
		integrations := map[string]string{} // integration id -> function
		for id, r := range s.ofType("AWS::ApiGatewayV2::Integration") {
			integrations[hashSuffix.ReplaceAllString(id, "")] = render(r.Properties["IntegrationUri"])
		}
		got := map[string]string{}
		for _, r := range s.ofType("AWS::ApiGatewayV2::Route") {
			target := strings.TrimPrefix(render(r.Properties["Target"]), "integrations/")
			got[r.Properties["RouteKey"].(string)] = integrations[strings.TrimSuffix(strings.TrimPrefix(target, "Ref("), ")")]
		}
		fnArn := func(fn string) string {
			return hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[fn].Node().DefaultChild().(awscdk.CfnElement)), "") + ".Arn"
		}
		// every route of internal/api's table, the webhook route once per url
		want := map[string]string{}
		for _, r := range routes.All() {
			if r.Path == routes.WebhookURLPath {
				for _, u := range s.plan.Webhooks {
					want[r.Method+" /api/v1/webhooks/"+u] = fnArn(r.Function)
				}
				continue
			}
			want[r.Method+" "+r.Path] = fnArn(r.Function)
		}
		// and the table is what it should be: the test pack's webhooks, the
		// generic endpoint, inquiry responses and the API
		for key, fn := range map[string]string{
			"POST /api/v1/webhooks/st2":              stack.FnWebhook,
			"POST /api/v1/webhooks/monitoring/alert": stack.FnWebhook,
			"POST /api/v1/webhooks/infratest/echo":   stack.FnWebhook,
			"POST /api/v1/webhooks/infratest/greet":  stack.FnWebhook,
			"POST /api/v1/inquiries/{id}/respond":    stack.FnInquiry,
			"GET /api/v1/health":                     stack.FnAPI,
			"POST /api/v1/executions":                stack.FnAPI,
			"GET /api/v1/executions/{id}":            stack.FnAPI,
		} {
			if want[key] != fnArn(fn) {
				t.Errorf("route %s: internal/api's table gives %q, want %s", key, want[key], fnArn(fn))
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d routes in the template, %d in the table", len(got), len(want))
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("routes:\n%v\nwant\n%v", got, want)
		}
		assert(t, "access logs", func() {
			s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), &map[string]any{
				"AccessLogSettings": map[string]any{"DestinationArn": assertions.Match_AnyValue()},
			})
		})
	})

	t.Run("outputs", func(t *testing.T) {
		var doc struct {
			Outputs map[string]struct {
				Value any `json:"Value"`
			} `json:"Outputs"`
		}
		raw, _ := json.Marshal(s.template.ToJSON())
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for k, v := range doc.Outputs {
			got[k] = render(v.Value)
		}
		want := map[string]string{
			stack.OutputAPIURL:     "Api.ApiEndpoint",
			stack.OutputTable:      "Ref(Table)",
			stack.OutputBus:        "Ref(Bus)",
			stack.OutputKey:        "SecretsKey.Arn",
			stack.OutputDLQ:        "Ref(DeadLetters)",
			stack.OutputNamePrefix: "bwc",
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("output %s = %q, want %q", k, got[k], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("outputs %v, want the keys of %v", got, want)
		}
	})

	t.Run("table", func(t *testing.T) {
		// docs/storage.md, written out here rather than taken from the code
		var gsis []any
		attrs := []any{
			map[string]any{"AttributeName": "PK", "AttributeType": "S"},
			map[string]any{"AttributeName": "SK", "AttributeType": "S"},
		}
		for n := 1; n <= 9; n++ {
			pk, sk := fmt.Sprintf("GSI%dPK", n), fmt.Sprintf("GSI%dSK", n)
			gsis = append(gsis, map[string]any{
				"IndexName": fmt.Sprintf("GSI%d", n),
				"KeySchema": []any{
					map[string]any{"AttributeName": pk, "KeyType": "HASH"},
					map[string]any{"AttributeName": sk, "KeyType": "RANGE"},
				},
				"Projection": map[string]any{"ProjectionType": "ALL"},
			})
			attrs = append(attrs, map[string]any{"AttributeName": pk, "AttributeType": "S"}, map[string]any{"AttributeName": sk, "AttributeType": "S"})
		}
		assert(t, "table", func() {
			s.template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), assertions.Match_ObjectEquals(&map[string]any{
				"TableName":   "bwc",
				"BillingMode": "PAY_PER_REQUEST",
				"KeySchema": []any{
					map[string]any{"AttributeName": "PK", "KeyType": "HASH"},
					map[string]any{"AttributeName": "SK", "KeyType": "RANGE"},
				},
				"AttributeDefinitions":             attrs,
				"GlobalSecondaryIndexes":           gsis,
				"TimeToLiveSpecification":          map[string]any{"AttributeName": "ttl", "Enabled": true},
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"SSESpecification":                 map[string]any{"SSEEnabled": true},
			}))
		})
		assert(t, "table retained", func() {
			s.template.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
		})
		assert(t, "secrets key", func() {
			s.template.HasResourceProperties(jsii.String("AWS::KMS::Key"), &map[string]any{"EnableKeyRotation": true})
		})
	})
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// exportRef is the construct id part the stack derives from a reference.
func exportRef(ref string) string {
	var b strings.Builder
	up := true
	for _, c := range ref {
		if !isAlnum(c) {
			up = true
			continue
		}
		if up {
			c = []rune(strings.ToUpper(string(c)))[0]
		}
		up = false
		b.WriteRune(c)
	}
	return b.String()
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
}

func checkMachine(t *testing.T, s *synth, ref string, def []byte, subs []string) {
	t.Helper()
	r, ok := s.res[s.logicalID(s.st.Machines[ref].Node().DefaultChild().(awscdk.CfnElement))]
	if !ok {
		t.Errorf("no state machine for %s", ref)
		return
	}
	p := r.Properties
	got, _ := p["DefinitionString"].(string)
	if !jsonEqual([]byte(got), def) {
		t.Errorf("state machine %s: definition differs from the compiled ASL:\n%s", ref, got)
	}
	if p["StateMachineName"] != stack.MachineName("bwc", ref) {
		t.Errorf("state machine %s: name %v", ref, p["StateMachineName"])
	}
	gotSubs := map[string]string{}
	given, _ := p["DefinitionSubstitutions"].(map[string]any)
	for k, v := range given {
		gotSubs[k] = render(v)
	}
	wantSubs := map[string]string{}
	for _, sub := range subs {
		if sub == "RunnerFunctionArn" {
			wantSubs[sub] = hashSuffix.ReplaceAllString(s.logicalID(s.st.Functions[stack.FnRunner].Node().DefaultChild().(awscdk.CfnElement)), "") + ".Arn"
			continue
		}
		for child := range s.st.Machines {
			if workflow.StateMachineArnParam(child) == sub {
				wantSubs[sub] = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:" + stack.MachineName("bwc", child)
			}
		}
	}
	if !reflect.DeepEqual(gotSubs, wantSubs) {
		t.Errorf("state machine %s: substitutions %v, want %v", ref, gotSubs, wantSubs)
	}
	// workflows are standard machines: an execution history in the
	// console, status change events for the completion function,
	// .waitForTaskToken inquiries
	if typ, ok := p["StateMachineType"]; ok && typ != "STANDARD" {
		t.Errorf("state machine %s: type %v, want STANDARD", ref, typ)
	}
	if lc := p["LoggingConfiguration"].(map[string]any); lc["Level"] != "ALL" || lc["Destinations"] == nil {
		t.Errorf("state machine %s: logging %v", ref, lc)
	}
	if tc := p["TracingConfiguration"].(map[string]any); tc["Enabled"] != true {
		t.Errorf("state machine %s: tracing %v", ref, tc)
	}
}

type policyCase struct {
	fn   string
	want []string // beyond logs and X-Ray
}

// functionPolicies is each function's policy written out (the
// contract in docs/deploy.md), independent of stack.FunctionAccess.
func functionPolicies(s *synth) []policyCase {
	table := "Table.Arn"
	var indexes []string
	for n := 1; n <= 9; n++ {
		indexes = append(indexes, fmt.Sprintf("Table.Arn/index/GSI%d", n))
	}
	sort.Strings(indexes)
	var machines, execs []string
	for ref := range s.st.Machines {
		machines = append(machines, "Ref(Machine"+exportRef(ref)+")")
		execs = append(execs, "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"+stack.MachineName("bwc", ref)+":*")
	}
	sort.Strings(machines)
	sort.Strings(execs)
	key, bus := "SecretsKey.Arn", "Bus.Arn"
	on := func(actions string, res ...string) string { return actions + " on " + strings.Join(res, " ") }
	return []policyCase{
		{stack.FnWebhook, []string{on("dynamodb:GetItem,dynamodb:PutItem", table), on("kms:Decrypt", key), on("events:PutEvents", bus)}},
		{stack.FnTimer, []string{on("dynamodb:GetItem,dynamodb:PutItem", table), on("events:PutEvents", bus)}},
		{stack.FnPoller, []string{on("dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query", table), on("kms:Decrypt", key), on("events:PutEvents", bus)}},
		{stack.FnEnforcer, []string{on("dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query", table), on("kms:Decrypt,kms:GenerateDataKey", key), on("states:StartExecution", machines...)}},
		{stack.FnRunner, []string{on("dynamodb:BatchWriteItem,dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query", table), on("kms:Decrypt,kms:GenerateDataKey", key), on("events:PutEvents", bus)}},
		{stack.FnCompletion, []string{on("dynamodb:BatchWriteItem,dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query", table), on("events:PutEvents", bus), on("states:DescribeExecution", execs...)}},
		{stack.FnInquiry, []string{
			on("dynamodb:GetItem,dynamodb:PutItem", table), on("dynamodb:Query", "Table.Arn/index/GSI3"), // the sweep: pending inquiries by status
			on("events:PutEvents", bus), on("states:SendTaskFailure,states:SendTaskSuccess", machines...),
		}},
		{stack.FnAPI, []string{
			on("dynamodb:BatchWriteItem,dynamodb:DeleteItem,dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query", table),
			on("dynamodb:Query", indexes...), on("kms:Decrypt,kms:GenerateDataKey", key),
			on("states:StartExecution", machines...), on("states:DescribeExecution,states:StopExecution", execs...),
		}},
	}
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// logGroups lists the log group ARNs of a state machine's
// LoggingConfiguration, rendered.
func logGroups(lc map[string]any) []string {
	var out []string
	ds, _ := lc["Destinations"].([]any)
	for _, d := range ds {
		dm, _ := d.(map[string]any)
		cw, _ := dm["CloudWatchLogsLogGroup"].(map[string]any)
		if arn, ok := cw["LogGroupArn"]; ok {
			out = append(out, render(arn))
		}
	}
	return out
}
