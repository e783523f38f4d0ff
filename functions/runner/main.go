// Command runner is BWC's runner Lambda function (runs actions for the state machines). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("runner", func(d *lambdafn.Deps) (any, error) { return lambdafn.NewRunner(d).Handle, nil })
}
