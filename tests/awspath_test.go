package tests

// The AWS path, end to end, without AWS: every function's real bootstrap
// (built for the host) runs under aws-lambda-rie, the store is DynamoDB
// (dynalite), and `bwc serve --aws` is EventBridge, Step Functions and the
// API Gateway HTTP API. The example packs are driven through it as a user
// would: through the API Gateway front, with the CLI.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/bwc-project/bwc/internal/api/client"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/store"
	"github.com/bwc-project/bwc/internal/store/dynamo"
	"github.com/bwc-project/bwc/internal/store/dynamo/dynamotest"
)

// awsFunctions are the functions the AWS path runs under rie (the poller
// runs in TestAWSPathPoller, with a bundle `make lambda` builds).
var awsFunctions = []string{"webhook", "api", "inquiry", "enforcer", "runner", "completion", "timer"}

// riePath finds aws-lambda-rie: on PATH (the Makefile puts its tools bin
// there) or in the repository's .tools/bin.
func riePath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p
	}
	p := filepath.Join(repoRoot(t), ".tools", "bin", "aws-lambda-rie")
	if _, err := os.Stat(p); err != nil {
		t.Skip("aws-lambda-rie is not installed: run `make test-aws` (it installs the pinned version into .tools/bin)")
	}
	return p
}

// awsFreePort returns a loopback port free at the time of the call.
func awsFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// awsWaitListening waits until addr accepts connections.
func awsWaitListening(t *testing.T, what, addr string, logs func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not listen on %s: %v\n%s", what, addr, err, logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// awsProcess is a child process whose output is kept for the test's log.
type awsProcess struct {
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
}

func (p *awsProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *awsProcess) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func startAWSProcess(t *testing.T, name string, cmd *exec.Cmd) *awsProcess {
	t.Helper()
	p := &awsProcess{name: name, cmd: cmd}
	cmd.Stdout, cmd.Stderr = p, p
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.logs())
		}
	})
	return p
}

// awsStartDynalite runs dynalite on a free loopback port until the test
// ends and returns its URL.
func awsStartDynalite(t *testing.T) string { return dynamotest.StartDynalite(t).Endpoint }

// awsBuildBootstraps builds every function (functions/...) for the host, as
// `make lambda` builds them for Lambda, into dir/<fn>.
func awsBuildBootstraps(t *testing.T, dir string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", dir+string(filepath.Separator), "./functions/...")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the functions: %v\n%s", err, out)
	}
}

// rieFunction is one function's bootstrap running under aws-lambda-rie.
type rieFunction struct {
	name string
	URL  string
	proc *awsProcess
}

