package runner

import (
	"errors"
	"strings"
	"testing"
)

func TestStreamMasking(t *testing.T) {
	tests := []struct {
		name    string
		secrets []string
		chunks  []string
		want    string
	}{
		{name: "whole secret in a chunk", secrets: []string{"hunter22"}, chunks: []string{"pw=hunter22\n"}, want: "pw=********\n"},
		{name: "secret split over chunks", secrets: []string{"hunter22"}, chunks: []string{"pw=hun", "te", "r22 done"}, want: "pw=******** done"},
		{name: "prefix that is not the secret", secrets: []string{"hunter22"}, chunks: []string{"hunt", "ing season"}, want: "hunting season"},
		{name: "prefix at the very end is flushed", secrets: []string{"hunter22"}, chunks: []string{"ends with hunte"}, want: "ends with hunte"},
		{name: "overlapping secrets, longest first", secrets: []string{"abcd", "abcdefgh"}, chunks: []string{"x abcdefgh y abcd z"}, want: "x ******** y ******** z"},
		{name: "short secrets are not masked in streams", secrets: []string{"p"}, chunks: []string{"pass"}, want: "pass"},
		{name: "byte by byte", secrets: []string{"s3cr3t!"}, chunks: strings.Split("a s3cr3t! b", ""), want: "a ******** b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &masker{}
			m.add(tt.secrets...)
			s := &stream{m: m}
			var out strings.Builder
			for _, c := range tt.chunks {
				out.Write(s.write([]byte(c)))
			}
			out.Write(s.flush())
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestMaskValuesAndErrors(t *testing.T) {
	m := &masker{}
	m.add("topsecret", "pw")
	got := m.value(map[string]any{"a": "x topsecret y", "topsecret": []any{"pw", "pwd", 3.0}})
	want := map[string]any{"a": "x ******** y", "topsecret": []any{"********", "pwd", 3.0}}
	if !equalJSON(got, want) {
		t.Errorf("value = %#v, want %#v", got, want)
	}
	err := m.err(&ActionError{Name: "x.Y", Retryable: true, Err: errors.New("login topsecret refused")})
	var ae *ActionError
	if !errors.As(err, &ae) || ae.Name != "x.Y" || !ae.Retryable || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("err = %#v", err)
	}
	if err := m.err(errors.New("plain topsecret")); ErrorName(err) != ErrNameActionFailed || strings.Contains(err.Error(), "topsecret") {
		t.Errorf("plain err = %v", err)
	}
}

func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k := range x {
			if !equalJSON(x[k], y[k]) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestScriptArgsQuoting(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"", "''"},
		{"a b", "'a b'"},
		{"it's", `'it'"'"'s'`},
		{"$HOME", "'$HOME'"},
	}
	for _, tt := range tests {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzStreamMasking: however a text is cut into chunks, the stream masker
// emits what masking the whole text gives, so a secret never leaks through a
// chunk boundary.
func FuzzStreamMasking(f *testing.F) {
	f.Add("secret", "my secret is secret", uint8(3))
	f.Add("abab", "abababab", uint8(1))
	f.Add("xyzw", "xyzxyzwxyzw", uint8(2))
	f.Fuzz(func(t *testing.T, secret, text string, cut uint8) {
		if len(secret) < minSubstring || strings.Contains(secret, "*") {
			return
		}
		m := &masker{}
		m.add(secret)
		s := &stream{m: m}
		step := int(cut%7) + 1
		var out strings.Builder
		for i := 0; i < len(text); i += step {
			out.Write(s.write([]byte(text[i:min(i+step, len(text))])))
		}
		out.Write(s.flush())
		if want := m.String(text); out.String() != want {
			t.Fatalf("chunks of %d: got %q, want %q", step, out.String(), want)
		}
	})
}
