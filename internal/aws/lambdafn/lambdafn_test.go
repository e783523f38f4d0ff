package lambdafn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/enforcer"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/webhook"
	"github.com/bwc-project/bwc/internal/store"
)

const apiKey = "bwc_test_key"

// errorType returns the Lambda errorType of a handler's error.
func errorType(t *testing.T, err error) string {
	t.Helper()
	var fe messages.InvokeResponse_Error
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a Lambda function error", err, err)
	}
	return fe.Type
}

func diskAlertEvent(t *testing.T, tiID string) json.RawMessage {
	t.Helper()
	env := rule.NewEnvelope(tiID, "core.webhook", map[string]any{"url": "monitoring/alert"}, map[string]any{
		"headers": map[string]any{},
		"body": map[string]any{
			"labels":      map[string]any{"alertname": "DiskFull", "severity": "critical", "instance": "web-1", "mountpoint": "/data"},
			"annotations": map[string]any{"threshold": "80"},
		},
	}, "trace-1", time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC))
	raw, err := env.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestEnforcerStartsTheWorkflowOnce(t *testing.T) {
	f := newFixture(t)
	h, err := lambdafn.NewEnforcer(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := lambdafn.EnforcerEvent{Rule: "examples.disk_alert", Event: diskAlertEvent(t, "ti-1")}
	first, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != string(store.EnforcementSucceeded) || first.Execution == "" {
		t.Fatalf("first enforcement = %+v, want succeeded with an execution", first)
	}
	again, err := h.Handle(ctx, in)
	if err != nil {
		t.Fatalf("redelivered event: %v", err)
	}
	if again != first {
		t.Errorf("redelivered event enforced as %+v, first as %+v", again, first)
	}
	ex, err := f.store.GetExecution(ctx, first.Execution)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Action != "examples.remediate_disk" || ex.Status != store.StatusScheduled || ex.Context.TraceTag != "trace-1" {
		t.Errorf("execution = %s %s trace %q, want examples.remediate_disk scheduled trace-1", ex.Action, ex.Status, ex.Context.TraceTag)
	}
	page, err := f.store.ListExecutions(ctx, store.ExecutionQuery{Rule: "examples.disk_alert"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Errorf("%d executions recorded for the rule, want 1", len(page.Items))
	}
	if len(f.sfn.starts) != 2 {
		t.Fatalf("%d StartExecution calls, want 2 (the second answered ExecutionAlreadyExists)", len(f.sfn.starts))
	}
	for _, s := range f.sfn.starts {
		if got, want := aws.ToString(s.StateMachineArn), "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-examples_remediate_disk"; got != want {
			t.Errorf("state machine %s, want %s", got, want)
		}
		if aws.ToString(s.Name) != first.Execution {
			t.Errorf("execution name %s, want the execution id %s", aws.ToString(s.Name), first.Execution)
		}
		var input map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(s.Input)), &input); err != nil {
			t.Fatal(err)
		}
		if input["host"] != "web-1" || input["threshold"] != 80.0 || input["path"] != "/data" || input["logs_dir"] != "/var/log/app" {
			t.Errorf("input = %v, want the rendered and defaulted parameters", input)
		}
	}
	ti, err := f.store.GetTriggerInstance(ctx, "ti-1")
	if err == nil && ti.Status != store.TriggerProcessed {
		t.Errorf("trigger instance status %s, want processed", ti.Status)
	}
}

