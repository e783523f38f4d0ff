// Command greet is the go runner's test action: its "mode" parameter picks a
// behaviour.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/bwc-project/bwc/internal/runner/goaction"
)

func main() {
	goaction.Run(func(ctx context.Context, req goaction.Request) (any, error) {
		mode, _ := req.Parameters["mode"].(string)
		name, _ := req.Parameters["name"].(string)
		switch mode {
		case "fail":
			return nil, goaction.Errorf("demo.NoName", true, "no name for %s", req.ExecutionID)
		case "plain-error":
			return nil, errors.New("something broke")
		case "panic":
			panic("boom")
		case "stdout":
			fmt.Println("noise on stdout")
		case "log":
			for i := 0; i < 3; i++ {
				fmt.Fprintf(os.Stderr, "log %d\n", i)
			}
		case "block":
			fmt.Fprintln(os.Stderr, "started")
			<-ctx.Done()
			fmt.Fprintln(os.Stderr, "stopping:", ctx.Err())
			return nil, ctx.Err()
		case "exit":
			os.Exit(3)
		}
		return map[string]any{
			"greeting":  "hello " + name,
			"execution": req.ExecutionID,
			"action":    req.Action,
			"env":       os.Getenv("BWC_EXECUTION_ID"),
			"user":      req.Context["user"],
			"n":         3,
		}, nil
	})
}
