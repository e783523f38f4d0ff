// Command completion is BWC's completion Lambda function (Step Functions status changes to the audit trail). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("completion", func(d *lambdafn.Deps) (any, error) { return lambdafn.NewCompletion(d).Handle, nil })
}
