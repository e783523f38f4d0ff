package lambdafn

import (
	"context"
	"fmt"
	"strings"
)

// PollerEvent is what a poller schedule sends: the sensor to poll
// ({"pack": "<pack>", "sensor": "<pack>.<name>"}; a sensor given without
// its pack is taken in Pack).
type PollerEvent struct {
	Pack   string `json:"pack"`
	Sensor string `json:"sensor"`
}

// Poller is the poller function's handler.
type Poller struct{ d *Deps }

// NewPoller builds the poller function's handler.
func NewPoller(d *Deps) *Poller {
	d.init()
	return &Poller{d: d}
}

// Handle checks that the sensor exists and answers bwc.Unsupported: a
// pack's Go polling sensor (internal/sensor/sdk) runs in the embedded
// engine only for now (sdk.RunPoller refuses to run under a Lambda
// runtime); running its poll in this function needs the sensor built
// into the function's package and a one-poll mode of the SDK, neither of
// which exists yet. Unknown sensors are bwc.BadEvent.
func (h *Poller) Handle(ctx context.Context, in PollerEvent) (struct{}, error) {
	if in.Sensor == "" {
		return struct{}{}, FunctionError(ErrNameBadEvent, `expected {"pack": "<pack>", "sensor": "<pack>.<name>"}`)
	}
	ref := in.Sensor
	if !strings.Contains(ref, ".") {
		ref = in.Pack + "." + ref
	}
	for _, s := range h.d.Content.Packs.Sensors() {
		if s.Ref == ref {
			h.d.logger(ctx, "poller").Warn("polling sensors do not run on AWS yet", "sensor", ref)
			return struct{}{}, FunctionError(ErrNameUnsupported, fmt.Sprintf("sensor %s: polling sensors do not run on AWS yet (docs/deploy.md)", ref))
		}
	}
	return struct{}{}, FunctionError(ErrNameBadEvent, fmt.Sprintf("no sensor %s is loaded in the function's packs", ref))
}
