package asl_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/asl/asltest"
	"github.com/bwc-project/bwc/internal/nodetools"
)

// nodeModules returns the directory holding the npm packages the tests run;
// it fails the test when asl-validator is not installed there.
func nodeModules(t testing.TB) string { return nodetools.Require(t, "asl-validator") }

// TestASLValidatorAgrees checks that the machines this package accepts —
// the workflow compiler's (testdata/machines) and every conformance
// machine — are also accepted by the npm asl-validator (pinned), except the
// known disagreements listed with their reasons in
// testdata/aslvalidator-disagreements.txt.
func TestASLValidatorAgrees(t *testing.T) {
	mods := nodeModules(t)
	type item struct {
		Name       string         `json:"name"`
		Definition map[string]any `json:"definition"`
	}
	var items []item
	paths, _ := filepath.Glob("testdata/machines/*.json")
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		d = substituteForValidator(d)
		if _, err := asl.ParseValue(d); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		items = append(items, item{p, d})
	}
	cases, _, err := asltest.LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	disagree, err := asltest.KnownFailures("testdata/aslvalidator-disagreements.txt")
	if err != nil {
		t.Fatal(err)
	}
	// asl-validator takes about 0.4 s per machine: by default every 15th
	// conformance machine and the known disagreements; all of them with
	// BWC_ASL_VALIDATOR_ALL=1.
	all := os.Getenv("BWC_ASL_VALIDATOR_ALL") != ""
	for i, c := range cases {
		if _, known := disagree[c.Name]; !all && !known && i%15 != 0 {
			continue
		}
		if _, err := asl.ParseValue(c.Definition); err != nil {
			continue
		}
		items = append(items, item{c.Name, c.Definition})
	}
	var in bytes.Buffer
	for _, it := range items {
		b, _ := json.Marshal(it)
		in.Write(append(b, '\n'))
	}
	cmd := exec.Command("node", filepath.Join("testdata", "node", "aslvalidate.js"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+mods)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("running asl-validator: %v\n%s", err, stderr.String())
	}
	rejected := 0
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r struct {
			Name   string `json:"name"`
			Valid  bool   `json:"valid"`
			Errors string `json:"errors"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		n++
		_, known := disagree[r.Name]
		switch {
		case !r.Valid && !known:
			rejected++
			t.Errorf("asl-validator rejects %s, which BWC accepts: %s", r.Name, r.Errors)
		case !r.Valid:
			rejected++
		case known:
			t.Errorf("asl-validator now accepts %s: remove it from testdata/aslvalidator-disagreements.txt", r.Name)
		}
	}
	if n != len(items) {
		t.Fatalf("asl-validator answered %d of %d machines", n, len(items))
	}
	t.Logf("asl-validator accepts %d of %d machines BWC accepts (%d known disagreements)", n-rejected, n, len(disagree))
}

// substituteForValidator fills the workflow compiler's ${...} definition
// substitutions with ARNs, as the deployment does.
func substituteForValidator(d map[string]any) map[string]any {
	b, _ := json.Marshal(d)
	s := strings.ReplaceAll(string(b), "${RunnerFunctionArn}", "arn:aws:lambda:us-east-1:123456789012:function:runner")
	var out map[string]any
	_ = json.Unmarshal([]byte(s), &out)
	return out
}
