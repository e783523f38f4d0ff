// Command inquiry is BWC's inquiry Lambda function (inquiry responses to
// Step Functions task tokens, and the scheduled sweep that times out
// inquiries past their ttl). It only wires: the
// handler is lambdafn's (internal/aws/lambdafn); docs/deploy.md lists its
// input and environment.
package main

import "github.com/bwc-project/bwc/internal/aws/lambdafn"

func main() {
	lambdafn.Main("inquiry", func(d *lambdafn.Deps) (any, error) {
		h, err := lambdafn.NewInquiry(d, version)
		if err != nil {
			return nil, err
		}
		return h.Handle, nil
	})
}

// version is reported by /api/v1/health; set with -ldflags "-X main.version=...".
var version = "dev"
