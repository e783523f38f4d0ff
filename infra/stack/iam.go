package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"

	"github.com/bwc-project/bwc/internal/store/dynamo"
)

// Access is what one function may do, beyond writing its own logs and
// traces. Each field is a list of IAM actions on one set of resources.
type Access struct {
	Table   []string // on the table
	Indexes []string // on each GSI (listed one by one, no wildcard)
	// StatusIndex is on the records-by-status GSI only (dynamo.StatusIndex).
	StatusIndex []string
	Key         []string // on the secrets KMS key
	Bus         []string // on the event bus
	Machines    []string // on every state machine of the stack
	Execution   []string // on the executions of every state machine of the stack
}

// FunctionAccess is the permission table of the functions: the contract the
// handlers are written against (docs/deploy.md lists the same).
func FunctionAccess() map[string]Access {
	return map[string]Access{
		// validate, record the trigger instance (idempotent put), PutEvents;
		// signature secrets come from the datastore.
		FnWebhook: {Table: []string{"dynamodb:GetItem", "dynamodb:PutItem"}, Key: []string{"kms:Decrypt"}, Bus: []string{"events:PutEvents"}},
		FnTimer:   {Table: []string{"dynamodb:GetItem", "dynamodb:PutItem"}, Bus: []string{"events:PutEvents"}},
		FnPoller:  {Table: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}, Key: []string{"kms:Decrypt"}, Bus: []string{"events:PutEvents"}},
		// residual, parameters ($kv, $secret), enforcement and execution
		// records (secret parameters sealed with the key),
		// StartExecution named by the execution id.
		FnEnforcer: {
			Table:    []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
			Key:      []string{"kms:GenerateDataKey", "kms:Decrypt"},
			Machines: []string{"states:StartExecution"},
		},
		// runs actions: execution status, output and result chunks,
		// inquiries (core.ask), $kv/$secret, core.inject_trigger; the
		// secret parameters of executions are opened (and a task's
		// sealed) with the key.
		FnRunner: {
			Table: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Query"},
			Key:   []string{"kms:GenerateDataKey", "kms:Decrypt"},
			Bus:   []string{"events:PutEvents"},
		},
		// execution records from status changes (large outputs are read
		// with DescribeExecution), core.actiontrigger.
		FnCompletion: {
			Table:     []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Query"},
			Bus:       []string{"events:PutEvents"},
			Execution: []string{"states:DescribeExecution"},
		},
		// responses: the inquiry record, then the task token; the answered
		// core.ask execution ends there, so its core.actiontrigger too. The
		// scheduled sweep lists the pending inquiries (the status index)
		// and times out those past their ttl the same way.
		FnInquiry: {
			Table:       []string{"dynamodb:GetItem", "dynamodb:PutItem"},
			StatusIndex: []string{"dynamodb:Query"},
			Bus:         []string{"events:PutEvents"},
			Machines:    []string{"states:SendTaskSuccess", "states:SendTaskFailure"},
		},
		// every listing (GSIs), key-value pairs (secrets encrypted and
		// decrypted), API keys, runs, cancels and re-runs.
		FnAPI: {
			Table:     []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:Query"},
			Indexes:   []string{"dynamodb:Query"},
			Key:       []string{"kms:GenerateDataKey", "kms:Decrypt"},
			Machines:  []string{"states:StartExecution"},
			Execution: []string{"states:DescribeExecution", "states:StopExecution"},
		},
	}
}

// policies adds each function's Access to its role.
func (b *builder) policies() {
	var machines, execs []*string
	for _, m := range b.props.Plan.Machines {
		machines = append(machines, b.s.Machines[m.Ref].StateMachineArn())
		execs = append(execs, b.executionsARN(m.Ref))
	}
	access := FunctionAccess()
	statusIndex := awscdk.Fn_Join(jsii.String(""), &[]*string{b.s.Table.AttrArn(), jsii.String("/index/" + dynamo.StatusIndex())})
	for _, fn := range FunctionNames() {
		a := access[fn]
		role := b.s.Roles[fn]
		add := func(sid string, actions []string, resources []*string) {
			if len(actions) == 0 {
				return
			}
			role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid: jsii.String(sid), Actions: jsii.Strings(actions...), Resources: &resources,
			}))
		}
		add("Table", a.Table, []*string{b.s.Table.AttrArn()})
		add("Indexes", a.Indexes, b.indexARNs)
		add("StatusIndex", a.StatusIndex, []*string{statusIndex})
		add("Key", a.Key, []*string{b.s.Key.KeyArn()})
		add("Bus", a.Bus, []*string{b.s.Bus.EventBusArn()})
		add("Machines", a.Machines, machines)
		add("Executions", a.Execution, execs)
	}
}
