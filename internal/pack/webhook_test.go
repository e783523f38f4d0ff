package pack

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// TestWebhookSignature checks the signature parameter of core.webhook rules
// against the shipped core.webhook parameters_schema, and that rules on one
// url agree on it.
func TestWebhookSignature(t *testing.T) {
	schema, err := os.ReadFile("../../packs/core/sensors/webhooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hook := func(name, params string) string {
		return "name: " + name + "\nenabled: true\ntrigger:\n  type: core.webhook\n  parameters: " + params + "\naction: {ref: t.run, parameters: {cmd: x}}\n"
	}
	const github = "{url: github, signature: {scheme: github, secret: gh_secret}}"
	tests := []struct {
		name  string
		rules map[string]string
		want  []string // each must be among the diagnostics; none means no diagnostics
	}{
		{"one signed rule", map[string]string{"a": hook("a", github)}, nil},
		{"two rules, same signature, keys in another order", map[string]string{"a": hook("a", github), "b": hook("b", "{url: github, signature: {secret: gh_secret, scheme: github}}")}, nil},
		{"two unsigned rules", map[string]string{"a": hook("a", "{url: x}"), "b": hook("b", "{url: x}")}, nil},
		{"two urls, different signatures", map[string]string{"a": hook("a", github), "b": hook("b", "{url: other, signature: {scheme: standard-webhooks, secret: sw}}")}, nil},
		{"different secrets", map[string]string{"a": hook("a", github), "b": hook("b", "{url: github, signature: {scheme: github, secret: other}}")},
			[]string{`t/rules/b.yaml:5:29: trigger.parameters.signature: rule t.b declares signature {"scheme":"github","secret":"other"} for webhook "github", but rule t.a (packs/t/rules/a.yaml:1:1) declares signature {"scheme":"github","secret":"gh_secret"}: expected every rule on one webhook url to declare the same signature`}},
		{"signed and unsigned", map[string]string{"a": hook("a", github), "b": hook("b", "{url: github}")},
			[]string{"rule t.b declares no signature (the API key) for webhook \"github\", but rule t.a", "declares signature"}},
		{"unknown scheme", map[string]string{"a": hook("a", "{url: x, signature: {scheme: gitlab, secret: s}}")},
			[]string{"trigger.parameters.signature.scheme", "parameters_schema of core.webhook"}},
		{"secret missing", map[string]string{"a": hook("a", "{url: x, signature: {scheme: github}}")},
			[]string{"trigger.parameters.signature", "secret"}},
		{"unknown field", map[string]string{"a": hook("a", "{url: x, signature: {scheme: github, secret: s, value: abc}}")},
			[]string{"trigger.parameters.signature", "value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := base()
			fsys["core/pack.yaml"] = &fstest.MapFile{Data: []byte("name: core\ndescription: core\nversion: 1.0.0\nauthor: a\n")}
			fsys["core/sensors/webhooks.yaml"] = &fstest.MapFile{Data: schema}
			for name, data := range tc.rules {
				fsys["t/rules/"+name+".yaml"] = &fstest.MapFile{Data: []byte(data)}
			}
			_, diags := Load(fsys, "packs")
			got := diags.Error()
			if len(tc.want) == 0 && len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing diagnostic\n  %s\ngot:\n%s", w, got)
				}
			}
		})
	}
}
