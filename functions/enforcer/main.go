// Command enforcer is BWC's enforcer Lambda function (EventBridge rule targets to rule enforcement). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("enforcer", func(d *lambdafn.Deps) (any, error) {
		h, err := lambdafn.NewEnforcer(d)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}
