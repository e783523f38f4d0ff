package jsonata

import (
	"os"
	"path/filepath"
	"testing"
)

// nodeModules returns the directory holding the npm packages the tests run
// (BWC_NODE_MODULES, else tools/node_modules at the repository root). It
// fails the test when jsonata is not installed there.
func nodeModules(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("BWC_NODE_MODULES")
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			t.Fatal(err)
		}
		for d := wd; ; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				dir = filepath.Join(d, "tools", "node_modules")
				break
			}
			if filepath.Dir(d) == d {
				t.Fatal("cannot find the repository root (go.mod) to locate tools/node_modules; set BWC_NODE_MODULES")
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "jsonata", "package.json")); err != nil {
		t.Fatalf("npm package jsonata not found in %s: run `make node-tools` (or set BWC_NODE_MODULES)", dir)
	}
	return dir
}
