// Command api is BWC's api Lambda function (the HTTP API behind API Gateway). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("api", func(d *lambdafn.Deps) (any, error) {
		h, err := lambdafn.NewHTTP(d, version)
		return h.Handle, err
	})
}

// version is reported by /api/v1/health; set with -ldflags "-X main.version=...".
var version = "dev"
