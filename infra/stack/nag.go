package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddChecks runs cdk-nag's AwsSolutions rules on the app's stacks at synth
// time; unsuppressed findings are errors in the synthesized assembly's
// annotations (and fail `cdk synth`).
func AddChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// suppress records, with its reason, each AwsSolutions finding the stack
// accepts.
func (b *builder) suppress() {
	st := b.s.Stack
	// Wildcards AWS itself requires, and execution ARNs (an execution's name
	// is only known at run time).
	cdknag.NagSuppressions_AddStackSuppressions(st, &[]*cdknag.NagPackSuppression{
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("X-Ray (PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) and the CloudWatch Logs delivery actions Step Functions " +
				"logging needs (CreateLogDelivery, GetLogDelivery, ...) support no resource-level permissions: AWS requires Resource *"),
			AppliesTo: &[]interface{}{"Resource::*"},
		},
		{
			Id: jsii.String("AwsSolutions-IAM5"),
			Reason: jsii.String("executions of one named BWC state machine (execution:<machine>:*): execution names are " +
				"enforcement ids chosen at run time; the machine part is fixed"),
			AppliesTo: &[]interface{}{map[string]interface{}{"regex": "/^Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.*:\\*$/g"}},
		},
	}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(b.s.DLQ, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("this queue is the dead-letter queue of every EventBridge and Scheduler target; it has none of its own"),
	}}, jsii.Bool(true))
	cdknag.NagSuppressions_AddResourceSuppressions(b.s.API, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-APIG4"),
		Reason: jsii.String("authentication is BWC's own: the api and inquiry functions check an API key (St2-Api-Key / " +
			"X-Auth-Token against the table's hashed API keys), webhooks verify the sender's signature, and health is public"),
	}}, jsii.Bool(true))
}
