// Package tests holds BWC's end-to-end tests: they build the bwc binary,
// start `bwc serve` as a real process on a free loopback port with a
// temporary database, and drive it as a user would, through the HTTP API,
// webhooks and the CLI.
package tests

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/api"
	"github.com/bwc-project/bwc/internal/api/client"
	"github.com/bwc-project/bwc/internal/store"
)

// bwcBinary is built once by TestMain.
var bwcBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "bwc-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bwcBinary = filepath.Join(dir, "bwc")
	args := []string{"build", "-o", bwcBinary}
	if os.Getenv("BWC_E2E_RACE") != "" {
		args = append(args, "-race") // the engine under the race detector
	}
	build := exec.Command("go", append(args, "github.com/bwc-project/bwc/cmd/bwc")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building bwc:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the repository's root (the parent of tests/).
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(wd)
}

// server is a running `bwc serve`.
type server struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string // working directory (holds .bwc/)
	db     string
	URL    string
	Key    string
	API    *client.Client
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
}

// startServer starts bwc serve with the repository's packs and the test
// packs, a database in dir (a new temp dir when empty), on a free port.
func startServer(t *testing.T, dir string, extraArgs ...string) *server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	root := repoRoot(t)
	db := filepath.Join(dir, ".bwc", "bwc.db")
	args := append([]string{"serve",
		"--packs", filepath.Join(root, "packs"),
		"--packs", filepath.Join(root, "tests", "testdata", "packs"),
		"--db", db,
		"--listen", "127.0.0.1:0",
	}, extraArgs...)
	cmd := exec.Command(bwcBinary, args...)
	cmd.Dir = dir
	s := &server{t: t, cmd: cmd, dir: dir, db: db, done: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting bwc serve: %v", err)
	}
	urlCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.stdout.WriteString(line + "\n")
			s.mu.Unlock()
			if f := strings.Fields(line); !sent && len(f) == 2 && f[0] == "API:" {
				urlCh <- f[1]
				sent = true
			}
		}
		close(urlCh)
	}()
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.stop)
	select {
	case u, ok := <-urlCh:
		if !ok {
			<-s.done
			t.Fatalf("bwc serve exited before it was ready:\n%s", s.logs())
		}
		s.URL = u
	case <-time.After(60 * time.Second):
		t.Fatalf("bwc serve did not print its URL:\n%s", s.logs())
	}
	key, err := os.ReadFile(filepath.Join(dir, ".bwc", "api-key"))
	if err != nil {
		t.Fatalf("reading the API key file: %v", err)
	}
	s.Key = strings.TrimSpace(string(key))
	s.API = client.New(s.URL, s.Key, nil)
	return s
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "stdout:\n" + s.stdout.String() + "\nstderr:\n" + s.stderr.String()
}

// stop sends SIGTERM and waits for the process.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	if strings.Contains(s.logs(), "DATA RACE") {
		s.t.Errorf("the race detector reported a data race in bwc serve")
	}
	if s.t.Failed() {
		s.t.Logf("bwc serve logs:\n%s", s.logs())
	}
}

