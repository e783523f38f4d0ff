// Command inquiry is BWC's inquiry Lambda function (inquiry responses to
// Step Functions task tokens, and the scheduled sweep that times out
// inquiries past their ttl). It only wires: the
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
		fmt.Fprintln(os.Stderr, "bwc inquiry:", err)
		os.Exit(1)
	}
}

func run() error {
	deps, err := lambdafn.Load(context.Background())
	if err != nil {
		return err
	}
	h, err := lambdafn.NewInquiry(deps, version)
	if err != nil {
		return err
	}
	lambda.Start(h.Handle)
	return nil
}

// version is reported by /api/v1/health; set with -ldflags "-X main.version=...".
var version = "dev"
