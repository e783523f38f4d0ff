// Command enforcer is BWC's enforcer Lambda function (EventBridge rule targets to rule enforcement). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bwc enforcer:", err)
		os.Exit(1)
	}
}

func run() error {
	deps, err := lambdafn.Load(context.Background())
	if err != nil {
		return err
	}
	h, err := lambdafn.NewEnforcer(deps)
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}
