// Command probe is the poller function tests' polling sensor. Its pack
// config's "mode" says what a poll does:
//
//   - "ok": two identical readings of config.host, and one that breaks
//     the payload_schema (the poller drops it);
//   - "fail": one reading, then the poll fails;
//   - "hang": the poll waits until it is cancelled.
package main

import (
	"context"
	"errors"

	"github.com/bwc-project/bwc/internal/sensor/sdk"
)

func main() {
	sdk.RunPoller(func(ctx context.Context, emit sdk.Emit) error {
		cfg := sdk.SettingsFrom(ctx).Config
		reading := map[string]any{"host": cfg["host"], "n": 1}
		switch cfg["mode"] {
		case "ok":
			for _, p := range []map[string]any{reading, reading, {"host": cfg["host"], "n": "one"}} {
				if err := emit("pollertest.reading", p); err != nil {
					return err
				}
			}
			return nil
		case "fail":
			if err := emit("pollertest.reading", reading); err != nil {
				return err
			}
			return errors.New("the probe did not answer")
		case "hang":
			<-ctx.Done()
			return ctx.Err()
		}
		return errors.New("config.mode: expected ok, fail or hang")
	})
}
