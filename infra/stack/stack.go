package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/bwc-project/bwc/internal/api/routes"
	"github.com/bwc-project/bwc/internal/aws/direct"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/workflow"
)

// Props configure the stack.
type Props struct {
	awscdk.StackProps
	// Plan is what to declare (see Load and Build).
	Plan *Plan
	// Name prefixes every physical name (bus, table, functions, state
	// machines, rules, schedules). Default "bwc".
	Name string
	// CodeDir holds one directory per function with its bootstrap binary
	// (build/lambda/<fn>/bootstrap). Required.
	CodeDir string
	// LogRetention is how long function, state machine and API logs are
	// kept. Default one month.
	LogRetention awslogs.RetentionDays
	// DestroyData deletes the table and the KMS key with the stack; by
	// default both are retained (for throw-away stacks only).
	DestroyData bool
	// EventRetries and EventMaxAgeSeconds are the retry policy of every
	// EventBridge and Scheduler target; events that still fail go to the
	// dead-letter queue. Defaults 10 and 86400.
	EventRetries       float64
	EventMaxAgeSeconds float64
}

// Stack is the declared stack with the constructs tests look at.
type Stack struct {
	awscdk.Stack
	Bus       awsevents.EventBus
	Table     awsdynamodb.CfnTable
	Key       awskms.Key
	DLQ       awssqs.Queue
	API       awsapigatewayv2.HttpApi
	Functions map[string]awslambda.Function
	Roles     map[string]awsiam.Role
	Machines  map[string]awsstepfunctions.StateMachine
	// DirectMachines are the direct rules' state machines (which record
	// the enforcement and start Machines[rule's machine]), by rule
	// reference.
	DirectMachines map[string]awsstepfunctions.StateMachine
	Rules          map[string]awsevents.CfnRule
	Schedules      map[string]awsscheduler.CfnSchedule
	// Pollers are the polling sensors' schedules, by sensor reference.
	Pollers map[string]awsscheduler.CfnSchedule
	// InquirySweep is the schedule of the inquiry function's sweep.
	InquirySweep awsscheduler.CfnSchedule
}

// Metadata keys recorded on each EventBridge rule (CloudFormation resource
// metadata), so the choice of target can be read from the template.
const (
	MetaRuleRef    = "bwc:rule"
	MetaRuleTarget = "bwc:target"
	MetaRuleReason = "bwc:reason"
	MetaMachine    = "bwc:machine"
)

// Route is an HTTP API route and the function behind it.
type Route struct{ Method, Path, Function string }

// Routes returns the HTTP API's routes for a plan: internal/api's route
// table (internal/api/routes), with the webhook route of core.webhook rules
// (routes.WebhookURLPath) expanded into one route per url the plan's rules
// declare, so that no other url reaches a function.
func Routes(p *Plan) []Route {
	var out []Route
	for _, r := range routes.All() {
		if r.Path == routes.WebhookURLPath {
			for _, u := range p.Webhooks {
				out = append(out, Route{r.Method, strings.TrimSuffix(r.Path, "{url...}") + u, r.Function})
			}
			continue
		}
		out = append(out, Route{r.Method, r.Path, r.Function})
	}
	return out
}

// MachineName is the physical name of a state machine.
func MachineName(prefix, ref string) string { return prefix + "-" + sanitize(ref, "-_") }

