package sensor

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPureDependencies keeps the sensor building blocks free of AWS,
// storage, process and network code.
func TestPureDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	forbidden := []string{"github.com/aws/", "database/sql", "modernc.org/", "os/exec", "net/rpc", "github.com/bwc-project/bwc/internal/store"}
	for pkg, extra := range map[string][]string{
		"./timer":   {"net/http"},
		"./payload": {"net/http"},
		"./clock":   {"net/http"},
		// webhook uses http.Header (a map type) and nothing else of net/http.
		"./webhook": nil,
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range append(append([]string{}, forbidden...), extra...) {
				f = strings.TrimSuffix(f, "/")
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s depends on %s", pkg, dep)
				}
			}
		}
	}
}
