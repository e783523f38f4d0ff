package lambdafn

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// NewLogger returns the functions' structured logger: JSON, one object per
// line, to w (stdout on Lambda, which CloudWatch Logs collects).
func NewLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// logger is the invocation's logger: the function and the request id.
func (d *Deps) logger(ctx context.Context, function string) *slog.Logger {
	l := d.Log.With("function", function)
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		l = l.With("request_id", lc.AwsRequestID)
	}
	return l
}

// FunctionError is a function error with a stable name: the Lambda runtime
// reports Name as the errorType, which ASL Retry and Catch match.
func FunctionError(name, message string) error {
	return messages.InvokeResponse_Error{Type: name, Message: message}
}

// Stable error names at the Lambda boundary, besides the actions' own.
const (
	// ErrNameBadEvent: the function's input is not what it expects.
	ErrNameBadEvent = "bwc.BadEvent"
	// ErrNameInvalidTask: a task's action is unknown or its parameters are
	// invalid (as in the embedded engine).
	ErrNameInvalidTask = "bwc.InvalidTask"
	// ErrNameInternal: a storage or AWS error; retrying may succeed.
	ErrNameInternal = "bwc.Internal"
	// ErrNameUnsupported: something the AWS engine does not run yet.
	ErrNameUnsupported = "bwc.Unsupported"
)

// ErrFunctionDeadline is the cause of a work context's end (workContext):
// the invocation was about to reach the function's timeout.
var ErrFunctionDeadline = errors.New("stopped before the Lambda function's timeout (raise the function's timeout, or lower the action's)")

// workContext is ctx ending, with cause ErrFunctionDeadline, before the
// invocation's deadline by the time kept to record what the work did: a
// fifth of the time left, between 1 and 10 seconds (as the poller keeps).
// Without a deadline it is ctx.
func workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	dl, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(max(time.Until(dl)/5, time.Second), 10*time.Second)
	return context.WithDeadlineCause(ctx, dl.Add(-margin), ErrFunctionDeadline)
}
