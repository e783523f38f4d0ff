package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsscheduler"
	"github.com/aws/jsii-runtime-go"
)

// InquirySweepInput is what the inquiry-sweep schedule sends the inquiry
// function (lambdafn.SweepEvent).
const InquirySweepInput = `{"sweep":true}`

// InquirySweepExpression is how often the sweep runs: inquiry ttls are in
// minutes, so an inquiry times out at most a minute late (43,200
// invocations a month).
const InquirySweepExpression = "rate(1 minute)"

// InquirySweepName is the physical name of the inquiry-sweep schedule.
func InquirySweepName(prefix string) string { return prefix + "-inquiry-sweep" }

// inquirySweep adds the schedule that invokes the inquiry function every
// minute with {"sweep": true}, which times out the inquiries past their
// ttl. Its role may invoke the inquiry function and nothing else; a missed
// sweep is neither retried nor dead-lettered, as the next comes a minute
// later.
func (b *builder) inquirySweep() {
	fn := b.s.Functions[FnInquiry]
	role := awsiam.NewRole(b.s.Stack, jsii.String("InquirySweepRole"), &awsiam.RoleProps{
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("scheduler.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]interface{}{"StringEquals": map[string]interface{}{"aws:SourceAccount": b.s.Account()}},
		}),
		Description: jsii.String("EventBridge Scheduler invokes the BWC inquiry function's sweep"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid: jsii.String("InvokeInquiry"), Actions: jsii.Strings("lambda:InvokeFunction"), Resources: &[]*string{fn.FunctionArn()},
	}))
	b.s.Roles["inquiry-sweep"] = role
	b.s.InquirySweep = awsscheduler.NewCfnSchedule(b.s.Stack, jsii.String("InquirySweep"), &awsscheduler.CfnScheduleProps{
		Name:               jsii.String(InquirySweepName(b.name)),
		Description:        jsii.String("BWC inquiry sweep: times out the inquiries nobody answered within their ttl"),
		ScheduleExpression: jsii.String(InquirySweepExpression),
		FlexibleTimeWindow: &awsscheduler.CfnSchedule_FlexibleTimeWindowProperty{Mode: jsii.String("OFF")},
		State:              jsii.String("ENABLED"),
		Target: &awsscheduler.CfnSchedule_TargetProperty{
			Arn:     fn.FunctionArn(),
			RoleArn: role.RoleArn(),
			Input:   jsii.String(InquirySweepInput),
			RetryPolicy: &awsscheduler.CfnSchedule_RetryPolicyProperty{
				MaximumRetryAttempts:     jsii.Number(0),
				MaximumEventAgeInSeconds: jsii.Number(60),
			},
		},
	})
}
