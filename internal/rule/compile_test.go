package rule

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files and the operator table in docs/rules.md")

func TestCompileWhere(t *testing.T) {
	schema := map[string]any{
		"type":     "object",
		"required": []any{"status"},
		"properties": map[string]any{
			"status": map[string]any{"type": "string"},
			"value":  map[string]any{"type": "number"},
			"tags":   map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"meta":   map[string]any{"type": "object", "properties": map[string]any{"host": map[string]any{"type": "string"}}},
		},
	}
	tests := []struct {
		name    string
		crit    Criterion
		schema  map[string]any
		where   string
		busPath string
		bus     string
	}{
		{"equals typed string", Criterion{Key: "trigger.status", Op: "eq", Pattern: "failed"}, schema, OnBus, "detail.payload.status", `["failed"]`},
		{"equals untyped", Criterion{Key: "trigger.status", Op: "equals", Pattern: "failed"}, nil, OnBusAndResidual, "detail.payload.status", `["failed"]`},
		{"equals number", Criterion{Key: "trigger.value", Op: "equals", Pattern: 5}, schema, OnBus, "detail.payload.value", `[{"numeric":["=",5]}]`},
		{"nested typed", Criterion{Key: "trigger.meta.host", Op: "startswith", Pattern: "web-"}, schema, OnBus, "detail.payload.meta.host", `[{"prefix":"web-"}]`},
		{"nequals required", Criterion{Key: "trigger.status", Op: "neq", Pattern: "ok"}, schema, OnBus, "detail.payload.status", `[{"anything-but":["ok"]}]`},
		{"nequals optional", Criterion{Key: "trigger.meta.host", Op: "nequals", Pattern: "ok"}, schema, OnlyResidual, "", ""},
		{"contains string", Criterion{Key: "trigger.status", Op: "contains", Pattern: "fa*il"}, schema, OnBus, "detail.payload.status", `[{"wildcard":"*fa\\*il*"}]`},
		{"contains list", Criterion{Key: "trigger.tags", Op: "contains", Pattern: "prod"}, schema, OnBus, "detail.payload.tags", `["prod"]`},
		{"contains untyped", Criterion{Key: "trigger.tags", Op: "contains", Pattern: "prod"}, nil, OnlyResidual, "", ""},
		{"iequals", Criterion{Key: "trigger.status", Op: "ieq", Pattern: "Failed"}, schema, OnBus, "detail.payload.status", `[{"equals-ignore-case":"Failed"}]`},
		{"icontains", Criterion{Key: "trigger.status", Op: "icontains", Pattern: "fail"}, schema, OnlyResidual, "", ""},
		{"lessthan", Criterion{Key: "trigger.value", Op: "lt", Pattern: 10}, schema, OnBus, "detail.payload.value", `[{"numeric":["<",10]}]`},
		{"wildcard star", Criterion{Key: "trigger.status", Op: "matchwildcard", Pattern: "fail**ed"}, schema, OnBus, "detail.payload.status", `[{"wildcard":"fail*ed"}]`},
		{"wildcard question", Criterion{Key: "trigger.status", Op: "matchwildcard", Pattern: "fail?d"}, schema, OnBusAndResidual, "detail.payload.status", `[{"wildcard":"fail*d"}]`},
		{"regex", Criterion{Key: "trigger.status", Op: "regex", Pattern: "^fail"}, nil, OnlyResidual, "", ""},
		{"inside", Criterion{Key: "trigger.status", Op: "in", Pattern: []any{"failed", "timeout", 3}}, schema, OnBus, "detail.payload.status", `["failed","timeout"]`},
		{"ninside optional", Criterion{Key: "trigger.value", Op: "nin", Pattern: []any{1, 2}}, schema, OnlyResidual, "", ""},
		{"exists typed", Criterion{Key: "trigger.value", Op: "exists"}, schema, OnBus, "detail.payload.value", `[{"exists":true}]`},
		{"exists untyped", Criterion{Key: "trigger.value", Op: "exists"}, nil, OnlyResidual, "", ""},
		{"index", Criterion{Key: "trigger.tags[0]", Op: "equals", Pattern: "prod"}, schema, OnlyResidual, "", ""},
		{"timediff", Criterion{Key: "trigger.status", Op: "td_lt", Pattern: 60}, schema, OnBusAndResidual, "detail.payload.status", `[{"exists":true}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Compile(Rule{Ref: "p.r", Pack: "p", Trigger: Trigger{Type: "p.t"}, Criteria: []Criterion{tt.crit}, Action: Action{Ref: "core.noop"}}, tt.schema)
			if err != nil {
				t.Fatal(err)
			}
			cp := c.Criteria[0]
			if cp.Where != tt.where {
				t.Errorf("where = %s, want %s (note: %s)", cp.Where, tt.where, cp.Note)
			}
			if cp.BusPath != tt.busPath || string(cp.Bus) != tt.bus {
				t.Errorf("bus = %s %s, want %s %s", cp.BusPath, cp.Bus, tt.busPath, tt.bus)
			}
			if (cp.Where == OnBus) != (cp.Residual == "") {
				t.Errorf("residual %q does not fit where=%s", cp.Residual, cp.Where)
			}
			if (c.Residual == "") != (cp.Residual == "") {
				t.Errorf("rule residual %q, criterion residual %q", c.Residual, cp.Residual)
			}
		})
	}
}

func TestCompileTwoCriteriaOnOneField(t *testing.T) {
	schema := map[string]any{"type": "object", "properties": map[string]any{"v": map[string]any{"type": "number"}}}
	c, err := Compile(Rule{Ref: "p.r", Trigger: Trigger{Type: "p.t"}, Action: Action{Ref: "core.noop"}, Criteria: []Criterion{
		{Key: "trigger.v#low", Op: "gt", Pattern: 10},
		{Key: "trigger.v#high", Op: "lt", Pattern: 20},
		{Key: "trigger.v#not", Op: "equals", Pattern: 15},
	}}, schema)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"detail":{"payload":{"v":[{"numeric":[">",10,"<",20]}]}},"detail-type":["p.t"],"source":["bwc.p"]}`
	if string(c.Pattern) != want {
		t.Errorf("pattern\n got %s\nwant %s", c.Pattern, want)
	}
	if c.Criteria[2].Where != OnlyResidual || c.Residual == "" {
		t.Errorf("third criterion on one field must be residual; got %s, residual %q", c.Criteria[2].Where, c.Residual)
	}
}

// A core.webhook rule's signature configures how requests are
// authenticated; the webhook sensor's events carry only {url}, so the
// signature must not be in the pattern or the residual (or the rule would
// never match), yet the engine still finds it in the compiled trigger.
func TestCompileWebhookSignatureNotInPattern(t *testing.T) {
	sig := map[string]any{"scheme": "github", "secret": "github_webhook_secret"}
	tests := []struct {
		name     string
		trigger  string
		params   map[string]any
		pattern  string
		residual bool
	}{
		{"webhook with signature", "core.webhook", map[string]any{"url": "github/push", "signature": sig},
			`{"detail":{"trigger_parameters":{"url":["github/push"]}},"detail-type":["core.webhook"],"source":["bwc.core"]}`, false},
		{"webhook without signature", "core.webhook", map[string]any{"url": "github/push"},
			`{"detail":{"trigger_parameters":{"url":["github/push"]}},"detail-type":["core.webhook"],"source":["bwc.core"]}`, false},
		{"another trigger's signature parameter selects", "p.t", map[string]any{"signature": "abc"},
			`{"detail":{"trigger_parameters":{"signature":["abc"]}},"detail-type":["p.t"],"source":["bwc.p"]}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(Rule{Ref: "p.r", Pack: "p", Trigger: Trigger{Type: tc.trigger, Parameters: tc.params}, Action: Action{Ref: "core.noop"}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if string(c.Pattern) != tc.pattern {
				t.Errorf("pattern\n got %s\nwant %s", c.Pattern, tc.pattern)
			}
			if (c.Residual != "") != tc.residual {
				t.Errorf("residual %q", c.Residual)
			}
			if len(c.Trigger.Parameters) != len(tc.params) {
				t.Errorf("compiled trigger parameters %v, want all of %v", c.Trigger.Parameters, tc.params)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		rule Rule
		want []string
	}{
		{"unknown operator", Rule{Trigger: Trigger{Type: "p.t"}, Action: Action{Ref: "a.b"}, Criteria: []Criterion{{Key: "trigger.x", Op: "matches", Pos: Pos{File: "rules/r.yaml", Line: 7, Col: 5}}}},
			[]string{`rules/r.yaml:7:5: rule p.r: criteria.trigger.x: unknown operator "matches": expected one of`}},
		{"bad key", Rule{Trigger: Trigger{Type: "p.t"}, Action: Action{Ref: "a.b"}, Criteria: []Criterion{{Key: "payload.x", Op: "equals", Pattern: 1}}},
			[]string{`criteria key "payload.x" must start with "trigger."`}},
		{"search without condition", Rule{Trigger: Trigger{Type: "p.t"}, Action: Action{Ref: "a.b"}, Criteria: []Criterion{{Key: "trigger.x", Op: "search", Pattern: map[string]any{"item.a": map[string]any{"type": "equals", "pattern": 1}}}}},
			[]string{"search: condition is missing"}},
		{"jinja filter", Rule{Trigger: Trigger{Type: "p.t"}, Action: Action{Ref: "a.b", Parameters: map[string]any{"h": "{{ trigger.host | upper }}"}}},
			[]string{`action.parameters.h: "{{ trigger.host | upper }}": filters (Jinja) are not supported; write JSONata instead: "{% $uppercase($trigger.host) %}"`}},
		{"missing action and trigger", Rule{}, []string{"trigger.type: missing", "action.ref: missing"}},
		{"templated pattern", Rule{Trigger: Trigger{Type: "p.t"}, Action: Action{Ref: "a.b"}, Criteria: []Criterion{{Key: "trigger.x", Op: "equals", Pattern: "{{ st2kv.system.x }}"}}},
			[]string{"templated patterns are not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.rule.Ref = "p.r"
			_, err := Compile(tt.rule, nil)
			if err == nil {
				t.Fatal("expected an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\ndoes not contain\n%s", err, w)
				}
			}
		})
	}
}

func TestTranslateTemplate(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"plain", "plain", ""},
		{"{% $trigger.a %}", "{% $trigger.a %}", ""},
		{"{{ trigger.a.b }}", "{% $trigger.a.b %}", ""},
		{"{{trigger.items[0].name}}", "{% $trigger.items[0].name %}", ""},
		{"{{ trigger.headers['X-Event'] }}", "{% $trigger.headers.`X-Event` %}", ""},
		{"host {{ trigger.host }} is {{ trigger.state }}", `{% "host " & $string($trigger.host) & " is " & $string($trigger.state) %}`, ""},
		{"{{ st2kv.system.channel }}", `{% $kv("system", "channel") %}`, ""},
		{"{{ config_context.url }}", `{% $config("url") %}`, ""},
		{"{{ trigger }}", "{% $trigger %}", ""},
		{"{{ trigger.a + 1 }}", "", "is not a plain path"},
		{"{{ trigger.a | lower }}", "", `"{% $lowercase($trigger.a) %}"`},
		{"x {% $a %}", "", "must be the whole value"},
		{"{{ st2kv.other.x }}", "", "st2kv.system.<key> or st2kv.user.<key>"},
	}
	for _, tt := range tests {
		got, err := TranslateTemplate(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("TranslateTemplate(%q) error = %v, want containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("TranslateTemplate(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestCompiledJSONIsDeterministic(t *testing.T) {
	r := Rule{Ref: "p.r", Pack: "p", Name: "r", Trigger: Trigger{Type: "core.webhook", Parameters: map[string]any{"url": "a/b", "z": 1}},
		Action:   Action{Ref: "core.local", Parameters: map[string]any{"cmd": "echo {{ trigger.x }}", "b": map[string]any{"y": 1, "x": "{{ trigger.y }}"}}},
		Criteria: []Criterion{{Key: "trigger.b", Op: "equals", Pattern: "x"}, {Key: "trigger.a", Op: "regex", Pattern: "y"}}}
	var first []byte
	for i := 0; i < 20; i++ {
		c, err := Compile(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Fatalf("compiled JSON differs between runs:\n%s\n%s", first, b)
		}
	}
}

func TestDocsOperatorTable(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "rules.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- operator-table:begin -->\n", "<!-- operator-table:end -->"
	i, j := strings.Index(string(doc), begin), strings.Index(string(doc), end)
	if i < 0 || j < i {
		t.Fatalf("%s: operator table markers not found", path)
	}
	want := string(doc[:i+len(begin)]) + OperatorTable() + string(doc[j:])
	if want == string(doc) {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s: the operator table is stale; run go test ./internal/rule -update", path)
}
