package workflow

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bwc-project/bwc/internal/nodetools"
)

// aslValidator finds npm's asl-validator, installed by `make node-tools`.
func aslValidator(t *testing.T) string {
	t.Helper()
	return filepath.Join(nodetools.Require(t, "asl-validator"), ".bin", "asl-validator")
}

// Every compiled workflow is accepted by asl-validator; a broken definition
// is rejected, so the check can fail.
func TestCompiledMachinesPassASLValidator(t *testing.T) {
	bin := aslValidator(t)
	files, _ := filepath.Glob("testdata/*.asl.json")
	files = append(files, goldenMachines(t)...)
	if len(files) == 0 {
		t.Fatal("no compiled machines to validate")
	}
	for _, f := range files {
		out, err := exec.Command(bin, "--json-path", f).CombinedOutput()
		if err != nil {
			t.Errorf("asl-validator rejects %s: %v\n%s", f, err, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"StartAt":"A","States":{"A":{"Type":"Task","Next":"Nowhere"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--json-path", bad).CombinedOutput(); err == nil {
		t.Errorf("asl-validator accepted a broken definition:\n%s", out)
	}
}

// goldenMachines lists the committed state machines of the shipped packs.
func goldenMachines(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "statemachines", "*.asl.json"))
	return files
}
