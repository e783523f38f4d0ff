// Command inject_trigger is the core.inject_trigger action: it checks the
// trigger instance it is asked to emit and returns it as its result,
// {"trigger", "payload", "trace_tag"}. The engine puts the result of this
// action on the event bus as a trigger instance, so rules on the trigger type
// run.
package main

import (
	"context"
	"regexp"

	"github.com/bwc-project/bwc/internal/runner/goaction"
)

var triggerRef = regexp.MustCompile(`^[a-z0-9_]+\.[A-Za-z0-9_][A-Za-z0-9_-]*$`)

func main() {
	goaction.Run(inject)
}

func inject(_ context.Context, req goaction.Request) (any, error) {
	trigger, _ := req.Parameters["trigger"].(string)
	if !triggerRef.MatchString(trigger) {
		return nil, goaction.Errorf("core.InvalidTrigger", false, "parameter trigger: found %q, expected a trigger type reference <pack>.<name>", trigger)
	}
	payload := map[string]any{}
	if p, ok := req.Parameters["payload"]; ok && p != nil {
		m, ok := p.(map[string]any)
		if !ok {
			return nil, goaction.Errorf("core.InvalidPayload", false, "parameter payload: found %T, expected an object", p)
		}
		payload = m
	}
	out := map[string]any{"trigger": trigger, "payload": payload}
	if tag, _ := req.Parameters["trace_tag"].(string); tag != "" {
		out["trace_tag"] = tag
	}
	return out, nil
}
