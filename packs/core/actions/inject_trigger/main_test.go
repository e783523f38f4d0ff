package main

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/bwc-project/bwc/internal/runner/goaction"
)

func TestInject(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		want    map[string]any
		wantErr string
	}{
		{"trigger and payload", map[string]any{"trigger": "examples.deployment", "payload": map[string]any{"service": "checkout"}, "trace_tag": "deploy-4711"},
			map[string]any{"trigger": "examples.deployment", "payload": map[string]any{"service": "checkout"}, "trace_tag": "deploy-4711"}, ""},
		{"no payload", map[string]any{"trigger": "core.webhook"},
			map[string]any{"trigger": "core.webhook", "payload": map[string]any{}}, ""},
		{"not a reference", map[string]any{"trigger": "deployment"}, nil, "core.InvalidTrigger"},
		{"payload not an object", map[string]any{"trigger": "a.b", "payload": []any{1}}, nil, "core.InvalidPayload"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := inject(context.Background(), goaction.Request{Action: "core.inject_trigger", Parameters: tc.params})
			if tc.wantErr != "" {
				var ge *goaction.Error
				if !errors.As(err, &ge) || ge.Name != tc.wantErr {
					t.Fatalf("error %v, want one named %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
