package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const aslOrderMachine = `{
  "StartAt": "Charge",
  "States": {
    "Charge": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "charge", "Payload.$": "$"},
      "ResultSelector": {"charged.$": "$.Payload.ok"},
      "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 60, "MaxAttempts": 1}],
      "Catch": [{"ErrorEquals": ["CardDeclined"], "Next": "Declined", "ResultPath": "$.error"}],
      "Next": "Approve"
    },
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
      "ResultPath": "$.approval",
      "Next": "Pause"
    },
    "Pause": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Declined": {"Type": "Fail", "Error": "Declined", "Cause": "card declined"}
  }
}`

const aslOrderMocks = `{
  "StateMachines": {
    "order": {
      "TestCases": {
        "happy": {"Charge": "ChargeOK", "Approve": "Approved"},
        "busyThenOK": {"Charge": "BusyThenOK", "Approve": "Approved"},
        "declined": {"Charge": "Declined"},
        "unmocked": {"Charge": "ChargeOK"}
      }
    }
  },
  "MockedResponses": {
    "ChargeOK": {"0": {"Return": {"StatusCode": 200, "Payload": {"ok": true}}}},
    "BusyThenOK": {"0": {"Throw": {"Error": "Busy", "Cause": "try later"}}, "1": {"Return": {"Payload": {"ok": "later"}}}},
    "Declined": {"0-1": {"Throw": {"Error": "CardDeclined", "Cause": "no funds"}}},
    "Approved": {"0": {"Return": {"approved": true}}}
  }
}`

func TestASLRun(t *testing.T) {
	dir := t.TempDir()
	def := filepath.Join(dir, "order.asl.json")
	mocks := filepath.Join(dir, "mocks.json")
	input := filepath.Join(dir, "input.json")
	bad := filepath.Join(dir, "bad.asl.json")
	for path, content := range map[string]string{
		def: aslOrderMachine, mocks: aslOrderMocks, input: `{"order": 7}`,
		bad: `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nope"}}}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		args      []string
		code      int
		stdout    string // exact JSON (compared as values) unless empty
		stdoutHas string
		stderrHas string
	}{
		{"mocked success through a callback and a wait", []string{"asl", "run", def, "--input", input, "--mock-config", mocks, "--test-case", "happy"}, 0,
			`{"status":"SUCCEEDED","output":{"charged":true,"approval":{"approved":true}}}`, "", ""},
		{"retry then success", []string{"asl", "run", def, "--input", input, "--mock-config", mocks, "--test-case", "busyThenOK"}, 0,
			`{"status":"SUCCEEDED","output":{"charged":"later","approval":{"approved":true}}}`, "", ""},
		{"thrown error caught, then a Fail state", []string{"asl", "run", def, "--mock-config", mocks, "--test-case", "declined"}, 1,
			`{"status":"FAILED","error":"Declined","cause":"card declined"}`, "", ""},
		{"task without a mocked response", []string{"asl", "run", def, "--mock-config", mocks, "--test-case", "unmocked"}, 1,
			"", `no mocked response for state \"Approve\" in test case \"unmocked\" of state machine \"order\"`, ""},
		{"history", []string{"asl", "run", def, "--mock-config", mocks, "--test-case", "declined", "--history"}, 1,
			"", `"type":"TaskFailed"`, ""},
		{"machine name from --name", []string{"asl", "run", def, "--mock-config", mocks, "--test-case", "happy", "--name", "other"}, 2, "", "", `state machine "other"`},
		{"unknown test case", []string{"asl", "run", def, "--mock-config", mocks, "--test-case", "nope"}, 2, "", "", `test case "nope"`},
		{"invalid definition", []string{"asl", "run", bad}, 2, "", "", `state "A", field Next: state "Nope" does not exist`},
		{"mock config without test case", []string{"asl", "run", def, "--mock-config", mocks}, 2, "", "", "go together"},
		{"validate ok", []string{"asl", "validate", def}, 0, "", "valid", ""},
		{"validate bad", []string{"asl", "validate", bad}, 1, "", "", `field Next: state "Nope" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, strings.NewReader(""), &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (stdout %q, stderr %q)", code, tc.code, stdout.String(), stderr.String())
			}
			if tc.stdout != "" {
				var got, want any
				if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
					t.Fatalf("stdout is not JSON: %q", stdout.String())
				}
				if err := json.Unmarshal([]byte(tc.stdout), &want); err != nil {
					t.Fatal(err)
				}
				gb, _ := json.Marshal(got)
				wb, _ := json.Marshal(want)
				if !bytes.Equal(gb, wb) {
					t.Errorf("stdout %s, want %s", gb, wb)
				}
			}
			if tc.stdoutHas != "" && !strings.Contains(stdout.String(), tc.stdoutHas) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.stdoutHas)
			}
			if tc.stderrHas != "" && !strings.Contains(stderr.String(), tc.stderrHas) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.stderrHas)
			}
		})
	}
}
