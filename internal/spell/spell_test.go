package spell

import "testing"

func TestSuggest(t *testing.T) {
	opts := []string{"next", "action", "input", "publish", "do"}
	tests := []struct{ in, want string }{
		{"nxt", ` (did you mean "next"?)`},
		{"Action", ` (did you mean "action"?)`},
		{"inptu", ` (did you mean "input"?)`},
		{"dp", ` (did you mean "do"?)`},
		{"publishing", ""},
		{"zzz", ""},
		{"next", ""},
	}
	for _, tt := range tests {
		if got := Suggest(tt.in, opts); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"héllo", "hello", 1},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
