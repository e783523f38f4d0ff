// Command echofn is a Lambda function for the local cloud's tests under
// aws-lambda-rie: it answers a runner payload {"action", "parameters"} with
// {"ran", "with"}, and fails the action "t.fail" with the error type
// bwc.ActionFailed, as BWC's runner function names action errors. The
// action "t.slow" takes 50 ms, so that invocations overlap.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
)

type payload struct {
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters"`
}

func main() {
	lambda.Start(func(_ context.Context, p payload) (map[string]any, error) {
		if p.Action == "t.slow" {
			time.Sleep(50 * time.Millisecond)
		}
		if p.Action == "t.fail" {
			return nil, messages.InvokeResponse_Error{Type: "bwc.ActionFailed", Message: "the action failed"}
		}
		return map[string]any{"ran": p.Action, "with": p.Parameters}, nil
	})
}
