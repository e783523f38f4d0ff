package localcloud

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/bwc-project/bwc/internal/content"
)

// findRIE finds aws-lambda-rie: $BWC_RIE, the repository's tools bin, or
// PATH.
func findRIE(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("BWC_RIE"); p != "" {
		return p
	}
	if p, err := filepath.Abs(filepath.Join("..", "..", ".tools", "bin", "aws-lambda-rie")); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, err := exec.LookPath("aws-lambda-rie")
	if err != nil {
		t.Skip("aws-lambda-rie is not installed (the Makefile installs it into .tools/bin; or set BWC_RIE)")
	}
	return p
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String()
}

// startRIE builds testdata/echofn and runs it under aws-lambda-rie on
// loopback until the test ends; it returns the invocation base URL.
func startRIE(t *testing.T) string {
	t.Helper()
	rie := findRIE(t)
	dir := t.TempDir()
	bootstrap := filepath.Join(dir, "bootstrap")
	build := exec.Command("go", "build", "-o", bootstrap, "./testdata/echofn")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test function: %v\n%s", err, out)
	}
	addr, api := freeAddr(t), freeAddr(t)
	var logs bytes.Buffer
	cmd := exec.Command(rie, "--log-level", "error", "--runtime-interface-emulator-address", addr, "--runtime-api-address", api, bootstrap)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting aws-lambda-rie: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("aws-lambda-rie:\n%s", logs.String())
		}
	})
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-lambda-rie did not listen on %s: %v\n%s", addr, err, logs.String())
		}
	}
	return "http://" + addr
}

// TestRunnerUnderRIE runs the action machine with its runner under the
// real aws-lambda-rie: a result and a function error as rie reports it.
func TestRunnerUnderRIE(t *testing.T) {
	url := startRIE(t)
	f := newFixture(t, "")
	f.cloud.cfg.Functions[FnRunner] = &RIE{URL: url}
	tests := []struct {
		action  string
		status  sfntypes.ExecutionStatus
		output  string
		errName string
		cause   string
	}{
		{"t.ok", sfntypes.ExecutionStatusSucceeded, `{"ran":"t.ok","with":{"x":1}}`, "", ""},
		{"t.fail", sfntypes.ExecutionStatusFailed, "", "bwc.ActionFailed", `{"errorMessage":"the action failed","errorType":"bwc.ActionFailed"}`},
	}
	for i, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			out, err := f.sf.StartExecution(context.Background(), &sfn.StartExecutionInput{
				StateMachineArn: f.arn(content.ActionMachineRef), Name: aws.String(fmt.Sprintf("rie-%d", i)),
				Input: aws.String(fmt.Sprintf(`{"action": %q, "parameters": {"x": 1}, "context": {}}`, tt.action)),
			})
			if err != nil {
				t.Fatal(err)
			}
			var d *sfn.DescribeExecutionOutput
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				if d, err = f.sf.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn}); err != nil {
					t.Fatal(err)
				}
				if d.Status != sfntypes.ExecutionStatusRunning || time.Now().After(deadline) {
					break
				}
			}
			if d.Status != tt.status || aws.ToString(d.Output) != tt.output || aws.ToString(d.Error) != tt.errName || !strings.HasPrefix(aws.ToString(d.Cause), strings.TrimSuffix(tt.cause, "}")) {
				t.Errorf("status %s output %s error %s cause %s; want %s %s %s %s", d.Status, aws.ToString(d.Output), aws.ToString(d.Error), aws.ToString(d.Cause), tt.status, tt.output, tt.errName, tt.cause)
			}
		})
	}
}

// Invocations made at once through one RIE all succeed under the real
// aws-lambda-rie, which crashes when a second invocation arrives while one
// runs: the RIE queues them.
func TestConcurrentInvocationsUnderRIE(t *testing.T) {
	r := &RIE{URL: startRIE(t)}
	const n = 4
	errs := make(chan error, n)
	for i := range n {
		go func() {
			out, err := r.Invoke(context.Background(), []byte(fmt.Sprintf(`{"action": "t.slow", "parameters": {"i": %d}}`, i)))
			if err == nil && string(out) != fmt.Sprintf(`{"ran":"t.slow","with":{"i":%d}}`, i) {
				err = fmt.Errorf("answer %s", out)
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
