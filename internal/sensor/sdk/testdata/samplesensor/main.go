// Command samplesensor is a polling sensor used by the sdk tests: every
// poll emits config.count examples.tick trigger instances.
package main

import (
	"context"
	"fmt"

	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

func main() {
	polls := 0
	sdk.RunPoller(func(ctx context.Context, emit sdk.Emit) error {
		polls++
		cfg := sdk.SettingsFrom(ctx).Config
		count, _ := cfg["count"].(float64)
		for i := range int(count) {
			if err := emit("examples.tick", map[string]any{"poll": polls, "i": i, "host": cfg["host"]}); err != nil {
				return err
			}
		}
		if cfg["fail"] == true {
			return fmt.Errorf("the device did not answer")
		}
		return nil
	})
}
