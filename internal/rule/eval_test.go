package rule

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func evalRule(t *testing.T, r Rule) *Compiled {
	t.Helper()
	c, err := Compile(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEvaluatorRender(t *testing.T) {
	c := evalRule(t, Rule{
		Ref: "examples.r", Pack: "examples", Trigger: Trigger{Type: "core.webhook", Parameters: map[string]any{"url": "alerts"}},
		Criteria: []Criterion{{Key: "trigger.body.severity", Op: "equals", Pattern: "critical"}},
		Action: Action{Ref: "core.local", Parameters: map[string]any{
			"host":    "{{ trigger.body.host }}",
			"message": "disk {{ trigger.body.host }} at {{ trigger.body.usage }}%",
			"token":   "{% $secret('pagerduty_token') %}",
			"region":  "{% $config('region') %}",
			"owner":   "{% $kv('system', 'owner.' & $trigger.body.host) %}",
			"missing": "{% $trigger.body.nothing %}",
			"literal": 5,
			"nested":  map[string]any{"list": []any{"{{ trigger.body.host }}", "x"}},
		}},
	})
	if !c.NeedsEnforcer() {
		t.Error("NeedsEnforcer = false for parameters that call $kv/$secret/$config")
	}
	var kvScope, kvKey, cfgPack string
	ev, err := NewEvaluator(c, Functions{
		KV: func(_ context.Context, scope, key string) (any, error) {
			kvScope, kvKey = scope, key
			return "team-storage", nil
		},
		Secret: func(_ context.Context, key string) (any, error) { return "s3cr3t-" + key, nil },
		Config: func(_ context.Context, pack, key string) (any, error) {
			cfgPack = pack
			return "eu-west-1", nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnvelope("ti-1", "core.webhook", map[string]any{"url": "alerts"},
		map[string]any{"body": map[string]any{"severity": "critical", "host": "db-1", "usage": 97}}, "trace-1", time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	ok, err := ev.Match(context.Background(), env)
	if err != nil || !ok {
		t.Fatalf("Match = %v, %v; want true", ok, err)
	}
	got, err := ev.Render(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"host":"db-1","literal":5,"message":"disk db-1 at 97%","nested":{"list":["db-1","x"]},"owner":"team-storage","region":"eu-west-1","token":"s3cr3t-pagerduty_token"}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("Render =\n%s\nwant\n%s", b, want)
	}
	if kvScope != "system" || kvKey != "owner.db-1" || cfgPack != "examples" {
		t.Errorf("functions called with kv(%s, %s), config pack %s", kvScope, kvKey, cfgPack)
	}

	// Another webhook url is another trigger: the pattern does not match.
	other := env
	other.Detail.TriggerParameters = map[string]any{"url": "other"}
	if ok, err := ev.Match(context.Background(), other); err != nil || ok {
		t.Errorf("Match with another webhook url = %v, %v; want false", ok, err)
	}
}

func TestEvaluatorUnavailableFunction(t *testing.T) {
	c := evalRule(t, Rule{Ref: "p.r", Pack: "p", Trigger: Trigger{Type: "p.t"},
		Action: Action{Ref: "core.noop", Parameters: map[string]any{"k": "{% $kv('user', 'x') %}"}}})
	ev, err := NewEvaluator(c, Functions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ev.Render(context.Background(), NewEnvelope("1", "p.t", nil, nil, "", time.Now()))
	if err == nil || !strings.Contains(err.Error(), "$kv() is not available here") {
		t.Errorf("Render error = %v, want $kv() is not available", err)
	}
}

func TestEvaluatorFunctionError(t *testing.T) {
	c := evalRule(t, Rule{Ref: "p.r", Pack: "p", Trigger: Trigger{Type: "p.t"},
		Action: Action{Ref: "core.noop", Parameters: map[string]any{"k": "{% $secret('nope') %}"}}})
	ev, err := NewEvaluator(c, Functions{Secret: func(context.Context, string) (any, error) {
		return nil, fmt.Errorf("secret nope: not found")
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ev.Render(context.Background(), NewEnvelope("1", "p.t", nil, nil, "", time.Now()))
	if err == nil || !strings.Contains(err.Error(), "secret nope: not found") || !strings.Contains(err.Error(), "action.parameters.k") {
		t.Errorf("Render error = %v, want the function's error and the parameter", err)
	}
}

func TestEvaluatorExplain(t *testing.T) {
	c := evalRule(t, Rule{Ref: "p.r", Pack: "p", Trigger: Trigger{Type: "p.t"},
		Criteria: []Criterion{
			{Key: "trigger.status", Op: "equals", Pattern: "failed"},
			{Key: "trigger.host", Op: "regex", Pattern: "^web-[0-9]+$"},
		},
		Action: Action{Ref: "core.noop"}})
	ev, err := NewEvaluator(c, Functions{})
	if err != nil {
		t.Fatal(err)
	}
	env := NewEnvelope("1", "p.t", nil, map[string]any{"status": "failed", "host": "db-1"}, "", time.Now())
	out, err := ev.Explain(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || !out[0].Matched || out[1].Matched {
		t.Fatalf("Explain = %+v; want the first criterion to pass and the second to fail", out)
	}
	if ok, _ := ev.Match(context.Background(), env); ok {
		t.Error("Match = true with a failing regex criterion")
	}
}