// RuleName is the physical name of an EventBridge rule or schedule.
func RuleName(prefix, ref string) string {
	n := prefix + "-" + sanitize(ref, "-_.")
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

func sanitize(s, keep string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(keep, c) {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// New declares the stack of props.Plan in scope.
func New(scope constructs.Construct, id string, props Props) (*Stack, error) {
	if props.Plan == nil {
		return nil, fmt.Errorf("building stack %s: no plan", id)
	}
	if props.CodeDir == "" {
		return nil, fmt.Errorf("building stack %s: no function code directory", id)
	}
	for _, fn := range FunctionNames() {
		if _, err := os.Stat(filepath.Join(props.CodeDir, fn, "bootstrap")); err != nil {
			return nil, fmt.Errorf("building stack %s: code of function %s (make lambda builds it): %w", id, fn, err)
		}
	}
	if props.Name == "" {
		props.Name = "bwc"
	}
	if props.LogRetention == "" {
		props.LogRetention = awslogs.RetentionDays_ONE_MONTH
	}
	if props.EventRetries == 0 {
		props.EventRetries = 10
	}
	if props.EventMaxAgeSeconds == 0 {
		props.EventMaxAgeSeconds = 86400
	}
	b := &builder{props: props, name: props.Name}
	b.s = &Stack{
		Stack:          awscdk.NewStack(scope, jsii.String(id), &props.StackProps),
		Functions:      map[string]awslambda.Function{},
		Roles:          map[string]awsiam.Role{},
		Machines:       map[string]awsstepfunctions.StateMachine{},
		DirectMachines: map[string]awsstepfunctions.StateMachine{},
		Rules:          map[string]awsevents.CfnRule{},
		Schedules:      map[string]awsscheduler.CfnSchedule{},
		Pollers:        map[string]awsscheduler.CfnSchedule{},
	}
	b.dataRemoval = awscdk.RemovalPolicy_RETAIN
	if props.DestroyData {
		b.dataRemoval = awscdk.RemovalPolicy_DESTROY
	}
	b.core()
	b.functions()
	b.machines()
	b.policies()
	if err := b.rules(); err != nil {
		return nil, fmt.Errorf("building stack %s: %w", id, err)
	}
	if err := b.schedules(); err != nil {
		return nil, fmt.Errorf("building stack %s: %w", id, err)
	}
	b.inquirySweep()
	b.completion()
	if err := b.api(); err != nil {
		return nil, fmt.Errorf("building stack %s: %w", id, err)
	}
	b.outputs()
	b.suppress()
	return b.s, nil
}

type builder struct {
	props       Props
	name        string
	s           *Stack
	dataRemoval awscdk.RemovalPolicy
	// indexARNs are the table's GSI ARNs (no wildcard).
	indexARNs []*string
}

func (b *builder) core() {
	st := b.s.Stack
	b.s.Bus = awsevents.NewEventBus(st, jsii.String("Bus"), &awsevents.EventBusProps{EventBusName: jsii.String(b.name)})

	b.s.Key = awskms.NewKey(st, jsii.String("SecretsKey"), &awskms.KeyProps{
		Alias:             jsii.String("alias/" + b.name + "/secrets"),
		Description:       jsii.String("BWC datastore secrets (key-value pairs marked secret)"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     b.dataRemoval,
	})

	in := dynamo.TableInput(b.name)
	var keys []*awsdynamodb.CfnTable_KeySchemaProperty
	for _, k := range in.KeySchema {
		keys = append(keys, &awsdynamodb.CfnTable_KeySchemaProperty{AttributeName: k.AttributeName, KeyType: jsii.String(string(k.KeyType))})
	}
	var attrs []*awsdynamodb.CfnTable_AttributeDefinitionProperty
	for _, a := range in.AttributeDefinitions {
		attrs = append(attrs, &awsdynamodb.CfnTable_AttributeDefinitionProperty{AttributeName: a.AttributeName, AttributeType: jsii.String(string(a.AttributeType))})
	}
	var gsis []*awsdynamodb.CfnTable_GlobalSecondaryIndexProperty
	for _, g := range in.GlobalSecondaryIndexes {
		var gk []*awsdynamodb.CfnTable_KeySchemaProperty
		for _, k := range g.KeySchema {
			gk = append(gk, &awsdynamodb.CfnTable_KeySchemaProperty{AttributeName: k.AttributeName, KeyType: jsii.String(string(k.KeyType))})
		}
		gsis = append(gsis, &awsdynamodb.CfnTable_GlobalSecondaryIndexProperty{
			IndexName:  g.IndexName,
			KeySchema:  gk,
			Projection: &awsdynamodb.CfnTable_ProjectionProperty{ProjectionType: jsii.String(string(g.Projection.ProjectionType))},
		})
	}
	t := awsdynamodb.NewCfnTable(st, jsii.String("Table"), &awsdynamodb.CfnTableProps{
		TableName:                        in.TableName,
		BillingMode:                      jsii.String(string(in.BillingMode)),
		KeySchema:                        keys,
		AttributeDefinitions:             attrs,
		GlobalSecondaryIndexes:           gsis,
		TimeToLiveSpecification:          &awsdynamodb.CfnTable_TimeToLiveSpecificationProperty{AttributeName: jsii.String(TTLAttribute), Enabled: jsii.Bool(true)},
		PointInTimeRecoverySpecification: &awsdynamodb.CfnTable_PointInTimeRecoverySpecificationProperty{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		SseSpecification:                 &awsdynamodb.CfnTable_SSESpecificationProperty{SseEnabled: jsii.Bool(true)},
	})
	t.ApplyRemovalPolicy(b.dataRemoval, nil)
	b.s.Table = t
	for _, g := range in.GlobalSecondaryIndexes {
		b.indexARNs = append(b.indexARNs, awscdk.Fn_Join(jsii.String(""), &[]*string{t.AttrArn(), jsii.String("/index/" + *g.IndexName)}))
	}

	b.s.DLQ = awssqs.NewQueue(st, jsii.String("DeadLetters"), &awssqs.QueueProps{
		QueueName:       jsii.String(b.name + "-dead-letters"),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}

// TTLAttribute is the table's TTL attribute (docs/storage.md).
const TTLAttribute = "ttl"

func (b *builder) logGroup(id, name string) awslogs.LogGroup {
	return awslogs.NewLogGroup(b.s.Stack, jsii.String(id), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(name),
		Retention:     b.props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
}

func (b *builder) functions() {
	for _, fn := range FunctionNames() {
		dir := filepath.Join(b.props.CodeDir, fn)
		id := exportName(fn) + "Function"
		role := awsiam.NewRole(b.s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
			AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
			Description: jsii.String("BWC " + fn + " function"),
		})
		lg := b.logGroup(id+"Logs", "/aws/lambda/"+b.name+"-"+fn)
		timeout := awscdk.Duration_Seconds(jsii.Number(30))
		if fn == FnRunner {
			timeout = awscdk.Duration_Minutes(jsii.Number(15))
		}
		f := awslambda.NewFunction(b.s.Stack, jsii.String(id), &awslambda.FunctionProps{
			FunctionName:  jsii.String(b.name + "-" + fn),
			Runtime:       awslambda.Runtime_PROVIDED_AL2023(),
			Architecture:  awslambda.Architecture_ARM_64(),
			Handler:       jsii.String("bootstrap"),
			Code:          awslambda.Code_FromAsset(jsii.String(dir), nil),
			Role:          role,
			LogGroup:      lg,
			LoggingFormat: awslambda.LoggingFormat_JSON,
			Tracing:       awslambda.Tracing_ACTIVE,
			MemorySize:    jsii.Number(512),
			Timeout:       timeout,
			Environment: &map[string]*string{
				"BWC_TABLE":     b.s.Table.Ref(),
				"BWC_EVENT_BUS": b.s.Bus.EventBusName(),
				"BWC_KMS_KEY":   b.s.Key.KeyArn(),
				"BWC_NAME":      jsii.String(b.name),
			},
		})
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Logs"),
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: &[]*string{lg.LogGroupArn()},
		}))
		b.s.Functions[fn] = f
		b.s.Roles[fn] = role
	}
}

func exportName(s string) string {
	var b strings.Builder
	up := true
	for _, c := range s {
		if !isAlnum(c) {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		b.WriteRune(c)
	}
	return b.String()
}

// machineARN is the ARN of a state machine of the stack, built from its name
// so that state machines can name each other without a dependency cycle.
func (b *builder) machineARN(ref string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:"+MachineName(b.name, ref)), nil)
}

// executionsARN covers the executions of one state machine.
func (b *builder) executionsARN(ref string) *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"+MachineName(b.name, ref)+":*"), nil)
}

func (b *builder) machines() {
	runner := b.s.Functions[FnRunner]
	for _, m := range b.props.Plan.Machines {
		id := "Machine" + exportName(m.Ref)
		subs := map[string]*string{}
		if m.RunsActions {
			subs["RunnerFunctionArn"] = runner.FunctionArn()
		}
		for _, c := range m.Children {
			subs[workflow.StateMachineArnParam(c)] = b.machineARN(c)
		}
		name := MachineName(b.name, m.Ref)
		sm := awsstepfunctions.NewStateMachine(b.s.Stack, jsii.String(id), &awsstepfunctions.StateMachineProps{
			StateMachineName:        jsii.String(name),
			DefinitionBody:          awsstepfunctions.DefinitionBody_FromString(jsii.String(string(m.Definition))),
			DefinitionSubstitutions: subsOrNil(subs),
			Logs: &awsstepfunctions.LogOptions{
				Destination:          b.logGroup(id+"Logs", "/aws/vendedlogs/states/"+name),
				Level:                awsstepfunctions.LogLevel_ALL,
				IncludeExecutionData: jsii.Bool(false),
			},
			TracingEnabled: jsii.Bool(true),
		})
		if m.RunsActions {
			sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("InvokeRunner"),
				Actions:   jsii.Strings("lambda:InvokeFunction"),
				Resources: &[]*string{runner.FunctionArn()},
			}))
		}
		if len(m.Children) > 0 {
			var arns, execs []*string
			for _, c := range m.Children {
				arns = append(arns, b.machineARN(c))
				execs = append(execs, b.executionsARN(c))
			}
			sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("StartChildren"), Actions: jsii.Strings("states:StartExecution"), Resources: &arns,
			}))
			sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("FollowChildren"), Actions: jsii.Strings("states:DescribeExecution", "states:StopExecution"), Resources: &execs,
			}))
			sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:     jsii.String("SyncRule"),
				Actions: jsii.Strings("events:PutTargets", "events:PutRule", "events:DescribeRule"),
				Resources: &[]*string{awscdk.Fn_Sub(jsii.String(
					"arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"), nil)},
			}))
		}
		b.s.Machines[m.Ref] = sm
	}
}