// kill sends SIGKILL and waits for the process.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// cli runs the bwc CLI against the server and returns its stdout, stderr
// and exit code.
func (s *server) cli(args ...string) (string, string, int) {
	s.t.Helper()
	cmd := exec.Command(bwcBinary, args...)
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "BWC_API_URL="+s.URL, "BWC_API_KEY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		s.t.Fatalf("running bwc %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// post sends a raw request to the server with the API key.
func (s *server) post(path string, body string, headers map[string]string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set(api.HeaderAPIKey, s.Key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// waitFor polls fn until it reports true (at most a minute, a bound for
// slow machines, not a timing assertion).
func waitFor(t *testing.T, what string, fn func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := fn()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// executionsOf lists the executions started by a rule.
func (s *server) executionsOf(ruleRef string) []store.Execution {
	s.t.Helper()
	list, err := s.API.Executions(context.Background(), store.ExecutionQuery{Rule: ruleRef, Limit: store.MaxLimit})
	if err != nil {
		s.t.Fatalf("listing executions of %s: %v", ruleRef, err)
	}
	return list.Items
}

// finishedExecutionOf waits for the one execution a rule started to finish.
func (s *server) finishedExecutionOf(ruleRef string) store.Execution {
	s.t.Helper()
	var ex store.Execution
	waitFor(s.t, "an execution of "+ruleRef+" to finish", func() (bool, error) {
		items := s.executionsOf(ruleRef)
		if len(items) == 0 {
			return false, nil
		}
		ex = items[0]
		return ex.Status.Finished(), nil
	})
	// Lists leave results out: read the execution.
	full, err := s.API.Execution(context.Background(), ex.ID)
	if err != nil {
		s.t.Fatalf("reading execution %s: %v", ex.ID, err)
	}
	return full
}

func (s *server) triggerInstanceCount(trigger string) int {
	s.t.Helper()
	list, err := s.API.TriggerInstances(context.Background(), trigger, store.MaxLimit)
	if err != nil {
		s.t.Fatalf("listing trigger instances: %v", err)
	}
	return len(list.Items)
}

func TestWebhookRunsShellActionAndIsAudited(t *testing.T) {
	s := startServer(t, "")
	code, body := s.post("/api/v1/webhooks/e2e/hook", `{"kind": "greet", "name": "ops", "times": 2}`, nil)
	if code != http.StatusAccepted {
		t.Fatalf("webhook: HTTP %d %s", code, body)
	}
	var acc api.Accepted
	if err := json.Unmarshal(body, &acc); err != nil {
		t.Fatal(err)
	}
	// The trigger instance holds the payload, without the API key.
	ti, err := s.getTriggerInstance(acc.TriggerInstanceID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ti.Payload), `"name":"ops"`) || strings.Contains(strings.ToLower(string(ti.Payload)), "api-key") || strings.Contains(string(ti.Payload), s.Key) {
		t.Errorf("trigger instance payload %s", ti.Payload)
	}
	ex := s.finishedExecutionOf("e2e.on_hook")
	if ex.Status != store.StatusSucceeded {
		t.Fatalf("execution %s is %s, want succeeded: %s", ex.ID, ex.Status, ex.Result)
	}

	// The audit trail, through the CLI.
	out, errOut, rc := s.cli("execution", "get", ex.ID, "--json")
	if rc != 0 {
		t.Fatalf("bwc execution get: exit %d: %s", rc, errOut)
	}
	var got store.Execution
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("bwc execution get --json: %v\n%s", err, out)
	}
	var result struct {
		Stdout     string `json:"stdout"`
		Stderr     string `json:"stderr"`
		ReturnCode int    `json:"return_code"`
	}
	if err := json.Unmarshal(got.Result, &result); err != nil {
		t.Fatalf("result %s: %v", got.Result, err)
	}
	if result.Stdout != "hello ops (happy)\nhello ops (happy)" || result.Stderr != "greeted ops" || result.ReturnCode != 0 {
		t.Errorf("result = %+v", result)
	}
	if got.Context.Rule != "e2e.on_hook" || got.Context.TriggerInstanceID != acc.TriggerInstanceID {
		t.Errorf("context = %+v, want rule e2e.on_hook and trigger instance %s", got.Context, acc.TriggerInstanceID)
	}
	if got.Parameters["mood"] != "happy" || got.Parameters["times"] != float64(2) {
		t.Errorf("parameters = %v, want the default mood and times 2", got.Parameters)
	}
	var statuses []store.ExecutionStatus
	for _, c := range got.StatusLog {
		statuses = append(statuses, c.Status)
	}
	if want := []store.ExecutionStatus{"requested", "scheduled", "running", "succeeded"}; fmt.Sprint(statuses) != fmt.Sprint(want) {
		t.Errorf("status log %v, want %v", statuses, want)
	}

	// Trace: trigger instance, enforcement and execution share the tag.
	tr, err := s.API.Trace(context.Background(), got.Context.TraceTag)
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.TriggerInstanceIDs) == 0 || tr.TriggerInstanceIDs[0] != acc.TriggerInstanceID || len(tr.EnforcementIDs) != 1 || !contains(tr.ExecutionIDs, ex.ID) {
		t.Errorf("trace %+v", tr)
	}

	// The output was streamed to the store: tail prints it.
	out, _, rc = s.cli("execution", "tail", ex.ID)
	if rc != 0 || out != "hello ops (happy)\nhello ops (happy)\n" {
		t.Errorf("bwc execution tail: exit %d, stdout %q", rc, out)
	}
	out, _, rc = s.cli("execution", "list", "--rule", "e2e.on_hook")
	if rc != 0 || !strings.Contains(out, ex.ID) || !strings.Contains(out, "succeeded") {
		t.Errorf("bwc execution list: exit %d:\n%s", rc, out)
	}

	// A webhook the criteria do not match starts nothing, and the trigger
	// instance is still recorded.
	code, body = s.post("/api/v1/webhooks/e2e/hook", `{"kind": "other"}`, nil)
	if code != http.StatusAccepted {
		t.Fatalf("webhook: HTTP %d %s", code, body)
	}
	if err := json.Unmarshal(body, &acc); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the second trigger instance to be processed", func() (bool, error) {
		ti, err := s.getTriggerInstance(acc.TriggerInstanceID)
		return ti.Status == store.TriggerProcessed, err
	})
	if n := len(s.executionsOf("e2e.on_hook")); n != 1 {
		t.Errorf("%d executions of e2e.on_hook, want 1", n)
	}
}

