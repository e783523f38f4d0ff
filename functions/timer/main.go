// Command timer is BWC's timer Lambda function (Scheduler timer fires to EventBridge). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("timer", func(d *lambdafn.Deps) (any, error) { return lambdafn.NewTimer(d).Handle, nil })
}