// subsOrNil gives no substitutions to a definition that uses none (a
// hand-written machine with no task).
func subsOrNil(subs map[string]*string) *map[string]*string {
	if len(subs) == 0 {
		return nil
	}
	return &subs
}

func (b *builder) rules() error {
	enforcer := b.s.Functions[FnEnforcer]
	names := map[string]string{}
	for _, r := range b.props.Plan.Rules {
		name := RuleName(b.name, r.Ref)
		if other, ok := names[name]; ok {
			return fmt.Errorf("rules %s and %s: both would be named %s (EventBridge names are cut at 64 characters)", other, r.Ref, name)
		}
		names[name] = r.Ref
		var pattern map[string]any
		if err := json.Unmarshal(r.Pattern, &pattern); err != nil {
			return fmt.Errorf("rule %s: reading its pattern: %w", r.Ref, err)
		}
		id := "Rule" + exportName(r.Ref)
		state := "ENABLED"
		if !r.Enabled {
			state = "DISABLED"
		}
		target := &awsevents.CfnRule_TargetProperty{
			Id:               jsii.String("bwc"),
			DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: b.s.DLQ.QueueArn()},
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(b.props.EventRetries),
				MaximumEventAgeInSeconds: jsii.Number(b.props.EventMaxAgeSeconds),
			},
		}
		if r.Target == TargetEnforcer {
			target.Arn = enforcer.FunctionArn()
			ref, err := json.Marshal(r.Ref)
			if err != nil {
				return fmt.Errorf("rule %s: %w", r.Ref, err)
			}
			target.InputTransformer = &awsevents.CfnRule_InputTransformerProperty{
				InputTemplate: jsii.String(`{"rule":` + string(ref) + `,"event":<aws.events.event.json>}`),
			}
		} else {
			sm, err := b.directMachine(r)
			if err != nil {
				return err
			}
			role := awsiam.NewRole(b.s.Stack, jsii.String(id+"Role"), &awsiam.RoleProps{
				AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
				Description: jsii.String("EventBridge starts " + r.DirectMachine + " for rule " + r.Ref),
			})
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String("Start"), Actions: jsii.Strings("states:StartExecution"), Resources: &[]*string{sm.StateMachineArn()},
			}))
			paths := map[string]*string{}
			for k, v := range r.TargetInputPaths {
				paths[k] = jsii.String(v)
			}
			target.Arn = sm.StateMachineArn()
			target.RoleArn = role.RoleArn()
			target.InputTransformer = &awsevents.CfnRule_InputTransformerProperty{
				InputPathsMap: &paths,
				InputTemplate: jsii.String(r.TargetInputTemplate),
			}
		}
		cr := awsevents.NewCfnRule(b.s.Stack, jsii.String(id), &awsevents.CfnRuleProps{
			Name:         jsii.String(name),
			Description:  jsii.String(truncate("BWC rule "+r.Ref+" ("+r.Target+": "+r.Reason+")", 512)),
			EventBusName: b.s.Bus.EventBusName(),
			EventPattern: pattern,
			State:        jsii.String(state),
			Targets:      &[]interface{}{target},
		})
		cr.AddMetadata(jsii.String(MetaRuleRef), r.Ref)
		cr.AddMetadata(jsii.String(MetaRuleTarget), r.Target)
		cr.AddMetadata(jsii.String(MetaRuleReason), r.Reason)
		cr.AddMetadata(jsii.String(MetaMachine), r.Machine)
		b.s.Rules[r.Ref] = cr
	}
	// One permission for every rule of the bus, not one per rule: a function
	// policy holds at most 20 KB.
	enforcer.AddPermission(jsii.String("BusRulesInvoke"), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		SourceArn: b.busRulesARN(),
	})
	return nil
}

