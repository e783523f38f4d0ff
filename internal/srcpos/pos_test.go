package srcpos

import (
	"errors"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		p    Pos
		want string
	}{
		{Pos{}, ""},
		{Pos{Line: 3, Col: 1}, ""},
		{Pos{File: "packs/p/rules/r.yaml"}, "packs/p/rules/r.yaml"},
		{Pos{File: "packs/p/rules/r.yaml", Line: 7, Col: 5}, "packs/p/rules/r.yaml:7:5"},
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	es := Errors[error]{errors.New("a.yaml:1:2: first"), errors.New("b.yaml: second")}
	if got, want := es.Error(), "a.yaml:1:2: first\nb.yaml: second"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := (Errors[error]{}).Error(); got != "" {
		t.Errorf("empty Errors: Error() = %q, want \"\"", got)
	}
}
