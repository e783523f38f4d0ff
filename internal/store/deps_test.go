package store

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDomainImports keeps the domain package free of I/O adapters: no
// database, no AWS, no HTTP.
func TestDomainImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"database/sql", "github.com/aws/", "modernc.org/", "net/http"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("package store depends on %s", dep)
			}
		}
	}
}
