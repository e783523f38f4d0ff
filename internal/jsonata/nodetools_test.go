package jsonata

import (
	"testing"

	"github.com/bwc-project/bwc/internal/nodetools"
)

// nodeModules returns the directory holding the npm packages the tests run;
// it fails the test when jsonata is not installed there.
func nodeModules(t testing.TB) string { return nodetools.Require(t, "jsonata") }