// directMachine declares the state machine of a direct rule: it records
// the enforcement in the table (dynamodb:PutItem on the table, nothing
// else) and starts the rule's machine (states:StartExecution on that
// machine only). Its executions are not BWC executions: the completion
// function does not follow them.
//
// It is an Express state machine, unlike the workflows: it makes two
// request-response calls and ends, so it is billed per request and 100 ms
// rather than per state transition, and its conditional put makes it
// idempotent, so Express's at-least-once runs start nothing twice. Express
// keeps no execution history in Step Functions: its history is the log
// group (level ALL), and it sends no status change events.
func (b *builder) directMachine(r RulePlan) (awsstepfunctions.StateMachine, error) {
	target, ok := b.s.Machines[r.Machine]
	if !ok {
		return nil, fmt.Errorf("rule %s: its state machine %s is not in the stack", r.Ref, r.Machine)
	}
	id := "Machine" + exportName(r.DirectMachine)
	name := MachineName(b.name, r.DirectMachine)
	sm := awsstepfunctions.NewStateMachine(b.s.Stack, jsii.String(id), &awsstepfunctions.StateMachineProps{
		StateMachineName: jsii.String(name),
		StateMachineType: awsstepfunctions.StateMachineType_EXPRESS,
		DefinitionBody:   awsstepfunctions.DefinitionBody_FromString(jsii.String(string(r.DirectDefinition))),
		DefinitionSubstitutions: &map[string]*string{
			direct.TableNameParam:                    b.s.Table.Ref(),
			workflow.StateMachineArnParam(r.Machine): target.StateMachineArn(),
		},
		Logs: &awsstepfunctions.LogOptions{
			Destination:          b.logGroup(id+"Logs", "/aws/vendedlogs/states/"+name),
			Level:                awsstepfunctions.LogLevel_ALL,
			IncludeExecutionData: jsii.Bool(false),
		},
		TracingEnabled: jsii.Bool(true),
	})
	sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("RecordEnforcement"), Actions: jsii.Strings("dynamodb:PutItem"), Resources: &[]*string{b.s.Table.AttrArn()},
	}))
	sm.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("StartMachine"), Actions: jsii.Strings("states:StartExecution"), Resources: &[]*string{target.StateMachineArn()},
	}))
	b.s.DirectMachines[r.Ref] = sm
	return sm, nil
}

