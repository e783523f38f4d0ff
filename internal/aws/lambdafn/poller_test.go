package lambdafn_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/store"
)

// pollerFixture is a fixture whose packs include a copy of
// testdata/packs/pollertest with its probe sensor built beside its
// source, as `make lambda` builds the poller's bundle (the unbuilt sensor
// is left unbuilt).
func pollerFixture(t *testing.T, config map[string]any) (*fixture, *lambdafn.Poller) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a sensor binary")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "packs"))); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "pollertest", "sensors", "probe", lambdafn.SensorBinary)
	cmd := exec.Command("go", "build", "-o", bin, "./testdata/packs/pollertest/sensors/probe")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	f := newFixture(t, dir)
	f.deps.Configs["pollertest"] = config
	return f, lambdafn.NewPoller(f.deps)
}

func TestPollerPublishesEachPollOnce(t *testing.T) {
	f, h := pollerFixture(t, map[string]any{"mode": "ok", "host": "web-1"})
	recorded := 0
	for _, tc := range []struct {
		name string
		ctx  context.Context
		in   lambdafn.PollerEvent
	}{
		{"scheduled time", context.Background(), lambdafn.PollerEvent{Pack: "pollertest", Sensor: "pollertest.Probe", ScheduledTime: "2026-11-30T01:00:00Z"}},
		{"request id", lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"}), lambdafn.PollerEvent{Pack: "pollertest", Sensor: "Probe"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.events.ofType("pollertest.reading"))
			first, err := h.Handle(tc.ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if first.Sensor != "pollertest.Probe" || len(first.Published) != 2 || len(first.Dropped) != 1 {
				t.Fatalf("result %+v, want 2 published and 1 dropped", first)
			}
			if first.Published[0].TriggerInstanceID == first.Published[1].TriggerInstanceID || first.Published[0].Duplicate || first.Published[1].Duplicate {
				t.Errorf("two identical emissions of one poll are two trigger instances: %+v", first.Published)
			}
			if d := first.Dropped[0]; d.Trigger != "pollertest.reading" || !strings.Contains(d.Reason, "/n") {
				t.Errorf("dropped %+v, want the reading whose n is not an integer", d)
			}
			evs := f.events.ofType("pollertest.reading")
			if len(evs) != before+2 {
				t.Fatalf("%d events put, want 2", len(evs)-before)
			}
			if p, _ := evs[before]["payload"].(map[string]any); p["host"] != "web-1" {
				t.Errorf("event detail %v, want the pack config's host in the payload", evs[before])
			}
			ti, err := f.store.GetTriggerInstance(context.Background(), first.Published[0].TriggerInstanceID)
			if err != nil || ti.Trigger != "pollertest.reading" {
				t.Errorf("trigger instance %+v, %v", ti, err)
			}
			// A retried invocation of the same poll publishes nothing new.
			again, err := h.Handle(tc.ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Published) != 2 || !again.Published[0].Duplicate || !again.Published[1].Duplicate ||
				again.Published[0].TriggerInstanceID != first.Published[0].TriggerInstanceID {
				t.Errorf("retry %+v, want the same two trigger instances, duplicates", again.Published)
			}
			// (The publisher puts an instance still pending on the bus
			// again, as it may never have been sent; the enforcer is
			// idempotent per trigger instance.)
			page, err := f.store.ListTriggerInstances(context.Background(), store.TriggerInstanceQuery{Trigger: "pollertest.reading", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != recorded+2 {
				t.Errorf("%d trigger instances recorded by two invocations of one poll, want 2", len(page.Items)-recorded)
			}
			recorded = len(page.Items)
		})
	}
}

func TestPollerErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		mode      string
		in        lambdafn.PollerEvent
		timeout   time.Duration
		want      string
		published int
	}{
		{"no sensor", "ok", lambdafn.PollerEvent{}, 0, lambdafn.ErrNameBadEvent, 0},
		{"unknown sensor", "ok", lambdafn.PollerEvent{Pack: "pollertest", Sensor: "pollertest.nope"}, 0, lambdafn.ErrNameBadEvent, 0},
		{"not a polling sensor", "ok", lambdafn.PollerEvent{Sensor: "core.IntervalTimer"}, 0, lambdafn.ErrNameBadEvent, 0},
		{"not built", "ok", lambdafn.PollerEvent{Sensor: "pollertest.Unbuilt"}, 0, lambdafn.ErrNameSensorNotBuilt, 0},
		{"poll fails", "fail", lambdafn.PollerEvent{Sensor: "pollertest.Probe", ScheduledTime: "2026-11-30T01:00:00Z"}, 0, lambdafn.ErrNameSensorFailed, 1},
		{"poll outlives the deadline", "hang", lambdafn.PollerEvent{Sensor: "pollertest.Probe"}, 3 * time.Second, lambdafn.ErrNameSensorTimeout, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, h := pollerFixture(t, map[string]any{"mode": tc.mode, "host": "web-1"})
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			if tc.in.Sensor == "core.IntervalTimer" {
				// core's timers are sensors without an entry point.
				if s := f.deps.Content.Packs.Sensor(tc.in.Sensor); s == nil {
					for _, s := range f.deps.Content.Packs.Sensors() {
						if s.Pack == "core" && s.EntryPointPath == "" {
							tc.in.Sensor = s.Ref
							break
						}
					}
				}
			}
			res, err := h.Handle(ctx, tc.in)
			if got := errorType(t, err); got != tc.want {
				t.Errorf("errorType %s (%v), want %s", got, err, tc.want)
			}
			if len(res.Published) != tc.published || len(f.events.ofType("pollertest.reading")) != tc.published {
				t.Errorf("published %+v, want %d trigger instances", res.Published, tc.published)
			}
			if tc.want == lambdafn.ErrNameSensorFailed && !strings.Contains(err.Error(), "the probe did not answer") {
				t.Errorf("error %q does not carry the poll's error", err)
			}
		})
	}
}
