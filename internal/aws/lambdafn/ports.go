package lambdafn

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

// The Step Functions calls of the adapters in internal/aws/stepfunctions,
// declared again here so that Deps can hold one client for all of them.
type (
	stepfunctionsStartAPI interface {
		StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
	}
	stepfunctionsTokenAPI interface {
		SendTaskSuccess(ctx context.Context, in *sfn.SendTaskSuccessInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskSuccessOutput, error)
		SendTaskFailure(ctx context.Context, in *sfn.SendTaskFailureInput, optFns ...func(*sfn.Options)) (*sfn.SendTaskFailureOutput, error)
	}
	stepfunctionsStopAPI interface {
		StopExecution(ctx context.Context, in *sfn.StopExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
	}
	// The completion function reads an output too large for the status
	// change event (over 256 KiB) with DescribeExecution.
	stepfunctionsDescribeAPI interface {
		DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, optFns ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	}
)

var _ SFN = (*sfn.Client)(nil)
