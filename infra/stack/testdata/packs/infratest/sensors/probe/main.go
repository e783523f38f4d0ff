// Command probe is the infra tests' polling sensor; the synth test only
// plans its schedule and never builds it.
package main

import (
	"context"

	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

func main() {
	sdk.RunPoller(func(_ context.Context, emit sdk.Emit) error {
		return emit("infratest.status", map[string]any{"up": true})
	})
}
