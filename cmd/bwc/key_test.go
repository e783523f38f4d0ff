package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/store"
)

func TestKeyCommands(t *testing.T) {
	startEngine(t)
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout []string // each must be in stdout
		absent []string // none may be in stdout
		stderr string
	}{
		{"set a value", []string{"key", "set", "app.region", "eu-west-1"}, 0, []string{"set value system/app.region"}, nil, ""},
		{"set a secret", []string{"key", "set", "app.token", "t0ps3cret", "--secret"}, 0, []string{"set secret system/app.token"}, []string{"t0ps3cret"}, ""},
		{"set another prefix", []string{"key", "set", "other.x", "1"}, 0, nil, nil, ""},
		{"set in user scope", []string{"key", "set", "app.mine", "own", "--scope", "user"}, 0, []string{"user/app.mine"}, nil, ""},
		{"get a value", []string{"key", "get", "app.region"}, 0, []string{"name:", "app.region", "eu-west-1", "secret:", "false"}, nil, ""},
		{"get a secret is masked", []string{"key", "get", "app.token"}, 0, []string{store.Masked, "true"}, []string{"t0ps3cret"}, ""},
		{"get a secret decrypted", []string{"key", "get", "app.token", "--decrypt"}, 0, []string{"t0ps3cret"}, nil, ""},
		{"get JSON", []string{"key", "get", "app.region", "--json"}, 0, []string{`"value": "eu-west-1"`, `"scope": "system"`}, nil, ""},
		{"list with prefix", []string{"key", "list", "--prefix", "app."}, 0, []string{"NAME", "app.region", "eu-west-1", "app.token", store.Masked}, []string{"other.x", "t0ps3cret", "app.mine"}, ""},
		{"list the user scope", []string{"key", "list", "--scope", "user"}, 0, []string{"app.mine"}, []string{"app.region"}, ""},
		{"get unknown key", []string{"key", "get", "app.nope"}, 1, nil, nil, "404"},
		{"user-scope key is not in system", []string{"key", "get", "app.mine"}, 1, nil, nil, "404"},
		{"bad scope", []string{"key", "list", "--scope", "global"}, 2, nil, nil, "expected system or user"},
		{"negative ttl", []string{"key", "set", "a", "b", "--ttl", "-1"}, 2, nil, nil, "--ttl"},
		{"set without a value", []string{"key", "set", "a"}, 2, nil, nil, "usage: bwc key set"},
		{"set an empty name", []string{"key", "set", "", "b"}, 2, nil, nil, "NAME is empty"},
		{"get a blank name", []string{"key", "get", " "}, 2, nil, nil, "NAME is empty"},
		{"delete", []string{"key", "delete", "app.region"}, 0, []string{"deleted system/app.region"}, nil, ""},
		{"get deleted key", []string{"key", "get", "app.region"}, 1, nil, nil, "404"},
		{"delete again", []string{"key", "delete", "app.region"}, 1, nil, nil, "404"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			out, errOut, code := engineCLI(s.args...)
			if code != s.code || !strings.Contains(errOut, s.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, errOut, s.code, s.stderr)
			}
			for _, w := range s.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range s.absent {
				if strings.Contains(out, w) {
					t.Errorf("stdout has %q:\n%s", w, out)
				}
			}
		})
	}

	out, _, code := engineCLI("key", "list", "--json")
	var list struct{ Items []store.KeyValue }
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("key list --json: exit %d:\n%s", code, out)
	}
	names := map[string]string{}
	for _, kv := range list.Items {
		names[kv.Name] = kv.Value
	}
	if len(names) != 2 || names["app.token"] != store.Masked || names["other.x"] != "1" {
		t.Errorf("key list --json: %v, want app.token masked and other.x", names)
	}
}

func TestOneLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"short", "short"},
		{"two\nlines", "two…"},
		{strings.Repeat("é", 70), strings.Repeat("é", 60) + "…"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := oneLine(tc.in, 60); got != tc.want {
				t.Errorf("oneLine(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
