package enforcer_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/sqlite"
)

var packFS = fstest.MapFS{
	"t/pack.yaml": {Data: []byte("ref: t\nname: t\ndescription: test pack\nversion: 1.0.0\nauthor: x\n")},
	"t/actions/act.yaml": {Data: []byte(`name: act
runner_type: local-shell-cmd
enabled: true
parameters:
  host:
    type: string
    required: true
  count:
    type: integer
    default: 3
  mode:
    type: string
    enum: [fast, slow]
    default: fast
  token:
    type: string
    secret: true
  tags:
    type: array
    items: {type: string}
  cmd:
    default: "echo {{ host }} {{ count }}"
    immutable: true
  env:
    default:
      TARGET: "{% $host & ':' & $string($count) %}"
      URL: "{% $config('base_url') %}"
    immutable: true
`)},
	"t/actions/off.yaml": {Data: []byte("name: off\nrunner_type: noop\nenabled: false\n")},
	"t/sensors/s.yaml": {Data: []byte(`class_name: S
trigger_types:
  - name: alert
    payload_schema:
      type: object
      properties:
        host: {type: string}
        n: {type: integer}
`)},
	"t/rules/on_alert.yaml": {Data: []byte(`name: on_alert
pack: t
enabled: true
trigger:
  type: t.alert
criteria:
  trigger.host:
    type: regex
    pattern: "^web-[0-9]+$"
action:
  ref: t.act
  parameters:
    host: "{{ trigger.host }}"
    count: "{% $trigger.n %}"
`)},
	"t/rules/bad_params.yaml": {Data: []byte(`name: bad_params
pack: t
enabled: true
trigger:
  type: t.alert
action:
  ref: t.act
  parameters:
    host: "{{ trigger.host }}"
    mode: "{% 'warp' %}"
`)},
	"t/rules/disabled_action.yaml": {Data: []byte(`name: disabled_action
pack: t
enabled: true
trigger:
  type: t.alert
action:
  ref: t.off
`)},
}

func loadPacks(t *testing.T) (*pack.Set, *content.Compiled) {
	t.Helper()
	set, diags := pack.Load(packFS, "")
	for _, d := range diags {
		t.Logf("pack diagnostic: %s", d)
	}
	c, cdiags := content.Compile(set)
	if len(cdiags) > 0 {
		t.Fatalf("compiling: %v", cdiags)
	}
	return set, c
}

func functions() rule.Functions {
	return rule.Functions{Config: func(_ context.Context, packRef, key string) (any, error) {
		if packRef == "t" && key == "base_url" {
			return "http://example", nil
		}
		return nil, nil
	}}
}