// busRulesARN covers the rules of the BWC bus.
func (b *builder) busRulesARN() *string {
	return awscdk.Fn_Sub(jsii.String("arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"+b.name+"/*"), nil)
}

// allowDLQ lets EventBridge send the failed events of the BWC bus's rules
// and of the execution status rule to the dead-letter queue.
func (b *builder) allowDLQ(statusRule *string) {
	b.s.DLQ.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("EventBridgeDeadLetters"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{b.s.DLQ.QueueArn()},
		Conditions: &map[string]interface{}{"ArnLike": map[string]interface{}{"aws:SourceArn": []*string{b.busRulesARN(), statusRule}}},
	}))
}

func (b *builder) schedules() error {
	plan := b.props.Plan
	if len(plan.Timers) == 0 && len(plan.Pollers) == 0 {
		return nil
	}
	timerFn, pollerFn := b.s.Functions[FnTimer], b.s.Functions[FnPoller]
	role := awsiam.NewRole(b.s.Stack, jsii.String("SchedulerRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": b.s.Account()}},
		}),
		Description: jsii.String("EventBridge Scheduler invokes the BWC timer and poller functions"),
	})
	if len(plan.Timers) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("InvokeTimer"), Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &[]*string{timerFn.FunctionArn()},
		}))
	}
	if len(plan.Pollers) > 0 {
		role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid: jsii.String("InvokePoller"), Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &[]*string{pollerFn.FunctionArn()},
		}))
	}
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("DeadLetters"), Actions: jsii.Strings("sqs:SendMessage"), Resources: &[]*string{b.s.DLQ.QueueArn()},
	}))
	b.s.Roles["scheduler"] = role
	for _, t := range b.props.Plan.Timers {
		input, err := json.Marshal(map[string]any{
			"rule": t.Rule, "trigger": t.Trigger, "parameters": t.Parameters,
			"scheduled_time": "<aws.scheduler.scheduled-time>",
		})
		if err != nil {
			return fmt.Errorf("timer of rule %s: encoding its input: %w", t.Rule, err)
		}
		state := "ENABLED"
		if !t.Enabled {
			state = "DISABLED"
		}
		props := &awsscheduler.CfnScheduleProps{
			Name:               jsii.String(RuleName(b.name, t.Rule)),
			Description:        jsii.String("BWC timer of rule " + t.Rule + " (" + t.Trigger + ")"),
			ScheduleExpression: jsii.String(t.Expression),
			FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			State:              jsii.String(state),
			Target: &awsscheduler.CfnSchedule_TargetProperty{
				Arn:              timerFn.FunctionArn(),
				RoleArn:          role.RoleArn(),
				Input:            jsii.String(string(input)),
				DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: b.s.DLQ.QueueArn()},
				RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
					MaximumRetryAttempts:     jsii.Number(b.props.EventRetries),
					MaximumEventAgeInSeconds: jsii.Number(b.props.EventMaxAgeSeconds),
				},
			},
		}
		if t.Timezone != "" {
			props.ScheduleExpressionTimezone = jsii.String(t.Timezone)
		}
		b.s.Schedules[t.Rule] = awsscheduler.NewCfnSchedule(b.s.Stack, jsii.String("Timer"+exportName(t.Rule)), props)
	}
	for _, p := range plan.Pollers {
		input, err := json.Marshal(map[string]any{"pack": p.Pack, "sensor": p.Sensor, "scheduled_time": "<aws.scheduler.scheduled-time>"})
		if err != nil {
			return fmt.Errorf("poller %s: encoding its input: %w", p.Sensor, err)
		}
		b.s.Pollers[p.Sensor] = awsscheduler.NewCfnSchedule(b.s.Stack, jsii.String("Poller"+exportName(p.Sensor)), &awsscheduler.CfnScheduleProps{
			Name:               jsii.String(PollerName(b.name, p.Sensor)),
			Description:        jsii.String(fmt.Sprintf("BWC polling sensor %s, every %d s", p.Sensor, p.PollSeconds)),
			ScheduleExpression: jsii.String(p.Expression),
			FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
			State:              jsii.String("ENABLED"),
			Target: &awsscheduler.CfnSchedule_TargetProperty{
				Arn:              pollerFn.FunctionArn(),
				RoleArn:          role.RoleArn(),
				Input:            jsii.String(string(input)),
				DeadLetterConfig: &awsscheduler.CfnSchedule_DeadLetterConfigProperty{Arn: b.s.DLQ.QueueArn()},
				// a missed poll is not worth retrying for a day: the next
				// one comes at the next interval
				RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
					MaximumRetryAttempts:     jsii.Number(0),
					MaximumEventAgeInSeconds: jsii.Number(min(86400, max(60, p.PollSeconds))),
				},
			},
		})
	}
	return nil
}