func (s *server) getTriggerInstance(id string) (store.TriggerInstance, error) {
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/v1/trigger-instances/"+id, nil)
	if err != nil {
		return store.TriggerInstance{}, err
	}
	req.Header.Set(api.HeaderAPIKey, s.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return store.TriggerInstance{}, err
	}
	defer resp.Body.Close()
	var ti store.TriggerInstance
	if resp.StatusCode != http.StatusOK {
		return ti, fmt.Errorf("GET trigger instance %s: HTTP %d", id, resp.StatusCode)
	}
	return ti, json.NewDecoder(resp.Body).Decode(&ti)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestDuplicateEventStartsOneExecution(t *testing.T) {
	s := startServer(t, "")
	headers := map[string]string{api.HeaderEventID: "delivery-42"}
	var first, second api.Accepted
	for i, dst := range []*api.Accepted{&first, &second} {
		code, body := s.post("/api/v1/webhooks/e2e/hook", `{"kind": "greet", "name": "dup"}`, headers)
		if code != http.StatusAccepted {
			t.Fatalf("delivery %d: HTTP %d %s", i+1, code, body)
		}
		if err := json.Unmarshal(body, dst); err != nil {
			t.Fatal(err)
		}
	}
	if first.Duplicate || !second.Duplicate || first.TriggerInstanceID != second.TriggerInstanceID {
		t.Fatalf("deliveries: %+v then %+v; want the second to be a duplicate of the first", first, second)
	}
	// The same event through the generic endpoint, twice, in a batch of
	// deliveries: one trigger instance, one execution.
	for range 2 {
		if _, err := s.API.Trigger(context.Background(), api.TriggerRequest{Trigger: "e2e.event", Payload: map[string]any{"n": 1, "kind": "a"}}, "event-7"); err != nil {
			t.Fatal(err)
		}
	}
	s.finishedExecutionOf("e2e.on_hook")
	s.finishedExecutionOf("e2e.on_event")
	// Let every queued delivery finish: the trigger instances are processed.
	waitFor(t, "the trigger instances to be processed", func() (bool, error) {
		a, err := s.getTriggerInstance(first.TriggerInstanceID)
		if err != nil {
			return false, err
		}
		return a.Status == store.TriggerProcessed, nil
	})
	if n := len(s.executionsOf("e2e.on_hook")); n != 1 {
		t.Errorf("%d executions of e2e.on_hook, want 1", n)
	}
	if n := len(s.executionsOf("e2e.on_event")); n != 1 {
		t.Errorf("%d executions of e2e.on_event, want 1", n)
	}
	if n := s.triggerInstanceCount("e2e.event"); n != 1 {
		t.Errorf("%d e2e.event trigger instances, want 1", n)
	}
}

func TestBadWebhookBodyIsRejectedAndLeavesNothing(t *testing.T) {
	s := startServer(t, "")
	tests := []struct {
		name     string
		path     string
		body     string
		pointers []string
	}{
		{"not JSON", "/api/v1/webhooks/e2e/hook", `{"kind": `, []string{"/body"}},
		{"payload against its schema", "/api/v1/webhooks/st2", `{"trigger": "e2e.event", "payload": {"n": -1, "kind": "c"}}`, []string{"/payload/kind", "/payload/n"}},
		{"payload missing a field", "/api/v1/webhooks/st2", `{"trigger": "e2e.event", "payload": {"kind": "a"}}`, []string{"/payload/n"}},
		{"unknown trigger type", "/api/v1/webhooks/st2", `{"trigger": "e2e.nope", "payload": {}}`, []string{"/trigger"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := s.post(tc.path, tc.body, nil)
			if code != http.StatusBadRequest {
				t.Fatalf("HTTP %d %s, want 400", code, body)
			}
			var eb api.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range eb.Error.Problems {
				got = append(got, p.Pointer)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.pointers) {
				t.Errorf("problem pointers %v, want %v (%s)", got, tc.pointers, body)
			}
		})
	}
	if n := s.triggerInstanceCount("core.webhook"); n != 0 {
		t.Errorf("%d core.webhook trigger instances recorded, want 0", n)
	}
	if n := s.triggerInstanceCount("e2e.event"); n != 0 {
		t.Errorf("%d e2e.event trigger instances recorded, want 0", n)
	}
	// No API key, a wrong key: 401.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/webhooks/e2e/hook", strings.NewReader(`{}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a key: HTTP %d, want 401", resp.StatusCode)
	}
	if _, err := client.New(s.URL, "bwc_wrong", nil).Executions(context.Background(), store.ExecutionQuery{}); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("with a wrong key: %v, want HTTP 401", err)
	}
}

