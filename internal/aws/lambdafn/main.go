package lambdafn

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// Main is a function's main: it loads the Deps from the environment (see
// Load), builds the function's handler with build and hands it to the
// Lambda runtime. A failure before the runtime starts is printed on stderr
// with the function's name and exits 1 (Lambda reports it as an init
// error).
func Main(name string, build func(*Deps) (handler any, err error)) {
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "bwc %s: %v\n", name, err)
		os.Exit(1)
	}
	deps, err := Load(context.Background())
	if err != nil {
		fail(err)
	}
	h, err := build(deps)
	if err != nil {
		fail(err)
	}
	lambda.Start(h)
}
