// Package examples_test runs the example pack's shell scripts the way the
// shell runners call them (named arguments first, then positional ones).
package examples_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func script(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(filepath.Join("actions", name), args...).CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return string(out), ee.ExitCode()
		}
		t.Fatalf("running %s: %v", name, err)
	}
	return string(out), 0
}

func TestDiskUsage(t *testing.T) {
	out, code := script(t, "disk_usage.sh", t.TempDir())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || n < 0 || n > 100 {
		t.Fatalf("want a percentage, got %q", out)
	}
}

func TestCleanupLogs(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-10 * 24 * time.Hour)
	files := map[string]bool{ // name: old
		"app.log.1": true, "rotated one.gz": true, "app.log": true, "fresh.log.2": false, "notes.txt": true,
	}
	for name, isOld := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		if isOld {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, code := script(t, "cleanup_logs.sh", "--dry_run", dir, "7")
	if code != 0 || !strings.Contains(out, "would delete "+filepath.Join(dir, "app.log.1")) || !strings.Contains(out, "2 file(s)") {
		t.Fatalf("dry run: exit %d:\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "app.log.1")); err != nil {
		t.Fatal("the dry run deleted a file")
	}
	out, code = script(t, "cleanup_logs.sh", dir, "7")
	if code != 0 || !strings.Contains(out, "2 file(s)") {
		t.Fatalf("cleanup: exit %d:\n%s", code, out)
	}
	for name, isOld := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		deleted := os.IsNotExist(err)
		want := isOld && (strings.Contains(name, ".log.") || strings.HasSuffix(name, ".gz"))
		if deleted != want {
			t.Errorf("%s: deleted %v, want %v", name, deleted, want)
		}
	}
	if _, code := script(t, "cleanup_logs.sh", filepath.Join(dir, "missing")); code != 2 {
		t.Errorf("missing directory: exit %d, want 2", code)
	}
	if _, code := script(t, "cleanup_logs.sh", dir, "soon"); code != 2 {
		t.Errorf("bad DAYS: exit %d, want 2", code)
	}
}

func TestDiagnoseHost(t *testing.T) {
	out, code := script(t, "diagnose_host.sh", "--disk_threshold=101", "--top=2")
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, section := range []string{"== load", "== memory", "== disks over 101%", "== top 2 processes"} {
		if !strings.Contains(out, section) {
			t.Errorf("output has no %q:\n%s", section, out)
		}
	}
	if _, code := script(t, "diagnose_host.sh", "--disk_threshold=0"); code != 1 {
		t.Errorf("with every disk over the threshold: exit %d, want 1", code)
	}
}
