package lambdafn_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/bwc-project/bwc/internal/aws/lambdafn"
	"github.com/bwc-project/bwc/internal/pack"
	"github.com/bwc-project/bwc/internal/store"
)

// An action of runner type asl runs on its own state machine, as a
// workflow: the API starts that machine with the parameters as its input
// (what the embedded engine gives the machine), and the completion
// function records its end, also for a start BWC did not record.
func TestHandWrittenActionRunsOnItsMachine(t *testing.T) {
	f := newFixture(t, filepath.Join("..", "..", "..", "tests", "testdata", "packs"))
	createKey(t, f)
	ctx := context.Background()
	const machineARN = "arn:aws:states:us-east-1:000000000000:stateMachine:bwc-e2e_hand_written"
	if !f.deps.Content.HasMachine("e2e.hand_written") {
		t.Fatal("e2e.hand_written has no state machine of its own")
	}
	h, err := lambdafn.NewHTTP(f.deps, "test")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(ctx, httpEvent("POST", "/api/v1/executions", `{"action": "e2e.hand_written", "parameters": {"name": "Ann"}}`, nil))
	if err != nil {
		t.Fatal(err)
	}
	var ex store.Execution
	if err := json.Unmarshal([]byte(resp.Body), &ex); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("run: HTTP %d %s", resp.StatusCode, resp.Body)
	}
	if len(f.sfn.starts) != 1 {
		t.Fatalf("%d StartExecution calls, want 1", len(f.sfn.starts))
	}
	start := f.sfn.starts[0]
	if got := aws.ToString(start.StateMachineArn); got != machineARN || aws.ToString(start.Name) != ex.ID {
		t.Errorf("started %s named %s, want %s named %s", got, aws.ToString(start.Name), machineARN, ex.ID)
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(aws.ToString(start.Input)), &input); err != nil {
		t.Fatal(err)
	}
	if len(input) != 1 || input["name"] != "Ann" {
		t.Errorf("input %s, want the parameters {\"name\": \"Ann\"}", aws.ToString(start.Input))
	}

	done := lambdafn.NewCompletion(f.deps)
	for _, tc := range []struct {
		name, id string
		input    string
	}{
		{name: "started by the API", id: ex.ID},
		{name: "started by Step Functions", id: "sfn-1", input: `{"name": "Bo"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := lambdafn.StatusChangeEvent{Detail: lambdafn.StatusChange{
				ExecutionARN:    "arn:aws:states:us-east-1:000000000000:execution:bwc-e2e_hand_written:" + tc.id,
				StateMachineARN: machineARN,
				Name:            tc.id, Status: "SUCCEEDED", StartDate: time.Now().UnixMilli(),
				Output: aws.String(`{"greetings": "hi / bye"}`),
			}}
			if tc.input != "" {
				ev.Detail.Input = aws.String(tc.input)
			}
			got, err := done.Handle(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Recorded {
				t.Errorf("completion %+v, want the end recorded", got)
			}
			rec, err := f.store.GetExecution(ctx, tc.id)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Action != "e2e.hand_written" || rec.Runner != pack.RunnerASL || rec.Status != store.StatusSucceeded || string(rec.Result) != `{"greetings":"hi / bye"}` {
				t.Errorf("execution = %s (%s) %s result %s, want e2e.hand_written (asl) succeeded", rec.Action, rec.Runner, rec.Status, rec.Result)
			}
			if tc.input != "" && rec.Parameters["name"] != "Bo" {
				t.Errorf("parameters %v, want the machine's input", rec.Parameters)
			}
		})
	}
}
