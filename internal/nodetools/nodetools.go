// Package nodetools finds the npm packages that BWC's tests and benchmarks
// run — reference implementations (jsonata, aws-local-stepfunctions),
// asl-validator and dynalite — pinned in tools/package.json and installed
// into tools/node_modules by `make node-tools`.
package nodetools

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Find returns the node_modules directory that holds the npm package pkg:
// dir when it is not empty, else $BWC_NODE_MODULES, else tools/node_modules
// at the repository root, found by walking up from the working directory to
// go.mod. It fails when pkg is not installed there, saying how to install it.
func Find(dir, pkg string) (string, error) {
	if dir == "" {
		dir = os.Getenv("BWC_NODE_MODULES")
	}
	if dir == "" {
		root, err := repoRoot()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(root, "tools", "node_modules")
	}
	if _, err := os.Stat(filepath.Join(dir, pkg, "package.json")); err != nil {
		return "", fmt.Errorf("npm package %s not found in %s: run `make node-tools` (or set BWC_NODE_MODULES)", pkg, dir)
	}
	return dir, nil
}

// Require is Find for tests: it fails the test when pkg is missing.
func Require(t testing.TB, pkg string) string {
	t.Helper()
	dir, err := Find("", pkg)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the working directory: %w", err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("cannot find the repository root (go.mod) to locate tools/node_modules; set BWC_NODE_MODULES")
		}
	}
}