func TestParameters(t *testing.T) {
	set, _ := loadPacks(t)
	v := &enforcer.Validator{Functions: functions()}
	act := set.Action("t.act")
	if act == nil {
		t.Fatal("t.act not loaded")
	}
	tests := []struct {
		name     string
		given    map[string]any
		want     map[string]any // checked keys
		problems []string       // pointers
	}{
		{
			name:  "defaults and rendered defaults",
			given: map[string]any{"host": "web-1"},
			want: map[string]any{"host": "web-1", "count": int64(3), "mode": "fast", "cmd": "echo web-1 3",
				"env": map[string]any{"TARGET": "web-1:3", "URL": "http://example"}},
		},
		{
			name:  "given values win over defaults",
			given: map[string]any{"host": "h", "count": 7.0, "mode": "slow", "tags": []any{"a"}},
			want:  map[string]any{"count": int64(7), "mode": "slow", "cmd": "echo h 7", "tags": []any{"a"}},
		},
		{name: "null means not given", given: map[string]any{"host": "h", "mode": nil}, want: map[string]any{"mode": "fast"}},
		{name: "required missing", given: map[string]any{}, problems: []string{"/host"}},
		{name: "wrong type", given: map[string]any{"host": "h", "count": "three"}, problems: []string{"/count"}},
		{name: "not in enum", given: map[string]any{"host": "h", "mode": "warp"}, problems: []string{"/mode"}},
		{name: "nested type", given: map[string]any{"host": "h", "tags": []any{"a", 2}}, problems: []string{"/tags/1"}},
		{name: "immutable given", given: map[string]any{"host": "h", "cmd": "rm -rf /"}, problems: []string{"/cmd"}},
		{name: "immutable given its default", given: map[string]any{"host": "h", "cmd": "echo {{ host }} {{ count }}"}, want: map[string]any{"cmd": "echo h 3"}},
		{name: "unknown parameter", given: map[string]any{"host": "h", "colour": "red"}, problems: []string{"/colour"}},
		{name: "every problem at once", given: map[string]any{"count": 1.5, "mode": 1}, problems: []string{"/count", "/host", "/mode"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := v.Parameters(context.Background(), act, tc.given)
			if len(tc.problems) > 0 {
				var pe *enforcer.ParameterError
				if !errors.As(err, &pe) || !errors.Is(err, enforcer.ErrInvalidParameters) {
					t.Fatalf("err = %v, want a *ParameterError", err)
				}
				var ptrs []string
				for _, p := range pe.Problems {
					ptrs = append(ptrs, p.Pointer)
				}
				ptrs = uniq(ptrs)
				if !reflect.DeepEqual(ptrs, tc.problems) {
					t.Errorf("problems at %v, want %v (%v)", ptrs, tc.problems, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, w := range tc.want {
				if !reflect.DeepEqual(got.Parameters[k], w) {
					t.Errorf("%s = %#v, want %#v", k, got.Parameters[k], w)
				}
			}
			if !reflect.DeepEqual(got.Secret, []string{"token", "sudo_password"}) && !reflect.DeepEqual(got.Secret, []string{"sudo_password", "token"}) {
				t.Errorf("secret = %v, want token and sudo_password", got.Secret)
			}
		})
	}
}

func uniq(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || s[i-1] != x {
			out = append(out, x)
		}
	}
	return out
}

// starter creates executions in the store, as the executor does, and counts
// the starts that created one.
type starter struct {
	st      store.Executions
	mu      sync.Mutex
	started []enforcer.StartRequest
}

func (s *starter) Start(ctx context.Context, req enforcer.StartRequest) (store.Execution, error) {
	ex, err := s.st.CreateExecution(ctx, store.Execution{ID: req.ExecutionID, Action: req.Action.Ref, Parameters: req.Parameters,
		SecretParameters: req.Secret, Context: req.Context})
	if errors.Is(err, store.ErrAlreadyExists) {
		return ex, nil
	}
	if err != nil {
		return ex, err
	}
	s.mu.Lock()
	s.started = append(s.started, req)
	s.mu.Unlock()
	return ex, nil
}

func TestEnforce(t *testing.T) {
	set, c := loadPacks(t)
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bwc.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &starter{st: db}
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	enf, err := enforcer.New(c.Rules.Rules, set, db, st, &enforcer.Validator{Functions: functions()}, enforcer.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	env := func(id string, payload map[string]any) rule.Envelope {
		return rule.NewEnvelope(id, "t.alert", nil, payload, "tag-"+id, now)
	}
	ctx := context.Background()

	// The residual (a regex) is false: nothing recorded, nothing started.
	got, err := enf.Enforce(ctx, "t.on_alert", env("ti-1", map[string]any{"host": "db-1", "n": 2}))
	if err != nil || got.ID != "" {
		t.Fatalf("residual false: %+v, %v", got, err)
	}
	if _, err := db.GetEnforcement(ctx, enforcer.EnforcementID("ti-1", "t.on_alert")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an enforcement was recorded for a non-matching event: %v", err)
	}

	// A match: recorded and started, twice delivered, started once.
	for range 2 {
		got, err = enf.Enforce(ctx, "t.on_alert", env("ti-2", map[string]any{"host": "web-7", "n": 2}))
		if err != nil {
			t.Fatal(err)
		}
	}
	if got.Status != store.EnforcementSucceeded || got.ExecutionID != enforcer.ExecutionID(got.ID) || got.TraceTag != "tag-ti-2" {
		t.Errorf("enforcement %+v", got)
	}
	if len(st.started) != 1 {
		t.Fatalf("%d starts, want 1", len(st.started))
	}
	req := st.started[0]
	if req.Parameters["host"] != "web-7" || req.Parameters["count"] != int64(2) || req.Parameters["cmd"] != "echo web-7 2" ||
		req.Context.Rule != "t.on_alert" || req.Context.TriggerInstanceID != "ti-2" || req.Context.User != "rules" {
		t.Errorf("start request %+v", req)
	}

	// A crash after the execution was created and before the enforcement
	// was recorded: the redelivery records it and starts nothing more.
	_, err = st.Start(ctx, enforcer.StartRequest{ExecutionID: enforcer.ExecutionID(enforcer.EnforcementID("ti-3", "t.on_alert")), Action: set.Action("t.act")})
	if err != nil {
		t.Fatal(err)
	}
	got, err = enf.Enforce(ctx, "t.on_alert", env("ti-3", map[string]any{"host": "web-3", "n": 1}))
	if err != nil || got.Status != store.EnforcementSucceeded {
		t.Fatalf("after a crash: %+v, %v", got, err)
	}
	if len(st.started) != 2 {
		t.Errorf("%d starts, want 2 (the simulated one only)", len(st.started))
	}

	// Failures are recorded with a stable reason and start nothing.
	for _, tc := range []struct{ rule, reason string }{
		{"t.bad_params", enforcer.ReasonInvalidParameters},
		{"t.disabled_action", enforcer.ReasonActionDisabled},
		{"t.nope", enforcer.ReasonUnknownRule},
	} {
		got, err := enf.Enforce(ctx, tc.rule, env("ti-4", map[string]any{"host": "web-4"}))
		if err != nil {
			t.Fatalf("%s: %v", tc.rule, err)
		}
		if got.Status != store.EnforcementFailed || len(got.FailureReason) < len(tc.reason) || got.FailureReason[:len(tc.reason)] != tc.reason {
			t.Errorf("%s: %+v, want failed with %s", tc.rule, got, tc.reason)
		}
	}
	if len(st.started) != 2 {
		t.Errorf("%d starts after failures, want 2", len(st.started))
	}
}

// A schema message that quotes a refused value does not quote a secret's:
// the parameter error reaches the enforcement record, the API and logs.
func TestParameterErrorsHideSecretValues(t *testing.T) {
	fsys := fstest.MapFS{
		"s/pack.yaml": {Data: []byte("ref: s\nname: s\ndescription: test pack\nversion: 1.0.0\nauthor: x\n")},
		"s/actions/pin.yaml": {Data: []byte(`name: pin
runner_type: noop
enabled: true
parameters:
  pin:
    type: string
    secret: true
    pattern: "^[0-9]{4}$"
  code:
    type: integer
    secret: true
    maximum: 10
  note:
    type: string
    pattern: "^[a-z]+$"
`)},
	}
	set, diags := pack.Load(fsys, "")
	if len(diags) > 0 {
		t.Fatalf("loading: %v", diags)
	}
	v := &enforcer.Validator{Functions: functions()}
	_, err := v.Parameters(context.Background(), set.Action("s.pin"), map[string]any{"pin": "hunter2", "code": 4242, "note": "Visible1"})
	var pe *enforcer.ParameterError
	if !errors.As(err, &pe) || len(pe.Problems) != 3 {
		t.Fatalf("Parameters: %v, want three problems", err)
	}
	msg := err.Error()
	for _, secret := range []string{"hunter2", "4242", "4,242"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the error quotes the secret value %q: %s", secret, msg)
		}
	}
	if !strings.Contains(msg, "/pin: the value does not satisfy the parameter's schema (not shown: the parameter is secret)") {
		t.Errorf("the error does not say what is wrong with the secret: %s", msg)
	}
	if !strings.Contains(msg, "Visible1") {
		t.Errorf("the error lost the value of a parameter that is not secret: %s", msg)
	}
}
