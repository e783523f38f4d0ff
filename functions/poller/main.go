// Command poller is BWC's poller Lambda function (polling sensors on a schedule). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("poller", func(d *lambdafn.Deps) (any, error) { return lambdafn.NewPoller(d).Handle, nil })
}