func TestFailingActionTriggersActionTriggerRule(t *testing.T) {
	s := startServer(t, "")
	code, body := s.post("/api/v1/webhooks/e2e/fail", `{}`, nil)
	if code != http.StatusAccepted {
		t.Fatalf("webhook: HTTP %d %s", code, body)
	}
	failed := s.finishedExecutionOf("e2e.on_fail_hook")
	if failed.Status != store.StatusFailed {
		t.Fatalf("e2e.fail is %s, want failed", failed.Status)
	}
	var res struct {
		ReturnCode int `json:"return_code"`
		Error      struct {
			Name string `json:"name"`
		} `json:"error"`
	}
	if err := json.Unmarshal(failed.Result, &res); err != nil || res.ReturnCode != 3 || res.Error.Name != "bwc.ActionFailed" {
		t.Errorf("result %s, want return_code 3 and error bwc.ActionFailed", failed.Result)
	}
	report := s.finishedExecutionOf("e2e.on_failure")
	if report.Status != store.StatusSucceeded {
		t.Fatalf("the report is %s: %s", report.Status, report.Result)
	}
	if want := "execution " + failed.ID + " failed"; !strings.Contains(string(report.Result), want) {
		t.Errorf("report result %s, want it to say %q", report.Result, want)
	}
	if report.Context.TraceTag != failed.Context.TraceTag {
		t.Errorf("the report's trace tag %q differs from the failure's %q", report.Context.TraceTag, failed.Context.TraceTag)
	}
}

func TestIntervalTimerFires(t *testing.T) {
	s := startServer(t, "")
	// e2e.tick runs every second: wait for two fires.
	waitFor(t, "two executions of e2e.tick", func() (bool, error) {
		done := 0
		for _, ex := range s.executionsOf("e2e.tick") {
			if ex.Status == store.StatusSucceeded {
				done++
			}
		}
		return done >= 2, nil
	})
	list, err := s.API.TriggerInstances(context.Background(), "core.IntervalTimer", 10)
	if err != nil {
		t.Fatal(err)
	}
	var payload struct {
		ExecutedAt string         `json:"executed_at"`
		Schedule   map[string]any `json:"schedule"`
	}
	if len(list.Items) == 0 || json.Unmarshal(list.Items[0].Payload, &payload) != nil {
		t.Fatalf("timer trigger instances: %+v", list.Items)
	}
	if _, err := time.Parse(time.RFC3339Nano, payload.ExecutedAt); err != nil || payload.Schedule["unit"] != "seconds" {
		t.Errorf("timer payload %s", list.Items[0].Payload)
	}
}

