package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// chatServer stands for the team chat's incoming webhook: it records the
// messages examples.notify posts.
type chatServer struct {
	URL  string
	mu   sync.Mutex
	msgs []string
}

func startChat(t *testing.T) *chatServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &chatServer{URL: "http://" + ln.Addr().String() + "/chat"}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m struct {
			Text string `json:"text"`
		}
		_ = json.Unmarshal(b, &m)
		c.mu.Lock()
		c.msgs = append(c.msgs, m.Text)
		c.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return c
}

func (c *chatServer) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}

// children returns the child executions of a workflow by task.
func (s *server) children(id string) map[string]store.Execution {
	s.t.Helper()
	list, err := s.API.Executions(context.Background(), store.ExecutionQuery{ParentID: id, Limit: store.MaxLimit})
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string]store.Execution{}
	for _, ex := range list.Items {
		full, err := s.API.Execution(context.Background(), ex.ID)
		if err != nil {
			s.t.Fatal(err)
		}
		out[ex.Context.WorkflowTask] = full
	}
	return out
}

// answer waits for the inquiry of a workflow's approve task and answers it.
func (s *server) answer(workflowID string, approved bool) {
	s.t.Helper()
	var inquiryID string
	waitFor(s.t, "the approval inquiry of "+workflowID, func() (bool, error) {
		ask, ok := s.children(workflowID)["approve"]
		if !ok || ask.Status != store.StatusPending {
			return false, nil
		}
		list, err := s.API.Inquiries(context.Background(), store.InquiryPending)
		if err != nil {
			return false, err
		}
		for _, q := range list.Items {
			if q.ExecutionID == ask.ID {
				inquiryID = q.ID
				return true, nil
			}
		}
		return false, nil
	})
	// A response that does not match the schema is refused, and the
	// inquiry stays pending.
	if _, err := s.API.Respond(context.Background(), inquiryID, map[string]any{"approved": "yes"}); err == nil || !strings.Contains(err.Error(), "/response/approved") {
		s.t.Errorf("an invalid response: %v, want a 400 naming /response/approved", err)
	}
	if _, err := s.API.Respond(context.Background(), inquiryID, map[string]any{"approved": approved}); err != nil {
		s.t.Fatalf("answering inquiry %s: %v", inquiryID, err)
	}
}

func (s *server) runAsync(args ...string) string {
	s.t.Helper()
	out, errOut, rc := s.cli(append([]string{"run", "--async"}, args...)...)
	if rc != 0 {
		s.t.Fatalf("bwc run %v: exit %d: %s", args, rc, errOut)
	}
	return strings.TrimSpace(out)
}

func output(t *testing.T, ex store.Execution) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ex.Result, &m); err != nil {
		t.Fatalf("result of %s: %v: %s", ex.ID, err, ex.Result)
	}
	return m
}