// PollerName is the physical name of a polling sensor's schedule.
func PollerName(prefix, sensor string) string { return RuleName(prefix+"-poll", sensor) }

// Stack outputs: what a deploy prints and docs/deploy.md uses.
const (
	OutputAPIURL     = "ApiUrl"
	OutputTable      = "TableName"
	OutputBus        = "EventBusName"
	OutputKey        = "SecretsKeyArn"
	OutputDLQ        = "DeadLetterQueueUrl"
	OutputNamePrefix = "NamePrefix"
)

func (b *builder) outputs() {
	out := func(id, desc string, v *string) {
		awscdk.NewCfnOutput(b.s.Stack, jsii.String(id), &awscdk.CfnOutputProps{Value: v, Description: jsii.String(desc)})
	}
	out(OutputAPIURL, "BWC HTTP API: bwc --api <url>, webhooks at <url>/api/v1/webhooks/<url>", b.s.API.ApiEndpoint())
	out(OutputTable, "DynamoDB table of the audit trail and datastore (retained on delete unless bwc:destroyData)", b.s.Table.Ref())
	out(OutputBus, "EventBridge bus the triggers are put on", b.s.Bus.EventBusName())
	out(OutputKey, "KMS key of datastore secrets (retained on delete unless bwc:destroyData)", b.s.Key.KeyArn())
	out(OutputDLQ, "dead-letter queue of EventBridge and Scheduler targets", b.s.DLQ.QueueUrl())
	out(OutputNamePrefix, "prefix of every physical name", jsii.String(b.name))
}