func TestEnforcerRejectsWhatIsNotAnEvent(t *testing.T) {
	f := newFixture(t)
	h, err := lambdafn.NewEnforcer(f.deps)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   lambdafn.EnforcerEvent
	}{
		{"no rule", lambdafn.EnforcerEvent{Event: json.RawMessage(`{}`)}},
		{"not json", lambdafn.EnforcerEvent{Rule: "examples.disk_alert", Event: json.RawMessage(`[1]`)}},
		{"no trigger instance", lambdafn.EnforcerEvent{Rule: "examples.disk_alert", Event: json.RawMessage(`{"detail": {}}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Handle(context.Background(), tc.in)
			if got := errorType(t, err); got != lambdafn.ErrNameBadEvent {
				t.Errorf("errorType %s, want %s", got, lambdafn.ErrNameBadEvent)
			}
		})
	}
}

func TestTimerRecordsEachFireOnce(t *testing.T) {
	f := newFixture(t)
	h := lambdafn.NewTimer(f.deps)
	in := lambdafn.TimerEvent{Rule: "x.y", Trigger: "core.IntervalTimer", Parameters: map[string]any{"unit": "minutes", "delta": 5.0}, ScheduledTime: "2026-11-30T01:05:00Z"}
	first, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.Handle(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || !again.Duplicate || again.TriggerInstanceID != first.TriggerInstanceID {
		t.Errorf("fires = %+v then %+v, want one trigger instance, the second a duplicate", first, again)
	}
	evs := f.events.ofType("core.IntervalTimer")
	if len(evs) == 0 {
		t.Fatal("no event put on the bus")
	}
	p, _ := evs[0]["payload"].(map[string]any)
	if evs[0]["trigger_instance_id"] != first.TriggerInstanceID || p["executed_at"] != "2026-11-30T01:05:00Z" {
		t.Errorf("event detail = %v", evs[0])
	}
	if _, err := h.Handle(context.Background(), lambdafn.TimerEvent{Trigger: "core.IntervalTimer", ScheduledTime: "yesterday"}); errorType(t, err) != lambdafn.ErrNameBadEvent {
		t.Errorf("a bad scheduled_time is not a bwc.BadEvent")
	}
}

const parentARN = "arn:aws:states:us-east-1:000000000000:execution:bwc-examples_remediate_disk:ex-parent"

func createParent(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.store.CreateExecution(context.Background(), store.Execution{
		ID: "ex-parent", Action: "examples.remediate_disk", Runner: "workflow", Status: store.StatusRunning,
		StartedAt: time.Now(), Context: store.ExecutionContext{User: "rules", Rule: "examples.disk_alert", TraceTag: "trace-p"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunnerRunsWorkflowTasksAsChildExecutions(t *testing.T) {
	f := newFixture(t)
	createParent(t, f)
	h := lambdafn.NewRunner(f.deps)
	for _, tc := range []struct {
		task, cmd  string
		wantErr    string
		wantStatus store.ExecutionStatus
		wantOutput string
	}{
		{task: "ok", cmd: "echo hello", wantStatus: store.StatusSucceeded, wantOutput: "hello"},
		{task: "fails", cmd: "echo oops >&2; exit 3", wantErr: "bwc.ActionFailed", wantStatus: store.StatusFailed, wantOutput: "oops"},
	} {
		t.Run(tc.task, func(t *testing.T) {
			ctx := context.Background()
			res, err := h.Handle(ctx, lambdafn.RunnerEvent{
				Action:     "core.local",
				Parameters: map[string]any{"cmd": tc.cmd},
				Context:    map[string]any{"task": tc.task, "workflow": "examples.remediate_disk", "workflow_execution": parentARN},
			})
			if tc.wantErr != "" {
				if got := errorType(t, err); got != tc.wantErr {
					t.Errorf("errorType %s, want %s", got, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if m, _ := res.(map[string]any); !strings.Contains(m["stdout"].(string), "hello") {
				t.Errorf("result %v, want stdout hello", res)
			}
			page, err := f.store.ListExecutions(ctx, store.ExecutionQuery{ParentID: "ex-parent"})
			if err != nil {
				t.Fatal(err)
			}
			var child *store.Execution
			for i, c := range page.Items {
				if c.Context.WorkflowTask == tc.task {
					child = &page.Items[i]
				}
			}
			if child == nil {
				t.Fatalf("no child execution for task %s among %d", tc.task, len(page.Items))
			}
			if child.Status != tc.wantStatus || child.Context.TraceTag != "trace-p" || child.Action != "core.local" {
				t.Errorf("child = %s %s trace %q, want core.local %s trace-p", child.Action, child.Status, child.Context.TraceTag, tc.wantStatus)
			}
			out, err := f.store.ListOutput(ctx, child.ID, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var text strings.Builder
			for _, c := range out {
				text.WriteString(c.Data)
			}
			if !strings.Contains(text.String(), tc.wantOutput) {
				t.Errorf("output %q, want %q in it", text.String(), tc.wantOutput)
			}
			found := false
			for _, d := range f.events.ofType("core.actiontrigger") {
				p, _ := d["payload"].(map[string]any)
				if p["execution_id"] == child.ID && p["status"] == string(tc.wantStatus) {
					found = true
				}
			}
			if !found {
				t.Errorf("no core.actiontrigger for %s", child.ID)
			}
		})
	}
}

func TestRunnerAndCompletionRunTheActionMachine(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run := lambdafn.NewRunner(f.deps)
	done := lambdafn.NewCompletion(f.deps)
	machine := "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-bwc_action"
	for _, tc := range []struct {
		id, cmd   string
		skipRun   bool // the runner never answered (it crashed, or timed out)
		sfnStatus string
		sfnError  string
		wantErr   string
		want      store.ExecutionStatus
		wantName  string // the result's error name
		wantKey   string // a key the result has
	}{
		{id: "ex-ok", cmd: "echo fine", sfnStatus: "SUCCEEDED", want: store.StatusSucceeded, wantKey: "stdout"},
		{id: "ex-bad", cmd: "echo failing; exit 4", sfnStatus: "FAILED", wantErr: "bwc.ActionFailed", want: store.StatusFailed, wantName: "bwc.ActionFailed", wantKey: "return_code"},
		{id: "ex-crash", cmd: "true", skipRun: true, sfnStatus: "FAILED", sfnError: "Lambda.Unknown", want: store.StatusFailed, wantName: "Lambda.Unknown"},
		{id: "ex-abort", cmd: "true", skipRun: true, sfnStatus: "ABORTED", want: store.StatusCanceled, wantName: "bwc.ActionCanceled"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			_, err := f.store.CreateExecution(ctx, store.Execution{
				ID: tc.id, Action: "core.local", Runner: "local-shell-cmd", Status: store.StatusScheduled, StartedAt: time.Now(),
				Parameters: map[string]any{"cmd": tc.cmd}, Context: store.ExecutionContext{User: "admin", TraceTag: "tt-" + tc.id},
			})
			if err != nil {
				t.Fatal(err)
			}
			arn := "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:" + tc.id
			ev := lambdafn.StatusChangeEvent{Source: "aws.states", DetailType: "Step Functions Execution Status Change", Detail: lambdafn.StatusChange{
				ExecutionARN: arn, StateMachineARN: machine, Name: tc.id, Status: tc.sfnStatus, StartDate: time.Now().UnixMilli(),
			}}
			if tc.sfnError != "" {
				ev.Detail.Error = aws.String(tc.sfnError)
				ev.Detail.Cause = aws.String(`{"errorMessage":"the function crashed","errorType":"Runtime.ExitError"}`)
			}
			if !tc.skipRun {
				res, err := run.Handle(ctx, lambdafn.RunnerEvent{Action: "core.local", Parameters: map[string]any{"cmd": tc.cmd}, Context: map[string]any{"user": "admin"}, Execution: arn})
				if tc.wantErr != "" {
					typ := errorType(t, err)
					if typ != tc.wantErr {
						t.Errorf("errorType %s, want %s", typ, tc.wantErr)
					}
					ev.Detail.Error = aws.String(typ)
					ev.Detail.Cause = aws.String(`{"errorMessage":"exit status 4","errorType":"` + typ + `"}`)
				} else {
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := json.Marshal(res)
					ev.Detail.Output = aws.String(string(raw))
				}
				// The runner records the end itself, as the embedded executor.
				mid, err := f.store.GetExecution(ctx, tc.id)
				if err != nil {
					t.Fatal(err)
				}
				if mid.Status != tc.want {
					t.Errorf("after the runner, status %s, want %s", mid.Status, tc.want)
				}
			}
			first, err := done.Handle(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			again, err := done.Handle(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if first.Recorded != tc.skipRun || again.Recorded || first.Status != string(tc.want) {
				t.Errorf("completion = %+v then %+v, want %s, recorded by the completion function: %v", first, again, tc.want, tc.skipRun)
			}
			ex, err := f.store.GetExecution(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			var result map[string]any
			_ = json.Unmarshal(ex.Result, &result)
			e, _ := result["error"].(map[string]any)
			if tc.wantName != "" && e["name"] != tc.wantName {
				t.Errorf("result %v, want error %s", result, tc.wantName)
			}
			if _, ok := result[tc.wantKey]; tc.wantKey != "" && !ok {
				t.Errorf("result %v, want %s in it (the action's own result)", result, tc.wantKey)
			}
			n := 0
			for _, d := range f.events.ofType("core.actiontrigger") {
				if p, _ := d["payload"].(map[string]any); p["execution_id"] == tc.id {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d core.actiontrigger events for %s, want 1", n, tc.id)
			}
		})
	}
}

func TestCompletionRecordsDirectStarts(t *testing.T) {
	f := newFixture(t)
	done := lambdafn.NewCompletion(f.deps)
	ev := lambdafn.StatusChangeEvent{Detail: lambdafn.StatusChange{
		ExecutionARN:    "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:eb-123",
		StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-bwc_action",
		Name:            "eb-123", Status: "SUCCEEDED", StartDate: time.Now().UnixMilli(),
		Input:  aws.String(`{"action": "core.noop", "parameters": {}, "context": {"rule": "x.direct", "trace_tag": "tt-d"}}`),
		Output: aws.String(`{"ok": true}`),
	}}
	if _, err := done.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	ex, err := f.store.GetExecution(context.Background(), "eb-123")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Action != "core.noop" || ex.Status != store.StatusSucceeded || ex.Context.Rule != "x.direct" || string(ex.Result) != `{"ok":true}` {
		t.Errorf("execution = %s %s rule %q result %s", ex.Action, ex.Status, ex.Context.Rule, ex.Result)
	}
	// An output over 256 KiB is not in the event: it is read with
	// DescribeExecution.
	big := strings.Repeat("x", 300<<10)
	ev.Detail.Name, ev.Detail.ExecutionARN, ev.Detail.Output = "eb-big", "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:eb-big", nil
	f.sfn.outputs = map[string]string{ev.Detail.ExecutionARN: `{"big": "` + big + `"}`}
	if _, err := done.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if ex, err := f.store.GetExecution(context.Background(), "eb-big"); err != nil || len(ex.Result) < 300<<10 {
		t.Errorf("large output: %d bytes recorded (%v)", len(ex.Result), err)
	}
	ev.Detail.StateMachineARN = "arn:aws:states:us-east-1:000000000000:stateMachine:someone-else"
	ev.Detail.Name, ev.Detail.ExecutionARN = "other", "arn:aws:states:us-east-1:000000000000:execution:someone-else:other"
	if _, err := done.Handle(context.Background(), ev); errorType(t, err) != lambdafn.ErrNameInternal {
		t.Errorf("an execution of another machine was not refused")
	}
}

func createKey(t *testing.T, f *fixture) {
	t.Helper()
	_, err := f.store.CreateAPIKey(context.Background(), store.APIKey{ID: "admin", KeyHash: store.HashAPIKey(apiKey), User: "admin", Role: "admin", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
}

func httpEvent(method, path, body string, headers map[string]string) events.APIGatewayV2HTTPRequest {
	h := map[string]string{"content-type": "application/json", "x-bwc-api-key": apiKey}
	for k, v := range headers {
		h[k] = v
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RawPath: path, Headers: h, Body: body}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = path
	ev.RequestContext.HTTP.SourceIP = "198.51.100.7"
	return ev
}

func TestWebhookThroughAPIGateway(t *testing.T) {
	f := newFixture(t)
	createKey(t, f)
	h, err := lambdafn.NewHTTP(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "web-1", "mountpoint": "/"}}`
	var ids []string
	for i := range 2 {
		resp, err := h.Handle(context.Background(), httpEvent("POST", "/api/v1/webhooks/monitoring/alert", body, map[string]string{"x-bwc-event-id": "delivery-1"}))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 202 {
			t.Fatalf("delivery %d: status %d: %s", i, resp.StatusCode, resp.Body)
		}
		var acc struct {
			TriggerInstanceID string `json:"trigger_instance_id"`
			Duplicate         bool   `json:"duplicate"`
		}
		if err := json.Unmarshal([]byte(resp.Body), &acc); err != nil {
			t.Fatal(err)
		}
		if acc.Duplicate != (i == 1) {
			t.Errorf("delivery %d: duplicate %v", i, acc.Duplicate)
		}
		ids = append(ids, acc.TriggerInstanceID)
	}
	if ids[0] != ids[1] {
		t.Errorf("one delivery id, two trigger instances: %v", ids)
	}
	evs := f.events.ofType("core.webhook")
	if len(evs) == 0 {
		t.Fatal("nothing put on the bus")
	}
	params, _ := evs[0]["trigger_parameters"].(map[string]any)
	if evs[0]["trigger_instance_id"] != ids[0] || params["url"] != "monitoring/alert" {
		t.Errorf("event detail = %v", evs[0])
	}
	resp, err := h.Handle(context.Background(), httpEvent("POST", "/api/v1/webhooks/monitoring/alert", body, map[string]string{"x-bwc-api-key": "wrong"}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 401 {
		t.Errorf("wrong API key: status %d, want 401", resp.StatusCode)
	}
}

func TestInquiryAnswersTheTaskToken(t *testing.T) {
	f := newFixture(t)
	createKey(t, f)
	createParent(t, f)
	ctx := context.Background()
	res, err := lambdafn.NewRunner(f.deps).Handle(ctx, lambdafn.RunnerEvent{
		Action: "core.ask",
		Parameters: map[string]any{"route": "ops", "schema": map[string]any{
			"type": "object", "required": []any{"approved"}, "properties": map[string]any{"approved": map[string]any{"type": "boolean"}},
		}},
		Context:   map[string]any{"task": "approve", "workflow": "examples.remediate_disk", "workflow_execution": parentARN},
		TaskToken: "token-1",
	})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.(map[string]any)["inquiry"].(string)
	inq, err := f.store.GetInquiry(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if inq.TaskToken != "token-1" || inq.Status != store.InquiryPending {
		t.Fatalf("inquiry = %+v", inq)
	}
	h, err := lambdafn.NewHTTP(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"not matching the schema", `{"response": {"approved": "yes"}}`, 400},
		{"too large for Step Functions", `{"response": {"approved": true, "note": "` + strings.Repeat("n", 300<<10) + `"}}`, 400},
		{"valid", `{"response": {"approved": true}}`, 200},
		{"answered already", `{"response": {"approved": false}}`, 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := h.Handle(ctx, httpEvent("POST", "/api/v1/inquiries/"+id+"/respond", tc.body, nil))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %.300s", resp.StatusCode, tc.want, resp.Body)
			}
		})
	}
	if len(f.sfn.successes) != 1 || aws.ToString(f.sfn.successes[0].TaskToken) != "token-1" || aws.ToString(f.sfn.successes[0].Output) != `{"response":{"approved":true}}` {
		t.Errorf("SendTaskSuccess calls = %+v", f.sfn.successes)
	}
	ex, err := f.store.GetExecution(ctx, inq.ExecutionID)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status != store.StatusSucceeded || ex.ParentID != "ex-parent" {
		t.Errorf("core.ask execution %s parent %q, want succeeded under ex-parent", ex.Status, ex.ParentID)
	}
}

// TestSignedWebhook: a webhook whose rule declares a GitHub signature is
// verified with the secret from the datastore; the API key does not
// replace the signature.
func TestSignedWebhook(t *testing.T) {
	f := newFixture(t, filepath.Join("..", "..", "..", "tests", "testdata", "signed"))
	createKey(t, f)
	ctx := context.Background()
	h, err := lambdafn.NewHTTP(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"ref": "refs/heads/main"}`
	send := func(headers map[string]string) int {
		t.Helper()
		resp, err := h.Handle(ctx, httpEvent("POST", "/api/v1/webhooks/e2esig/github", body, headers))
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := send(nil); code != 500 && code != 401 {
		t.Errorf("no secret stored, API key only: HTTP %d, want a refusal", code)
	}
	if _, err := f.store.PutKeyValue(ctx, store.KeyValue{KeyRef: store.KeyRef{Scope: store.ScopeSystem, Name: "e2e_github_secret"}, Value: "s3cret", Secret: true}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"API key, no signature", nil, 401},
		{"wrong secret", map[string]string{webhook.GitHubHeader: webhook.SignGitHub("nope", []byte(body))}, 401},
		{"signed", map[string]string{webhook.GitHubHeader: webhook.SignGitHub("s3cret", []byte(body))}, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := send(tc.headers); code != tc.want {
				t.Errorf("HTTP %d, want %d", code, tc.want)
			}
		})
	}
	if n := len(f.events.ofType("core.webhook")); n != 1 {
		t.Errorf("%d events put, want 1 (the signed request)", n)
	}
}

// TestRunnerTakesPreparedParameters: the action machine's input carries
// parameters the enforcer or the API validated and defaulted (immutable
// defaults included); the runner runs them as they are.
func TestRunnerTakesPreparedParameters(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a := f.deps.Content.Packs.Action("core.echo")
	prep, err := (&enforcer.Validator{}).Parameters(ctx, a, map[string]any{"message": "hi there"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateExecution(ctx, store.Execution{ID: "ex-echo", Action: a.Ref, Runner: a.RunnerType, Status: store.StatusScheduled, StartedAt: time.Now(), Parameters: prep.Parameters}); err != nil {
		t.Fatal(err)
	}
	res, err := lambdafn.NewRunner(f.deps).Handle(ctx, lambdafn.RunnerEvent{Action: a.Ref, Parameters: prep.Parameters,
		Execution: "arn:aws:states:us-east-1:000000000000:execution:bwc-bwc_action:ex-echo"})
	if err != nil {
		t.Fatalf("prepared parameters refused: %v", err)
	}
	if m, _ := res.(map[string]any); !strings.Contains(fmt.Sprint(m["stdout"]), "hi there") {
		t.Errorf("result %v, want stdout hi there", res)
	}
}

// TestAWSEventShapes feeds the handlers events in the shapes AWS sends
// (testdata/): a Step Functions status change as EventBridge delivers it,
// and an API Gateway HTTP API payload 2.0 request.
func TestAWSEventShapes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	read := func(name string, v any) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	t.Run("status change", func(t *testing.T) {
		var ev lambdafn.StatusChangeEvent
		read("status-change.json", &ev)
		if _, err := f.store.CreateExecution(ctx, store.Execution{ID: "ex-sample", Action: "examples.remediate_disk", Runner: "workflow", Status: store.StatusScheduled, StartedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		res, err := lambdafn.NewCompletion(f.deps).Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := f.store.GetExecution(ctx, "ex-sample")
		if err != nil {
			t.Fatal(err)
		}
		if !res.Recorded || ex.Status != store.StatusSucceeded || string(ex.Result) != `{"cleaned":false,"usage":23}` {
			t.Errorf("recorded %v: %s %s", res.Recorded, ex.Status, ex.Result)
		}
	})
	t.Run("API Gateway request", func(t *testing.T) {
		var ev events.APIGatewayV2HTTPRequest
		read("apigw-health.json", &ev)
		h, err := lambdafn.NewHTTP(f.deps, "v-test")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.Handle(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, "v-test") || !strings.HasPrefix(resp.Headers["Content-Type"], "application/json") {
			t.Errorf("health: %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
		}
	})
}

func TestReadEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr bool
		check   func(lambdafn.Env) bool
	}{
		{"no table", map[string]string{}, true, nil},
		{"defaults", map[string]string{"BWC_TABLE": "t", "LAMBDA_TASK_ROOT": "/var/task"}, false, func(e lambdafn.Env) bool {
			return e.EventBus == "default" && e.Name == "bwc" && len(e.Packs) == 1 && e.Packs[0] == "/var/task/packs"
		}},
		{"given", map[string]string{"BWC_TABLE": "t", "BWC_EVENT_BUS": "b", "BWC_NAME": "prod", "BWC_PACKS": "/a" + string(os.PathListSeparator) + "/b", "BWC_ACCOUNT": "000000000000"}, false, func(e lambdafn.Env) bool {
			return e.EventBus == "b" && e.Name == "prod" && len(e.Packs) == 2 && e.Account == "000000000000"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := lambdafn.ReadEnv(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, lambdafn.ErrConfig)) {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if tc.check != nil && !tc.check(e) {
				t.Errorf("env %+v", e)
			}
		})
	}
}

// TestAPIStartsAndStopsExecutions: the api function's runs start Step
// Functions executions, its cancels stop them, and what Step Functions
// cannot do is a 409.
func TestAPIStartsAndStopsExecutions(t *testing.T) {
	f := newFixture(t)
	createKey(t, f)
	ctx := context.Background()
	h, err := lambdafn.NewHTTP(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(ctx, httpEvent("POST", "/api/v1/executions", `{"action": "core.local", "parameters": {"cmd": "sleep 1"}}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(resp.Body), &ex); err != nil || resp.StatusCode != 201 && resp.StatusCode != 202 && resp.StatusCode != 200 {
		t.Fatalf("run: HTTP %d %s", resp.StatusCode, resp.Body)
	}
	if len(f.sfn.starts) != 1 || aws.ToString(f.sfn.starts[0].Name) != ex.ID ||
		aws.ToString(f.sfn.starts[0].StateMachineArn) != "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-bwc_action" ||
		!strings.Contains(aws.ToString(f.sfn.starts[0].Input), `"user":"admin"`) {
		t.Fatalf("StartExecution calls %+v for execution %s", f.sfn.starts, ex.ID)
	}
	for _, tc := range []struct {
		name, path string
		want       int
	}{
		{"invalid parameters", "/api/v1/executions", 400},
		{"pause", "/api/v1/executions/" + ex.ID + "/pause", 409},
		{"cancel", "/api/v1/executions/" + ex.ID + "/cancel", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := "{}"
			if tc.name == "invalid parameters" {
				body = `{"action": "core.local", "parameters": {"nope": 1}}`
			}
			resp, err := h.Handle(ctx, httpEvent("POST", tc.path, body, nil))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("HTTP %d, want %d: %s", resp.StatusCode, tc.want, resp.Body)
			}
		})
	}
	if len(f.sfn.stops) != 1 || !strings.HasSuffix(aws.ToString(f.sfn.stops[0].ExecutionArn), ":execution:bwc-bwc_action:"+ex.ID) {
		t.Errorf("StopExecution calls %+v", f.sfn.stops)
	}
	got, err := f.store.GetExecution(ctx, ex.ID)
	if err != nil || got.Status != store.StatusCanceling {
		t.Errorf("after cancel: %s (%v), want canceling (the completion function records canceled)", got.Status, err)
	}
}
