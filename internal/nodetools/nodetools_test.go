package nodetools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pkg", "package.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(dir, "pkg"); err != nil || got != dir {
		t.Errorf("Find(dir, pkg) = %q, %v", got, err)
	}
	t.Setenv("BWC_NODE_MODULES", dir)
	if got, err := Find("", "pkg"); err != nil || got != dir {
		t.Errorf("Find with BWC_NODE_MODULES = %q, %v", got, err)
	}
	if _, err := Find("", "missing"); err == nil || !strings.Contains(err.Error(), "npm package missing not found in "+dir+": run `make node-tools`") {
		t.Errorf("Find of a missing package: %v", err)
	}
	t.Setenv("BWC_NODE_MODULES", "")
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "nodetools", "nodetools.go")); err != nil {
		t.Errorf("repoRoot = %q, not the repository root: %v", root, err)
	}
}