// completion routes Step Functions status changes of the stack's state
// machines (default bus) to the completion function.
func (b *builder) completion() {
	fn := b.s.Functions[FnCompletion]
	var arns []*string
	for _, m := range b.props.Plan.Machines {
		arns = append(arns, b.s.Machines[m.Ref].StateMachineArn())
	}
	cr := awsevents.NewCfnRule(b.s.Stack, jsii.String("ExecutionStatus"), &awsevents.CfnRuleProps{
		Name:        jsii.String(b.name + "-execution-status"),
		Description: jsii.String("BWC: status changes of BWC state machine executions, to the completion function"),
		EventPattern: map[string]any{
			"source":      []string{"aws.states"},
			"detail-type": []string{"Step Functions Execution Status Change"},
			"detail":      map[string]any{"stateMachineArn": arns},
		},
		State: jsii.String("ENABLED"),
		Targets: &[]interface{}{&awsevents.CfnRule_TargetProperty{
			Id:               jsii.String("completion"),
			Arn:              fn.FunctionArn(),
			DeadLetterConfig: &awsevents.CfnRule_DeadLetterConfigProperty{Arn: b.s.DLQ.QueueArn()},
			RetryPolicy: &awsevents.CfnRule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(b.props.EventRetries),
				MaximumEventAgeInSeconds: jsii.Number(b.props.EventMaxAgeSeconds),
			},
		}},
	})
	fn.AddPermission(jsii.String("ExecutionStatusInvoke"), &awslambda.Permission{
		Principal: awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		SourceArn: cr.AttrArn(),
	})
	b.allowDLQ(cr.AttrArn())
}

func (b *builder) api() error {
	api := awsapigatewayv2.NewHttpApi(b.s.Stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:     jsii.String(b.name),
		Description: jsii.String("BWC HTTP API: webhooks, executions, inquiries"),
	})
	logs := b.logGroup("ApiLogs", "/aws/vendedlogs/apigateway/"+b.name)
	stage := api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime",` +
			`"routeKey":"$context.routeKey","status":"$context.status","responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}`),
	})
	// one integration and one invoke permission per function for the whole
	// API, not one per route: a function policy holds at most 20 KB, and
	// webhook routes grow with the packs
	integrations := map[string]awsapigatewayv2integrations.HttpLambdaIntegration{}
	for _, r := range Routes(b.props.Plan) {
		fn, ok := b.s.Functions[r.Function]
		if !ok {
			return fmt.Errorf("route %s %s: internal/api names the function %q, which the stack does not have", r.Method, r.Path, r.Function)
		}
		integ, ok := integrations[r.Function]
		if !ok {
			integ = awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(exportName(r.Function)+"Integration"), fn,
				&awsapigatewayv2integrations.HttpLambdaIntegrationProps{ScopePermissionToRoute: jsii.Bool(false)})
			integrations[r.Function] = integ
		}
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: integ,
		})
	}
	b.s.API = api
	return nil
}

// LogRetention returns CloudWatch Logs' retention setting for a number of
// days; it must be one CloudWatch Logs offers (1, 3, 5, 7, 14, 30, 60, 90,
// ...), or 0 to keep logs forever.
func LogRetention(days int) (awslogs.RetentionDays, error) {
	r, ok := map[int]awslogs.RetentionDays{
		0: awslogs.RetentionDays_INFINITE, 1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS,
		5: awslogs.RetentionDays_FIVE_DAYS, 7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS,
		30: awslogs.RetentionDays_ONE_MONTH, 60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS,
		120: awslogs.RetentionDays_FOUR_MONTHS, 150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS,
		365: awslogs.RetentionDays_ONE_YEAR, 400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS,
		731: awslogs.RetentionDays_TWO_YEARS, 1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS,
		2192: awslogs.RetentionDays_SIX_YEARS, 2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS,
		3288: awslogs.RetentionDays_NINE_YEARS, 3653: awslogs.RetentionDays_TEN_YEARS,
	}[days]
	if !ok {
		return "", fmt.Errorf("log retention of %d days: CloudWatch Logs offers 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653", days)
	}
	return r, nil
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isAlnum(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