func TestRemediationWorkflowBranches(t *testing.T) {
	chat := startChat(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(logs, "app.log.1")
	fresh := filepath.Join(logs, "app.log")
	for _, f := range []string{old, fresh} {
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tenDaysAgo := time.Now().Add(-10 * 24 * time.Hour)
	if err := os.Chtimes(old, tenDaysAgo, tenDaysAgo); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("examples:\n  chat_webhook_url: "+chat.URL+"\n  chat_token: t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "--config", cfg)

	t.Run("below the threshold, from the alert webhook", func(t *testing.T) {
		code, body := s.post("/api/v1/webhooks/monitoring/alert", `{"status": "firing", "labels": {"alertname": "DiskFull", "severity": "warning", "instance": "web-1", "mountpoint": "/"}, "annotations": {"threshold": "100"}}`, nil)
		if code != http.StatusAccepted {
			t.Fatalf("webhook: HTTP %d %s", code, body)
		}
		wf := s.finishedExecutionOf("examples.disk_alert")
		kids := s.children(wf.ID)
		if wf.Status != store.StatusSucceeded {
			t.Fatalf("workflow %s: %s (check_disk: %s)", wf.Status, wf.Result, kids["check_disk"].Result)
		}
		out := output(t, wf)
		if out["cleaned"] != false {
			t.Errorf("output %v, want cleaned false", out)
		}
		if _, asked := kids["approve"]; asked || len(kids) != 1 {
			t.Errorf("tasks run: %v, want only check_disk", keys(kids))
		}
	})

	t.Run("approved", func(t *testing.T) {
		id := s.runAsync("examples.remediate_disk", "host=web-2", "threshold=1", "logs_dir="+logs)
		s.answer(id, true)
		wf, err := s.API.Wait(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if wf.Status != store.StatusSucceeded {
			t.Fatalf("workflow %s: %s", wf.Status, wf.Result)
		}
		if out := output(t, wf); out["cleaned"] != true {
			t.Errorf("output %v, want cleaned true", out)
		}
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Errorf("the old log is still there: %v", err)
		}
		if _, err := os.Stat(fresh); err != nil {
			t.Errorf("the fresh log was deleted: %v", err)
		}
		kids := s.children(id)
		if got := keys(kids); got != "approve,check_disk,cleanup,notify" {
			t.Errorf("tasks run: %s", got)
		}
		if !hasMessage(chat.messages(), "Disk on web-2", "old logs cleaned up") {
			t.Errorf("chat messages %q", chat.messages())
		}
		// Asking emitted core.inquiry with the task's route.
		list, err := s.API.TriggerInstances(context.Background(), "core.inquiry", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Items) == 0 || !strings.Contains(string(list.Items[0].Payload), `"route":"ops"`) {
			t.Errorf("core.inquiry trigger instances: %+v", list.Items)
		}
	})

	t.Run("rejected", func(t *testing.T) {
		id := s.runAsync("examples.remediate_disk", "host=web-3", "threshold=1", "logs_dir="+logs)
		s.answer(id, false)
		wf, err := s.API.Wait(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if wf.Status != store.StatusSucceeded {
			t.Fatalf("workflow %s: %s", wf.Status, wf.Result)
		}
		if out := output(t, wf); out["cleaned"] != false {
			t.Errorf("output %v, want cleaned false", out)
		}
		if got := keys(s.children(id)); got != "approve,check_disk,notify_declined" {
			t.Errorf("tasks run: %s", got)
		}
		if !hasMessage(chat.messages(), "Disk on web-3", "cleanup declined") {
			t.Errorf("chat messages %q", chat.messages())
		}
	})

	t.Run("cleanup fails", func(t *testing.T) {
		id := s.runAsync("examples.remediate_disk", "host=web-4", "threshold=1", "logs_dir="+filepath.Join(dir, "missing"))
		s.answer(id, true)
		wf, err := s.API.Wait(context.Background(), id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if wf.Status != store.StatusFailed {
			t.Fatalf("workflow %s, want failed: %s", wf.Status, wf.Result)
		}
		kids := s.children(id)
		if got := keys(kids); got != "approve,check_disk,cleanup,notify_failure" {
			t.Errorf("tasks run: %s", got)
		}
		if kids["cleanup"].Status != store.StatusFailed {
			t.Errorf("cleanup is %s", kids["cleanup"].Status)
		}
		if !hasMessage(chat.messages(), "Disk remediation on web-4 failed") {
			t.Errorf("chat messages %q", chat.messages())
		}
	})
}

func keys(m map[string]store.Execution) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func hasMessage(msgs []string, parts ...string) bool {
	for _, m := range msgs {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(m, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestWorkflowResumesAfterKill9(t *testing.T) {
	testWorkflowResumes(t, (*server).kill)
}

func TestWorkflowResumesAfterGracefulRestart(t *testing.T) {
	testWorkflowResumes(t, (*server).stop)
}

// testWorkflowResumes stops the engine (stop) while a workflow waits on its
// inquiry, starts it again, and checks that the workflow goes on.
func testWorkflowResumes(t *testing.T, stop func(*server)) {
	chat := startChat(t)
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("examples:\n  chat_webhook_url: "+chat.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "--config", cfg)
	id := s.runAsync("examples.remediate_disk", "host=web-9", "threshold=1", "logs_dir="+logs)
	waitFor(t, "the approval inquiry", func() (bool, error) {
		ask, ok := s.children(id)["approve"]
		return ok && ask.Status == store.StatusPending, nil
	})
	stop(s)

	s2 := startServer(t, dir, "--config", cfg)
	wf, err := s2.API.Execution(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Status != store.StatusRunning {
		t.Fatalf("after the restart the workflow is %s, want running (resumed): %s", wf.Status, wf.Result)
	}
	s2.answer(id, true)
	wf, err = s2.API.Wait(context.Background(), id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Status != store.StatusSucceeded {
		t.Fatalf("workflow %s: %s", wf.Status, wf.Result)
	}
	if got := keys(s2.children(id)); got != "approve,check_disk,cleanup,notify" {
		t.Errorf("tasks run: %s", got)
	}
	if !hasMessage(chat.messages(), "Disk on web-9", "old logs cleaned up") {
		t.Errorf("chat messages %q", chat.messages())
	}
}

func TestWorkflowPauseAndResume(t *testing.T) {
	chat := startChat(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("examples:\n  chat_webhook_url: "+chat.URL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "--config", cfg)
	ctx := context.Background()
	id := s.runAsync("examples.remediate_disk", "host=web-5", "threshold=1", "logs_dir="+dir)
	waitFor(t, "the approval inquiry", func() (bool, error) {
		ask, ok := s.children(id)["approve"]
		return ok && ask.Status == store.StatusPending, nil
	})
	out, errOut, rc := s.cli("execution", "pause", id)
	if rc != 0 || !strings.Contains(out, "pausing") {
		t.Fatalf("pause: exit %d: %s %s", rc, out, errOut)
	}
	// The running task ends; the workflow starts nothing more.
	s.answer(id, true)
	waitFor(t, "the workflow to be paused", func() (bool, error) {
		ex, err := s.API.Execution(ctx, id)
		return ex.Status == store.StatusPaused, err
	})
	if _, started := s.children(id)["cleanup"]; started {
		t.Fatal("a paused workflow started its next task")
	}
	if _, errOut, rc := s.cli("execution", "pause", id); rc != 1 || !strings.Contains(errOut, "409") {
		t.Errorf("pausing a paused workflow: exit %d, %s", rc, errOut)
	}
	out, errOut, rc = s.cli("execution", "resume", id)
	if rc != 0 || !strings.Contains(out, "running") {
		t.Fatalf("resume: exit %d: %s %s", rc, out, errOut)
	}
	wf, err := s.API.Wait(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Status != store.StatusSucceeded {
		t.Fatalf("workflow %s: %s", wf.Status, wf.Result)
	}
	if got := keys(s.children(id)); got != "approve,check_disk,cleanup,notify" {
		t.Errorf("tasks run: %s", got)
	}
	var statuses []store.ExecutionStatus
	for _, c := range wf.StatusLog {
		statuses = append(statuses, c.Status)
	}
	if !strings.Contains(fmt.Sprint(statuses), "pausing paused running") {
		t.Errorf("status log %v", statuses)
	}
	// Only workflows pause.
	noop := s.runAsync("core.noop")
	if _, errOut, rc := s.cli("execution", "pause", noop); rc != 1 || !strings.Contains(errOut, "only workflows") {
		t.Errorf("pausing an action: exit %d, %s", rc, errOut)
	}
}

func TestCancelWorkflowCascades(t *testing.T) {
	s := startServer(t, "")
	ctx := context.Background()
	id := s.runAsync("examples.remediate_disk", "host=web-6", "threshold=1")
	var ask store.Execution
	waitFor(t, "the approval inquiry", func() (bool, error) {
		var ok bool
		ask, ok = s.children(id)["approve"]
		return ok && ask.Status == store.StatusPending, nil
	})
	if out, errOut, rc := s.cli("execution", "cancel", id); rc != 0 {
		t.Fatalf("cancel: exit %d: %s %s", rc, out, errOut)
	}
	wf, err := s.API.Wait(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	if wf.Status != store.StatusCanceled {
		t.Errorf("workflow %s, want canceled", wf.Status)
	}
	child, err := s.API.Wait(ctx, ask.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if child.Status != store.StatusCanceled {
		t.Errorf("the approval task is %s, want canceled", child.Status)
	}
	list, err := s.API.Inquiries(ctx, store.InquiryCanceled)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, q := range list.Items {
		found = found || q.ExecutionID == ask.ID
	}
	if !found {
		t.Errorf("the inquiry of the canceled task is not canceled")
	}
}

func TestHandWrittenStateMachine(t *testing.T) {
	s := startServer(t, "")
	out, errOut, rc := s.cli("run", "e2e.hand_written", "name=asl", "--json")
	if rc != 0 {
		t.Fatalf("bwc run e2e.hand_written: exit %d: %s %s", rc, out, errOut)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(out), &ex); err != nil {
		t.Fatal(err)
	}
	if got := output(t, ex)["greetings"]; got != "hello asl (happy) / hello asl (sad)" {
		t.Errorf("greetings %q", got)
	}
	if got := keys(s.children(ex.ID)); got != "happy,sad" {
		t.Errorf("tasks run: %s", got)
	}
}

// TestReRunFromTask re-runs a failed remediation from its failed task once
// the cause is fixed: the new run starts at cleanup with the variables the
// original had there (the host, the usage it measured, the logs directory)
// and runs cleanup and what follows, nothing before.
func TestReRunFromTask(t *testing.T) {
	chat := startChat(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("examples:\n  chat_webhook_url: "+chat.URL+"\n  chat_token: t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, dir, "--config", cfg)
	ctx := context.Background()
	logs := filepath.Join(dir, "later")
	id := s.runAsync("examples.remediate_disk", "host=web-9", "threshold=1", "logs_dir="+logs)
	s.answer(id, true)
	orig, err := s.API.Wait(ctx, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	kids := s.children(id)
	if orig.Status != store.StatusFailed || kids["cleanup"].Status != store.StatusFailed {
		t.Fatalf("original run %s (cleanup %s), want failed at cleanup: %s", orig.Status, kids["cleanup"].Status, orig.Result)
	}
	var usage map[string]any
	if err := json.Unmarshal(kids["check_disk"].Result, &usage); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown task", []string{"--tasks", "nope"}, 1, `has no task "nope"`},
		{"task never reached", []string{"--tasks", "notify_declined"}, 1, "never ran"},
		{"two tasks", []string{"--tasks", "cleanup,check_disk"}, 1, "starts at one"},
		{"parameters with tasks", []string{"--tasks", "cleanup", "host=web-10"}, 2, "takes no NAME=VALUE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := s.cli(append([]string{"execution", "re-run", id}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d naming %q", code, errOut, tc.code, tc.want)
			}
		})
	}

	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(logs, "app.log.1")
	if err := os.WriteFile(old, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tenDaysAgo := time.Now().Add(-10 * 24 * time.Hour)
	if err := os.Chtimes(old, tenDaysAgo, tenDaysAgo); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := s.cli("execution", "re-run", id, "--tasks", "cleanup", "--json")
	if code != 0 {
		t.Fatalf("re-run --tasks cleanup: exit %d: %s%s", code, out, errOut)
	}
	var again store.Execution
	if err := json.Unmarshal([]byte(out), &again); err != nil {
		t.Fatalf("re-run output: %v: %s", err, out)
	}
	if again.ID == id || again.Status != store.StatusSucceeded || again.Context.ReRunOf != id {
		t.Fatalf("re-run %s: %s, re-run of %q: %s", again.ID, again.Status, again.Context.ReRunOf, again.Result)
	}
	if got := keys(s.children(again.ID)); got != "cleanup,notify" {
		t.Errorf("tasks the re-run ran: %s, want cleanup,notify", got)
	}
	res := output(t, again)
	if fmt.Sprint(res["usage"]) != strings.TrimSpace(fmt.Sprint(usage["stdout"])) || res["cleaned"] != true {
		t.Errorf("re-run output %v, want the original's usage %v and cleaned", res, usage["stdout"])
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the old log is still there: %v", err)
	}
	if !hasMessage(chat.messages(), "Disk on web-9", "old logs cleaned up") {
		t.Errorf("chat messages %q", chat.messages())
	}
}
