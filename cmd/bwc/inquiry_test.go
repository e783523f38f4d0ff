package main

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// askSchema is the schema of the core.ask executions the inquiry tests
// start.
const askSchema = `{"type":"object","properties":{"approved":{"type":"boolean"},"count":{"type":"integer"},"note":{"type":"string"}},"required":["approved"]}`

// startAsk starts core.ask through the CLI and returns its execution id and
// the id of its inquiry once it is pending.
func startAsk(t *testing.T) (string, string) {
	t.Helper()
	out, errOut, code := engineCLI("run", "core.ask", "schema="+askSchema, "--async")
	if code != 0 {
		t.Fatalf("run core.ask: exit %d: %s", code, errOut)
	}
	exID := strings.TrimSpace(out)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, _, code := engineCLI("inquiry", "list", "--status", "pending", "--json")
		if code != 0 {
			t.Fatalf("inquiry list: exit %d", code)
		}
		var list struct{ Items []store.Inquiry }
		if err := json.Unmarshal([]byte(out), &list); err != nil {
			t.Fatal(err)
		}
		for _, q := range list.Items {
			if q.ExecutionID == exID {
				return exID, q.ID
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pending inquiry for execution %s", exID)
	return "", ""
}

func TestInquiryCommands(t *testing.T) {
	startEngine(t)
	exID, id := startAsk(t)

	out, _, code := engineCLI("inquiry", "list")
	if code != 0 || !strings.HasPrefix(out, "ID") || !strings.Contains(out, id) || !strings.Contains(out, exID) || !strings.Contains(out, "pending") {
		t.Errorf("inquiry list: exit %d:\n%s", code, out)
	}
	out, _, code = engineCLI("inquiry", "get", id)
	if code != 0 || !strings.Contains(out, "execution:") || !strings.Contains(out, exID) || !strings.Contains(out, `"approved": {`) {
		t.Errorf("inquiry get: exit %d:\n%s", code, out)
	}
	out, _, code = engineCLI("inquiry", "get", id, "--json")
	var got store.Inquiry
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got.ID != id || got.Status != store.InquiryPending {
		t.Errorf("inquiry get --json: exit %d:\n%s", code, out)
	}

	// Bad answers: the server names the field, the inquiry stays pending.
	bad := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"not a boolean", []string{"inquiry", "respond", id, "approved=maybe"}, 1, "/response/approved"},
		{"not an integer", []string{"inquiry", "respond", id, "approved=true", "count=lots"}, 1, "/response/count"},
		{"required field missing", []string{"inquiry", "respond", id, "--response", `{"note":"x"}`}, 1, "approved"},
		{"response not an object", []string{"inquiry", "respond", id, "--response", `[true]`}, 2, "expected a JSON object"},
		{"no response", []string{"inquiry", "respond", id}, 2, "no response"},
		{"not NAME=VALUE", []string{"inquiry", "respond", id, "approved"}, 2, "NAME=VALUE"},
		{"unknown inquiry", []string{"inquiry", "respond", "iq-nope", "approved=true"}, 1, "404"},
		{"get unknown inquiry", []string{"inquiry", "get", "iq-nope"}, 1, "404"},
		{"bad status", []string{"inquiry", "list", "--status", "open"}, 2, "not an inquiry status"},
		{"bad limit", []string{"inquiry", "list", "--limit", "-2"}, 2, "--limit"},
		{"get without id", []string{"inquiry", "get"}, 2, "usage: bwc inquiry get"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := engineCLI(tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tc.code, tc.stderr)
			}
		})
	}
	if out, _, _ := engineCLI("inquiry", "get", id, "--json"); !strings.Contains(out, `"status": "pending"`) {
		t.Fatalf("the inquiry is no longer pending after refused answers:\n%s", out)
	}

	// k=v pairs are converted by the schema's types and override --response.
	out, errOut, code := engineCLI("inquiry", "respond", id, "--response", `{"approved":false,"note":"n"}`, "approved=true", "count=3")
	if code != 0 || out != id+" responded\n" {
		t.Fatalf("inquiry respond: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, _, _ = engineCLI("inquiry", "get", id, "--json")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	var resp map[string]any
	_ = json.Unmarshal(got.Response, &resp)
	if want := map[string]any{"approved": true, "count": float64(3), "note": "n"}; got.Status != store.InquiryResponded || !reflect.DeepEqual(resp, want) {
		t.Errorf("answered inquiry: %s %v, want responded %v", got.Status, resp, want)
	}
	// The execution that asked gets the response.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := (&apiFlags{}).client()
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.Wait(ctx, exID, 0)
	if err != nil || ex.Status != store.StatusSucceeded || !strings.Contains(string(ex.Result), `"approved":true`) {
		t.Errorf("the asking execution: %v %s %s", err, ex.Status, ex.Result)
	}
	// Answering twice is a conflict.
	if _, stderr, code := engineCLI("inquiry", "respond", id, "approved=true"); code != 1 || !strings.Contains(stderr, "409") {
		t.Errorf("second answer: exit %d, stderr %q; want 1 and 409", code, stderr)
	}
	out, _, code = engineCLI("inquiry", "list", "--status", "responded")
	if code != 0 || !strings.Contains(out, id) {
		t.Errorf("inquiry list --status responded: exit %d:\n%s", code, out)
	}
	// A second inquiry; --limit 1 shows the newest only.
	_, id2 := startAsk(t)
	out, _, code = engineCLI("inquiry", "list", "--limit", "1")
	if code != 0 || !strings.Contains(out, id2) || strings.Contains(out, id) {
		t.Errorf("inquiry list --limit 1: exit %d, want only %s:\n%s", code, id2, out)
	}
}

func TestConvertField(t *testing.T) {
	tests := []struct {
		name  string
		types []string
		in    string
		want  any
	}{
		{"boolean", []string{"boolean"}, "true", true},
		{"boolean as people answer", []string{"boolean"}, "Yes", true},
		{"boolean no", []string{"boolean"}, "n", false},
		{"integer", []string{"integer"}, "42", int64(42)},
		{"number", []string{"number"}, "1.5", 1.5},
		{"array", []string{"array"}, `["a",1]`, []any{"a", float64(1)}},
		{"object", []string{"object"}, `{"a":1}`, map[string]any{"a": float64(1)}},
		{"nullable integer given null", []string{"integer", "null"}, "null", nil},
		{"string or integer prefers the integer", []string{"string", "integer"}, "7", int64(7)},
		{"untyped stays a string", nil, "true", "true"},
		{"does not parse: stays a string for the server to refuse", []string{"boolean"}, "maybe", "maybe"},
		// JSON has no infinities or NaN: the response would not encode.
		{"infinity is not a JSON number", []string{"number"}, "inf", "inf"},
		{"NaN is not a JSON number", []string{"number"}, "NaN", "NaN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := convertField(tc.types, tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("convertField(%v, %q) = %#v, want %#v", tc.types, tc.in, got, tc.want)
			}
		})
	}
}