func TestRunAndCancelFromCLI(t *testing.T) {
	s := startServer(t, "")
	out, errOut, rc := s.cli("run", "e2e.greet", "name=cli", "times=3", "--json")
	if rc != 0 {
		t.Fatalf("bwc run: exit %d: %s", rc, errOut)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatalf("bwc run --json: %v\n%s", err, out)
	}
	if ex.Status != store.StatusSucceeded || ex.Context.User != "admin" || !strings.Contains(string(ex.Result), "hello cli (happy)") {
		t.Errorf("execution %+v", ex)
	}

	// Invalid parameters: each problem is listed, nothing runs.
	_, errOut, rc = s.cli("run", "e2e.greet", "times=2", "mood=angry")
	if rc != 1 || !strings.Contains(errOut, "/parameters/name") || !strings.Contains(errOut, "/parameters/mood") {
		t.Errorf("invalid parameters: exit %d, stderr %q", rc, errOut)
	}
	_, errOut, rc = s.cli("run", "e2e.fail", "cmd=true")
	if rc != 1 || !strings.Contains(errOut, "immutable") {
		t.Errorf("immutable parameter: exit %d, stderr %q", rc, errOut)
	}

	// A failing action: exit 1.
	_, _, rc = s.cli("run", "e2e.fail")
	if rc != 1 {
		t.Errorf("bwc run e2e.fail: exit %d, want 1", rc)
	}

	// A timeout: the process group is killed, the status says so.
	out, _, rc = s.cli("run", "core.local", "cmd=sleep 30", "timeout=1", "--json")
	var timedOut store.Execution
	if err := json.Unmarshal([]byte(out), &timedOut); err != nil {
		t.Fatalf("bwc run with a timeout: %v\n%s", err, out)
	}
	if rc != 1 || timedOut.Status != store.StatusTimeout || !strings.Contains(string(timedOut.Result), "bwc.ActionTimeout") {
		t.Errorf("timeout: exit %d, %s %s", rc, timedOut.Status, timedOut.Result)
	}

	// Cancel a running action: its process is killed.
	out, errOut, rc = s.cli("run", "e2e.sleep", "--async")
	if rc != 0 {
		t.Fatalf("bwc run --async: exit %d: %s", rc, errOut)
	}
	id := strings.TrimSpace(out)
	waitFor(t, "the sleep to run", func() (bool, error) {
		o, err := s.API.Output(context.Background(), id, 0)
		return len(o.Chunks) > 0, err
	})
	out, errOut, rc = s.cli("execution", "cancel", id)
	if rc != 0 || !strings.Contains(out, id) {
		t.Fatalf("bwc execution cancel: exit %d: %s %s", rc, out, errOut)
	}
	got, err := s.API.Wait(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusCanceled {
		t.Errorf("canceled execution is %s: %s", got.Status, got.Result)
	}
	_, errOut, rc = s.cli("execution", "cancel", id)
	if rc != 1 || !strings.Contains(errOut, "409") {
		t.Errorf("canceling a finished execution: exit %d, stderr %q", rc, errOut)
	}
}

func TestKill9UnderLoadLosesNothing(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, dir)

	// Four senders post events until 200 are acknowledged; then the engine
	// is killed with SIGKILL while they keep posting.
	const target = 200
	var mu sync.Mutex
	var acked []string // trigger instance ids
	enough := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client.New(s.URL, s.Key, &http.Client{Timeout: 10 * time.Second})
			for i := 0; ; i++ {
				// Half the senders post to a webhook: its rule selects
				// by url, which a redelivery must still know.
				var acc api.Accepted
				var err error
				if w%2 == 0 {
					acc, err = c.Trigger(context.Background(), api.TriggerRequest{Trigger: "e2e.event", Payload: map[string]any{"n": i, "kind": "a"}}, fmt.Sprintf("k9-%d-%d", w, i))
				} else {
					acc, err = c.Webhook(context.Background(), "e2e/load", []byte(fmt.Sprintf(`{"n": %d}`, i)), map[string]string{api.HeaderEventID: fmt.Sprintf("k9-%d-%d", w, i)})
				}
				if err != nil {
					return // the engine is gone: this event was not acknowledged
				}
				mu.Lock()
				acked = append(acked, acc.TriggerInstanceID)
				if len(acked) >= target {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(120 * time.Second):
		t.Fatal("the engine did not acknowledge enough events")
	}
	s.kill()
	wg.Wait()

	s2 := startServer(t, dir)
	mu.Lock()
	ids := append([]string(nil), acked...)
	mu.Unlock()
	// Every acknowledged trigger instance is recorded and gets processed.
	for _, id := range ids {
		waitFor(t, "trigger instance "+id+" to be processed", func() (bool, error) {
			ti, err := s2.getTriggerInstance(id)
			return ti.Status == store.TriggerProcessed, err
		})
	}
	// Each was enforced exactly once, and nothing is left unfinished.
	for _, id := range ids {
		var list api.ExecutionList
		waitFor(t, "the execution of "+id+" to finish", func() (bool, error) {
			var err error
			list, err = s2.API.Executions(context.Background(), store.ExecutionQuery{TriggerInstanceID: id})
			return err == nil && len(list.Items) > 0 && list.Items[0].Status.Finished(), err
		})
		if len(list.Items) != 1 {
			t.Errorf("trigger instance %s started %d executions, want 1", id, len(list.Items))
		}
	}
	for _, st := range []store.ExecutionStatus{store.StatusRequested, store.StatusScheduled, store.StatusRunning, store.StatusCanceling} {
		for _, r := range []string{"e2e.on_event", "e2e.on_load_hook"} {
			list, err := s2.API.Executions(context.Background(), store.ExecutionQuery{Status: st, Rule: r})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Items) > 0 {
				t.Errorf("%d executions of %s left %s", len(list.Items), r, st)
			}
		}
	}
	abandoned, err := s2.API.Executions(context.Background(), store.ExecutionQuery{Status: store.StatusAbandoned, Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range abandoned.Items {
		full, err := s2.API.Execution(context.Background(), ex.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(full.Result), "bwc.ExecutionAbandoned") {
			t.Errorf("abandoned execution %s has no reason: %s", ex.ID, full.Result)
		}
	}
	t.Logf("%d events acknowledged before the kill; %d executions abandoned; redelivered after restart: %v", len(ids), len(abandoned.Items), strings.Contains(s2.logs(), "redelivered pending trigger instances"))
}

func TestCustomPollingSensor(t *testing.T) {
	s := startServer(t, "")
	waitFor(t, "the banner to list the sensor", func() (bool, error) {
		return strings.Contains(s.logs(), "sensors:   e2e.Ticker"), nil
	})
	// The sensor is built and run; its valid trigger instances fire the
	// rule, the invalid ones are dropped.
	waitFor(t, "two executions of e2e.on_tock", func() (bool, error) {
		return len(s.executionsOf("e2e.on_tock")) >= 2, nil
	})
	list, err := s.API.TriggerInstances(context.Background(), "e2e.tock", store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range list.Items {
		if !strings.Contains(string(ti.Payload), `"greeting":"hello"`) {
			t.Errorf("a trigger instance that breaks the payload_schema was recorded: %s", ti.Payload)
		}
	}
}

func TestSignedWebhook(t *testing.T) {
	dir := t.TempDir()
	secrets := filepath.Join(dir, "webhook-secrets.yaml")
	if err := os.WriteFile(secrets, []byte("e2e/hook:\n  scheme: github\n  secret_env: E2E_HOOK_SECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("E2E_HOOK_SECRET", "s3cret")
	s := startServer(t, dir, "--webhook-secrets", secrets)
	body := `{"kind": "greet", "name": "signed"}`
	send := func(sig string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/webhooks/e2e/hook", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte(body))
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	bad := "sha256=" + strings.Repeat("0", 64)
	// No API key is needed, but a valid signature is.
	for _, sig := range []string{"", bad} {
		if code, b := send(sig); code != http.StatusUnauthorized {
			t.Errorf("signature %q: HTTP %d %s, want 401", sig, code, b)
		}
	}
	if n := s.triggerInstanceCount("core.webhook"); n != 0 {
		t.Errorf("%d trigger instances recorded for unsigned requests", n)
	}
	if code, b := send(good); code != http.StatusAccepted {
		t.Fatalf("signed: HTTP %d %s", code, b)
	}
	if ex := s.finishedExecutionOf("e2e.on_hook"); ex.Status != store.StatusSucceeded {
		t.Errorf("execution %s", ex.Status)
	}
	// Other webhooks still take the API key.
	if code, b := s.post("/api/v1/webhooks/e2e/fail", `{}`, nil); code != http.StatusAccepted {
		t.Errorf("unsigned webhook with the key: HTTP %d %s", code, b)
	}
}

func TestInjectTrigger(t *testing.T) {
	s := startServer(t, "")
	out, errOut, rc := s.cli("run", "core.inject_trigger", "trigger=e2e.event", `payload={"n": 3, "kind": "a"}`, "--json")
	if rc != 0 {
		t.Fatalf("bwc run core.inject_trigger: exit %d: %s %s", rc, out, errOut)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	var res struct {
		TriggerInstanceID string `json:"trigger_instance_id"`
	}
	if err := json.Unmarshal(ex.Result, &res); err != nil || res.TriggerInstanceID == "" {
		t.Fatalf("result %s", ex.Result)
	}
	// The injected trigger instance fires its rule, in the same trace.
	var list api.ExecutionList
	waitFor(t, "the rule on the injected trigger", func() (bool, error) {
		var err error
		list, err = s.API.Executions(context.Background(), store.ExecutionQuery{TriggerInstanceID: res.TriggerInstanceID})
		return len(list.Items) == 1 && list.Items[0].Status.Finished(), err
	})
	if got := list.Items[0]; got.Context.Rule != "e2e.on_event" || got.Context.TraceTag != ex.Context.TraceTag {
		t.Errorf("execution %+v, want rule e2e.on_event in trace %s", got.Context, ex.Context.TraceTag)
	}
	// A payload against the schema fails the action, and injects nothing.
	_, _, rc = s.cli("run", "core.inject_trigger", "trigger=e2e.event", `payload={"n": "x", "kind": "a"}`)
	if rc != 1 {
		t.Errorf("invalid payload: exit %d, want 1", rc)
	}
	if n := s.triggerInstanceCount("e2e.event"); n != 1 {
		t.Errorf("%d e2e.event trigger instances, want 1", n)
	}
}

func TestDatastore(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	if _, err := s.API.PutKey(ctx, store.ScopeSystem, "greeting", api.KeyRequest{Value: "bonjour"}); err != nil {
		t.Fatal(err)
	}
	if code, b := s.post("/api/v1/webhooks/e2e/kv", `{"name": "ops"}`, nil); code != http.StatusAccepted {
		t.Fatalf("webhook: HTTP %d %s", code, b)
	}
	ex := s.finishedExecutionOf("e2e.on_kv")
	if !strings.Contains(string(ex.Result), `"stdout":"bonjour, ops"`) {
		t.Errorf("result %s, want the greeting from the datastore", ex.Result)
	}
	// Secrets are encrypted, masked unless asked for.
	if _, err := s.API.PutKey(ctx, store.ScopeSystem, "token", api.KeyRequest{Value: "t0p", Secret: true}); err != nil {
		t.Fatal(err)
	}
	masked, err := s.API.Key(ctx, store.ScopeSystem, "token", false)
	if err != nil || masked.Value != store.Masked {
		t.Errorf("masked secret: %+v %v", masked, err)
	}
	clear, err := s.API.Key(ctx, store.ScopeSystem, "token", true)
	if err != nil || clear.Value != "t0p" {
		t.Errorf("decrypted secret: %+v %v", clear, err)
	}
	if _, err := s.API.PutKey(ctx, "galaxy", "x", api.KeyRequest{Value: "1"}); !client.IsStatus(err, http.StatusBadRequest) {
		t.Errorf("unknown scope: %v, want HTTP 400", err)
	}
}
