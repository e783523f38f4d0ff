package runner

import "context"

// noopRunner does nothing and succeeds with the shell result shape.
type noopRunner struct{}

var _ Runner = noopRunner{}

// Run implements [Runner].
func (noopRunner) Run(ctx context.Context, req Request) (Result, error) {
	if ctx.Err() != nil {
		return Result{}, ctxStopErr(ctx)
	}
	return Result{Value: shellResult("", "", 0)}, nil
}
