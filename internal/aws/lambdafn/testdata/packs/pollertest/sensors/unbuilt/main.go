// Command unbuilt is a polling sensor the poller tests never build.
package main

import (
	"context"

	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

func main() {
	sdk.RunPoller(func(context.Context, sdk.Emit) error { return nil })
}
