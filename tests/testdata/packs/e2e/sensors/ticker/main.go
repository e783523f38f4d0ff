// Command ticker is the end-to-end tests' custom polling sensor: every poll
// emits an e2e.tock trigger instance (and one that breaks its schema,
// which the engine drops).
package main

import (
	"context"

	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

func main() {
	polls := 0
	sdk.RunPoller(func(_ context.Context, emit sdk.Emit) error {
		polls++
		if err := emit("e2e.tock", map[string]any{"poll": "not a number"}); err != nil {
			return err
		}
		return emit("e2e.tock", map[string]any{"poll": polls, "greeting": "hello"})
	})
}