// invoke calls the function as Lambda's Invoke API would, through rie.
func (f *rieFunction) invoke(t *testing.T, payload any) []byte {
	t.Helper()
	body, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(f.URL+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("invoking %s: %v", f.name, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoking %s: HTTP %d: %s", f.name, resp.StatusCode, out)
	}
	return out
}

// invocations counts the invocations rie ran.
func (f *rieFunction) invocations() int {
	return strings.Count(f.proc.logs(), "START RequestId: ")
}

// initDuration is the bootstrap's init time rie reported (its runtime
// core's "INIT REPORT(durationMs: ...)": from the process start to the
// runtime's first request for an event); "" before the first invocation.
func (f *rieFunction) initDuration() string {
	m := regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`).FindStringSubmatch(f.proc.logs())
	if m == nil {
		return ""
	}
	return m[1] + " ms"
}

// awsOneAtATime serves the invocations of one rie one after the other: rie is
// one Lambda instance, which runs one invocation at a time, and the pinned
// rie crashes (a nil pointer in its rapidcore) when a second invocation
// arrives while one runs. Lambda would start a second instance; queuing
// is the nearest a single instance comes to it. The local cloud queues its
// own invocations per function (internal/localcloud); this proxy also
// queues the ones the test makes directly (a redelivered event, a timer).
func awsOneAtATime(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func startRIE(t *testing.T, rie, name, bootstrap string, env []string) *rieFunction {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(awsFreePort(t))
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", "127.0.0.1:"+strconv.Itoa(awsFreePort(t)),
		bootstrap)
	cmd.Env = append(env, "AWS_LAMBDA_FUNCTION_NAME=bwc-"+name, "AWS_LAMBDA_FUNCTION_TIMEOUT=120")
	cmd.Dir = filepath.Dir(bootstrap)
	p := startAWSProcess(t, "aws-lambda-rie "+name, cmd)
	awsWaitListening(t, "aws-lambda-rie for "+name, addr, p.logs)
	return &rieFunction{name: name, URL: awsOneAtATime(t, "http://"+addr), proc: p}
}

// awsPath is the whole AWS path on loopback.
type awsPath struct {
	*server
	functions map[string]*rieFunction
	table     string
	db        *dynamo.DB
}

func startAWSPath(t *testing.T, dir, packConfig string) *awsPath {
	t.Helper()
	rie := riePath(t)
	root := repoRoot(t)
	dynURL := awsStartDynalite(t)
	ddb := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(dynURL),
	})
	const table = "bwc-e2e"
	if err := dynamo.CreateTable(context.Background(), ddb, table); err != nil {
		t.Fatal(err)
	}
	db := dynamo.New(ddb, table, store.Options{})

	bin := filepath.Join(dir, "lambda")
	awsBuildBootstraps(t, bin)
	awsAddr := "127.0.0.1:" + strconv.Itoa(awsFreePort(t))
	apigwAddr := "127.0.0.1:" + strconv.Itoa(awsFreePort(t))
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynURL,
		"AWS_ENDPOINT_URL_EVENTBRIDGE=http://" + awsAddr,
		"AWS_ENDPOINT_URL_SFN=http://" + awsAddr,
		"AWS_EC2_METADATA_DISABLED=true",
		"BWC_TABLE=" + table,
		"BWC_EVENT_BUS=bwc",
		"BWC_NAME=bwc",
		"BWC_ACCOUNT=000000000000",
		"BWC_PACKS=" + filepath.Join(root, "packs") + string(filepath.ListSeparator) + filepath.Join(root, "tests", "testdata", "packs"),
		"BWC_PACK_CONFIG=" + packConfig,
	}
	fns := map[string]*rieFunction{}
	args := []string{"--config", packConfig, "--aws", "--aws-listen", awsAddr, "--apigw-listen", apigwAddr}
	for _, fn := range awsFunctions {
		fns[fn] = startRIE(t, rie, fn, filepath.Join(bin, fn), env)
		args = append(args, "--lambda", fn+"="+fns[fn].URL)
	}
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("BWC_NAME", "bwc")
	s := startServer(t, dir, args...)
	// From here on the test (and the CLI) talks to the API Gateway front,
	// which the api, webhook and inquiry functions answer from DynamoDB,
	// where the engine's admin key is stored too.
	if _, err := db.CreateAPIKey(context.Background(), store.APIKey{ID: "admin", KeyHash: store.HashAPIKey(s.Key), User: "admin", Role: "admin", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	s.URL = "http://" + apigwAddr
	s.API = client.New(s.URL, s.Key, nil)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bwc serve --aws logs:\n%s", s.logs())
		}
	})
	return &awsPath{server: s, functions: fns, table: table, db: db}
}

// TestAWSPath drives the example packs through the AWS path: a webhook
// through API Gateway, the webhook function, EventBridge, the enforcer
// function, Step Functions running the workflow's state machine, the
// runner function for every task, the completion function writing the
// audit trail to DynamoDB; `bwc execution get` through the API Gateway
// front shows what the embedded engine shows for the same run.
func TestAWSPath(t *testing.T) {
	chat := startChat(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("examples:\n  chat_webhook_url: "+chat.URL+"\n  chat_token: t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startAWSPath(t, dir, cfg)

	alert := `{"status": "firing", "labels": {"alertname": "DiskFull", "severity": "warning", "instance": "web-1", "mountpoint": "/"}, "annotations": {"threshold": "100"}}`
	var wf store.Execution
	t.Run("a webhook runs the workflow on Step Functions", func(t *testing.T) {
		code, body := p.post("/api/v1/webhooks/monitoring/alert", alert, map[string]string{"X-BWC-Event-Id": "alert-1"})
		if code != http.StatusAccepted {
			t.Fatalf("webhook through API Gateway: HTTP %d %s", code, body)
		}
		wf = p.finishedExecutionOf("examples.disk_alert")
		kids := p.children(wf.ID)
		if wf.Status != store.StatusSucceeded {
			t.Fatalf("workflow %s: %s (check_disk: %s)", wf.Status, wf.Result, kids["check_disk"].Result)
		}
		if out := output(t, wf); out["cleaned"] != false {
			t.Errorf("output %v, want cleaned false", out)
		}
		if got := keys(kids); got != "check_disk" {
			t.Errorf("tasks run: %s, want check_disk", got)
		}
		check := kids["check_disk"]
		if check.Status != store.StatusSucceeded || check.Context.TraceTag != wf.Context.TraceTag || check.ParentID != wf.ID {
			t.Errorf("check_disk = %s trace %q parent %q", check.Status, check.Context.TraceTag, check.ParentID)
		}
		// The audit trail is in DynamoDB: read it there, not through the API.
		stored, err := p.db.GetExecution(context.Background(), wf.ID)
		if err != nil || stored.Status != store.StatusSucceeded {
			t.Errorf("DynamoDB has %s (%v), want the succeeded workflow", stored.Status, err)
		}
		enfs, err := p.db.ListEnforcements(context.Background(), store.EnforcementQuery{Rule: "examples.disk_alert"})
		if err != nil || len(enfs.Items) != 1 || enfs.Items[0].ExecutionID != wf.ID {
			t.Errorf("enforcements in DynamoDB: %+v (%v), want one naming %s", enfs.Items, err, wf.ID)
		}
		var statuses []string
		for _, c := range stored.StatusLog {
			statuses = append(statuses, string(c.Status))
		}
		if got := strings.Join(statuses, ","); got != "requested,scheduled,running,succeeded" {
			t.Errorf("status log %s", got)
		}
	})
	if wf.ID == "" {
		t.FailNow()
	}

	t.Run("a redelivered event starts nothing twice", func(t *testing.T) {
		code, body := p.post("/api/v1/webhooks/monitoring/alert", alert, map[string]string{"X-BWC-Event-Id": "alert-1"})
		if code != http.StatusAccepted || !strings.Contains(string(body), `"duplicate":true`) {
			t.Errorf("the same delivery again: HTTP %d %s, want 202 duplicate", code, body)
		}
		// EventBridge delivers at least once: give the enforcer the same
		// event again, as a retried delivery would.
		tis, err := p.API.TriggerInstances(context.Background(), "core.webhook", store.MaxLimit)
		if err != nil {
			t.Fatal(err)
		}
		var ti store.TriggerInstance
		for _, x := range tis.Items {
			if x.ID == wf.Context.TriggerInstanceID {
				ti = x
			}
		}
		if ti.ID == "" {
			t.Fatalf("trigger instance %s not listed", wf.Context.TriggerInstanceID)
		}
		full, err := p.db.GetTriggerInstance(context.Background(), ti.ID)
		if err != nil {
			t.Fatal(err)
		}
		var payload map[string]any
		_ = json.Unmarshal(full.Payload, &payload)
		env := rule.NewEnvelope(full.ID, full.Trigger, map[string]any{"url": "monitoring/alert"}, payload, full.TraceTag, full.OccurredAt)
		out := p.functions["enforcer"].invoke(t, map[string]any{"rule": "examples.disk_alert", "event": env})
		var res struct {
			Status    string `json:"status"`
			Execution string `json:"execution"`
		}
		if err := json.Unmarshal(out, &res); err != nil || res.Execution != wf.ID {
			t.Errorf("enforcer on the redelivered event: %s, want execution %s", out, wf.ID)
		}
		if n := len(p.executionsOf("examples.disk_alert")); n != 1 {
			t.Errorf("%d executions of the rule, want 1", n)
		}
	})

	t.Run("bwc execution get through API Gateway", func(t *testing.T) {
		stdout, stderr, rc := p.cli("execution", "get", "--api", p.URL, "--json", wf.ID)
		if rc != 0 {
			t.Fatalf("bwc execution get: exit %d: %s", rc, stderr)
		}
		var got store.Execution
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("bwc execution get --json: %v\n%s", err, stdout)
		}
		if got.ID != wf.ID || got.Status != store.StatusSucceeded || !reflect.DeepEqual(output(t, got), output(t, wf)) {
			t.Errorf("bwc execution get = %s %s %s, want %s", got.ID, got.Status, got.Result, wf.Result)
		}
	})

	t.Run("a failing action on the action machine fires a core.actiontrigger rule", func(t *testing.T) {
		code, body := p.post("/api/v1/webhooks/e2e/fail", `{}`, nil)
		if code != http.StatusAccepted {
			t.Fatalf("webhook: HTTP %d %s", code, body)
		}
		failed := p.finishedExecutionOf("e2e.on_fail_hook")
		var res struct {
			ReturnCode int `json:"return_code"`
			Error      struct {
				Name string `json:"name"`
			} `json:"error"`
		}
		if err := json.Unmarshal(failed.Result, &res); err != nil || failed.Status != store.StatusFailed || res.ReturnCode != 3 || res.Error.Name != "bwc.ActionFailed" {
			t.Errorf("e2e.fail: %s %s, want failed with return_code 3 and error bwc.ActionFailed (as the embedded engine records it)", failed.Status, failed.Result)
		}
		report := p.finishedExecutionOf("e2e.on_failure")
		if report.Status != store.StatusSucceeded || !strings.Contains(string(report.Result), "execution "+failed.ID+" failed") {
			t.Errorf("the core.actiontrigger rule's run: %s %s", report.Status, report.Result)
		}
		if report.Context.TraceTag != failed.Context.TraceTag {
			t.Errorf("the report's trace tag %q differs from the failure's %q", report.Context.TraceTag, failed.Context.TraceTag)
		}
	})

	t.Run("a schedule fires the timer function", func(t *testing.T) {
		// e2e.tick is a one-second interval timer: the local cloud's
		// schedule invokes the timer function, which records the trigger
		// instance in DynamoDB (the engine's own timers record theirs in
		// its SQLite database) and puts the event on the bus.
		var ti store.TriggerInstance
		waitFor(t, "a timer fire recorded in DynamoDB", func() (bool, error) {
			page, err := p.db.ListTriggerInstances(context.Background(), store.TriggerInstanceQuery{Trigger: "core.IntervalTimer", Limit: 10})
			if err != nil || len(page.Items) == 0 {
				return false, err
			}
			ti = page.Items[0]
			return true, nil
		})
		var payload struct {
			ExecutedAt string         `json:"executed_at"`
			Schedule   map[string]any `json:"schedule"`
		}
		if err := json.Unmarshal(ti.Payload, &payload); err != nil || payload.ExecutedAt == "" || payload.Schedule["unit"] != "seconds" {
			t.Errorf("timer payload %s, want executed_at and the schedule", ti.Payload)
		}
		if !strings.HasPrefix(ti.SourceEventID, "timer:core.IntervalTimer") {
			t.Errorf("event id %q, want the timer's (timer:<type><parameters>@<time>)", ti.SourceEventID)
		}
	})

	t.Run("approval through the inquiry function, same result as the embedded engine", func(t *testing.T) {
		logs := filepath.Join(dir, "logs")
		old := awsWriteLogs(t, logs)
		id := p.runAsync("examples.remediate_disk", "host=web-2", "threshold=1", "logs_dir="+logs)
		p.answer(id, true)
		waitFor(t, "workflow "+id+" to finish", func() (bool, error) {
			ex, err := p.API.Execution(context.Background(), id)
			return err == nil && ex.Status.Finished(), nil
		})
		got, err := p.API.Execution(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.StatusSucceeded {
			t.Fatalf("workflow %s: %s", got.Status, got.Result)
		}
		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Errorf("the old log is still there: %v", err)
		}
		if !hasMessage(chat.messages(), "Disk on web-2", "old logs cleaned up") {
			t.Errorf("chat messages %q", chat.messages())
		}

		// The same run on the embedded engine.
		edir := t.TempDir()
		elogs := filepath.Join(edir, "logs")
		awsWriteLogs(t, elogs)
		e := startServer(t, edir, "--config", cfg)
		eid := e.runAsync("examples.remediate_disk", "host=web-2", "threshold=1", "logs_dir="+elogs)
		e.answer(eid, true)
		want, err := e.API.Wait(context.Background(), eid, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != want.Status {
			t.Errorf("status: AWS %s, embedded %s", got.Status, want.Status)
		}
		gout, wout := output(t, got), output(t, want)
		if gout["cleaned"] != wout["cleaned"] || reflect.TypeOf(gout["usage"]) != reflect.TypeOf(wout["usage"]) || len(gout) != len(wout) {
			t.Errorf("output: AWS %v, embedded %v", gout, wout)
		}
		gk, wk := p.children(id), e.children(eid)
		if keys(gk) != keys(wk) {
			t.Errorf("tasks: AWS %s, embedded %s", keys(gk), keys(wk))
		}
		for task, w := range wk {
			g := gk[task]
			if g.Status != w.Status || g.Action != w.Action || !reflect.DeepEqual(awsResultKeys(t, g), awsResultKeys(t, w)) {
				t.Errorf("task %s: AWS %s %s %v, embedded %s %s %v", task, g.Action, g.Status, awsResultKeys(t, g), w.Action, w.Status, awsResultKeys(t, w))
			}
		}
	})

	// Every step ran in the functions, not in the engine's process.
	for _, fn := range awsFunctions {
		f := p.functions[fn]
		if f.invocations() == 0 {
			t.Errorf("function %s was never invoked", fn)
		}
		t.Logf("%s: %d invocations, init %s", fn, f.invocations(), f.initDuration())
	}
}

// awsWriteLogs makes a log directory with a rotated log older than a week
// (returned) and a fresh one.
func awsWriteLogs(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "app.log.1")
	for _, f := range []string{old, filepath.Join(dir, "app.log")} {
		if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tenDaysAgo := time.Now().Add(-10 * 24 * time.Hour)
	if err := os.Chtimes(old, tenDaysAgo, tenDaysAgo); err != nil {
		t.Fatal(err)
	}
	return old
}

// awsResultKeys lists the keys of an execution's result object.
func awsResultKeys(t *testing.T, ex store.Execution) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(ex.Result, &m); err != nil {
		return []string{fmt.Sprintf("(not an object: %s)", ex.Result)}
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestAWSPathPoller runs a pack's Go polling sensor on the AWS path: `make
// lambda` builds the poller's bundle (its bootstrap and the e2e pack's
// ticker sensor, for the host), aws-lambda-rie hosts the bootstrap, and
// a scheduled poll's invocation records the ticker's trigger instance in
// DynamoDB (dynalite) and puts it on an EventBridge stand-in; the
// emission that breaks its payload_schema is dropped, and the same
// scheduled poll invoked again publishes nothing new.
func TestAWSPathPoller(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the poller's bundle")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed: this test builds the poller's bundle with `make lambda`")
	}
	rie := riePath(t)
	root := repoRoot(t)
	dir := t.TempDir()
	dynURL := awsStartDynalite(t)
	ddb := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(dynURL),
	})
	const table = "bwc-poller"
	if err := dynamo.CreateTable(context.Background(), ddb, table); err != nil {
		t.Fatal(err)
	}
	db := dynamo.New(ddb, table, store.Options{})

	// EventBridge's PutEvents, answering every entry with an id.
	var mu sync.Mutex
	var put []map[string]any
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	eb := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Entries []map[string]any }
		if r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" || json.NewDecoder(r.Body).Decode(&in) != nil {
			http.Error(w, `{"__type": "ValidationException"}`, http.StatusBadRequest)
			return
		}
		mu.Lock()
		out := map[string]any{"FailedEntryCount": 0, "Entries": []any{}}
		for _, e := range in.Entries {
			put = append(put, e)
			out["Entries"] = append(out["Entries"].([]any), map[string]any{"EventId": fmt.Sprintf("eb-%d", len(put))})
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	})}
	go func() { _ = eb.Serve(ln) }()
	t.Cleanup(func() { _ = eb.Close() })

	goarch, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	build := filepath.Join(dir, "lambda")
	mk := exec.Command("make", "--no-print-directory", "lambda", "LAMBDA_FUNCTIONS=poller",
		"LAMBDA_GOARCH="+strings.TrimSpace(string(goarch)), "LAMBDA_PACKS=tests/testdata/packs", "LAMBDA_BUILD="+build)
	mk.Dir = root
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("make lambda: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "building sensor tests/testdata/packs/e2e/sensors/ticker") {
		t.Errorf("make lambda did not build the ticker sensor:\n%s", out)
	}
	fn := startRIE(t, rie, "poller", filepath.Join(build, "poller", "bootstrap"), []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynURL,
		"AWS_ENDPOINT_URL_EVENTBRIDGE=http://" + ln.Addr().String(),
		"AWS_EC2_METADATA_DISABLED=true",
		"BWC_TABLE=" + table,
		"BWC_EVENT_BUS=bwc",
		"BWC_ACCOUNT=000000000000",
		// The bundle's packs (e2e, with the built ticker) and core.
		"BWC_PACKS=" + filepath.Join(root, "packs") + string(filepath.ListSeparator) + filepath.Join(build, "poller", "packs"),
	})

	type result struct {
		Published []struct {
			Trigger           string `json:"trigger"`
			TriggerInstanceID string `json:"trigger_instance_id"`
			Duplicate         bool   `json:"duplicate"`
		} `json:"published"`
		Dropped   []struct{ Reason string } `json:"dropped"`
		ErrorType string                    `json:"errorType"`
	}
	poll := func(t *testing.T, in map[string]any) result {
		t.Helper()
		var r result
		if err := json.Unmarshal(fn.invoke(t, in), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	scheduled := map[string]any{"pack": "e2e", "sensor": "e2e.Ticker", "scheduled_time": "2026-11-30T02:00:00Z"}
	first := poll(t, scheduled)
	if first.ErrorType != "" || len(first.Published) != 1 || first.Published[0].Trigger != "e2e.tock" || len(first.Dropped) != 1 {
		t.Fatalf("poll = %+v, want one e2e.tock published and the one breaking its schema dropped\n%s", first, fn.proc.logs())
	}
	ti, err := db.GetTriggerInstance(context.Background(), first.Published[0].TriggerInstanceID)
	if err != nil || ti.Trigger != "e2e.tock" || !strings.Contains(string(ti.Payload), `"greeting":"hello"`) {
		t.Errorf("trigger instance in DynamoDB = %+v, %v", ti, err)
	}
	mu.Lock()
	n := len(put)
	detailType, _ := put[0]["DetailType"].(string)
	mu.Unlock()
	if n != 1 || detailType != "e2e.tock" {
		t.Errorf("%d events put (first detail-type %q), want one e2e.tock", n, detailType)
	}
	again := poll(t, scheduled)
	if len(again.Published) != 1 || !again.Published[0].Duplicate || again.Published[0].TriggerInstanceID != first.Published[0].TriggerInstanceID {
		t.Errorf("the same poll again = %+v, want the same trigger instance, a duplicate", again)
	}
	if r := poll(t, map[string]any{"pack": "e2e", "sensor": "e2e.Nope"}); r.ErrorType != "bwc.BadEvent" {
		t.Errorf("an unknown sensor = %+v, want errorType bwc.BadEvent", r)
	}
	t.Logf("poller bootstrap init %s", fn.initDuration())
}
