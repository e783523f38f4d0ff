package asl_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/asl/asltest"
)

// TestResumeAtEveryTransition stops every passing conformance case at each
// of its transitions, serializes the execution, resumes it in a new
// interpreter (with the world cloned as it was at that moment) and checks
// that it ends with the same status, output and history as the run that
// was not interrupted.
func TestResumeAtEveryTransition(t *testing.T) {
	known, err := asltest.KnownFailures("testdata/conformance/known-failures.txt")
	if err != nil {
		t.Fatal(err)
	}
	cases, _, err := asltest.LoadDir("testdata/conformance")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resumes, machines := 0, 0
	for _, c := range cases {
		if _, bad := known[c.Name]; bad {
			continue
		}
		_, original, _, n, err := asltest.RunResumed(ctx, c, 0)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		machines++
		want := historyJSON(t, original)
		for stop := 1; stop <= n; stop++ {
			o, _, again, _, err := asltest.RunResumed(ctx, c, stop)
			if err != nil {
				t.Fatalf("%s, stopped at transition %d: %v", c.Name, stop, err)
			}
			resumes++
			if !o.Passed() {
				t.Errorf("%s, resumed at transition %d of %d: %v", c.Name, stop, n, o.Mismatches)
				break
			}
			if got := historyJSON(t, again); got != want {
				t.Errorf("%s, resumed at transition %d of %d: history differs\n got %s\nwant %s", c.Name, stop, n, got, want)
				break
			}
		}
	}
	t.Logf("resumed %d machines at every transition: %d resumes", machines, resumes)
	if resumes < 1000 {
		t.Errorf("only %d resumes: the hook is not called at transitions", resumes)
	}
}

func historyJSON(t *testing.T, h []asl.Event) string {
	t.Helper()
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
