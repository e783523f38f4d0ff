package runner_test

import (
	"context"
	"fmt"

	"github.com/bwc-project/bwc/internal/runner"
)

func ExampleRegistry_Run() {
	reg := runner.New(runner.Options{})
	res, err := reg.Run(context.Background(), runner.Request{
		ExecutionID: "ex-1",
		Action: runner.Action{Ref: "demo.hello", RunnerType: runner.TypeLocalShellCmd,
			Parameters: map[string]runner.ParameterInfo{"token": {Secret: true}}},
		Parameters:       map[string]any{"token": "s3cr3t-t0ken"},
		RunnerParameters: map[string]any{"cmd": `echo "hello from $BWC_EXECUTION_ID, token s3cr3t-t0ken"; exit 2`},
		Output: func(c runner.Chunk) {
			fmt.Printf("%s: %s", c.Stream, c.Data)
		},
	})
	fmt.Println(res.Value.(map[string]any)["return_code"], runner.ErrorName(err))
	// Output:
	// stdout: hello from ex-1, token ********
	// 2 bwc.ActionFailed
}
