package asl

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want string // a problem that must be reported, as Problem.String
	}{
		{"not JSON", `{`, "not valid JSON"},
		{"not an object", `[]`, "must be a JSON object"},
		{"missing StartAt", `{"States": {"A": {"Type": "Succeed"}}}`, "field StartAt: required"},
		{"StartAt names no state", `{"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}`, `field StartAt: state "B" does not exist`},
		{"unknown state type", `{"StartAt": "A", "States": {"A": {"Type": "Sleep", "End": true}}}`, `state "A", field Type: unknown state type "Sleep"`},
		{"missing Next and End", `{"StartAt": "A", "States": {"A": {"Type": "Pass"}}}`, `state "A", field Next: required: a Pass state needs Next or End: true`},
		{"Next and End", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B", "End": true}, "B": {"Type": "Succeed"}}}`, `state "A", field End: a state cannot have both Next and End: true`},
		{"missing target", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}`, `state "A", field Next: state "B" does not exist`},
		{"unreachable", `{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "B": {"Type": "Succeed"}}}`, `state "B" is not reachable from StartAt "A"`},
		{"field of another type", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Resource": "arn:x", "End": true}}}`, `state "A", field Resource: field Resource is not allowed in a Pass state`},
		{"JSONPath field in JSONata", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "$.a", "End": true}}}`, `state "A", field InputPath: field InputPath is not supported by the JSONata query language (use Arguments)`},
		{"JSONata field in JSONPath", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {}, "End": true}}}`, `state "A", field Output: field Output is only supported by the JSONata query language`},
		{"JSONPath state in JSONata machine", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}`, `state "A", field QueryLanguage: a state cannot use JSONPath`},
		{"bad JSONata", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% 1 + %}", "End": true}}}`, `state "A", field Output: invalid JSONata expression "1 +"`},
		{"bad JSONPath", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "InputPath": "a.b", "End": true}}}`, `state "A", field InputPath: invalid JSONPath "a.b"`},
		{"bad intrinsic", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.Nope(1)"}, "End": true}}}`, `state "A", field Parameters/x.$: invalid intrinsic function "States.Nope(1)": unknown function "States.Nope"`},
		{"intrinsic arity", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"x.$": "States.MathAdd(1)"}, "End": true}}}`, `States.MathAdd takes 2 arguments, found 1`},
		{"States.ALL not last in Retry", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}}}`, `state "A", field Retry/0/ErrorEquals: a retrier with States.ALL must be the last one`},
		{"States.ALL not alone", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Catch": [{"ErrorEquals": ["States.ALL", "X"], "Next": "A"}]}}}`, `States.ALL must appear alone in ErrorEquals`},
		{"reserved error name", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": [{"ErrorEquals": ["States.Oops"]}]}}}`, `state "A", field Retry/0/ErrorEquals/0: unknown error name "States.Oops": names starting with "States." are reserved`},
		{"bad BackoffRate", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 0.5}]}}}`, `field Retry/0/BackoffRate: must be a number >= 1.0`},
		{"catch without Next", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Catch": [{"ErrorEquals": ["X"]}]}}}`, `field Catch/0/Next: required`},
		{"catch target missing", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Catch": [{"ErrorEquals": ["X"], "Next": "Z"}]}}}`, `state "A", field Catch/0/Next: state "Z" does not exist`},
		{"choice without rules", `{"StartAt": "A", "States": {"A": {"Type": "Choice"}}}`, `state "A", field Choices: required`},
		{"choice rule operator", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "StringEqualz": "a", "Next": "A"}], "Default": "A"}}}`, `unknown comparison operator StringEqualz`},
		{"choice default missing", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "A"}], "Default": "B"}}}`, `state "A", field Default: state "B" does not exist`},
		{"wait needs one field", `{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true}}}`, `a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath; found 2`},
		{"task without resource", `{"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}`, `state "A", field Resource: required`},
		{"heartbeat above timeout", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "TimeoutSeconds": 5, "HeartbeatSeconds": 10, "End": true}}}`, `field HeartbeatSeconds: must be smaller than TimeoutSeconds`},
		{"parallel without branches", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true}}}`, `state "A", field Branches: required`},
		{"error inside a branch", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "C"}}}]}}}`, `state "B", field Next: state "C" does not exist`},
		{"map without processor", `{"StartAt": "A", "States": {"A": {"Type": "Map", "End": true}}}`, `state "A", field ItemProcessor: required`},
		{"result path not a reference", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a[*]", "End": true}}}`, `field ResultPath: must be a reference path`},
		{"duplicate state name in a branch", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]}}}`, `state "A": state name "A" is already used at /States/A`},
		{"bad variable name", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {"1x": 1}, "End": true}}}`, `field Assign/1x: invalid variable name "1x"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.def))
			if err == nil {
				t.Fatalf("Parse accepted the definition, want a problem %q", tc.want)
			}
			if !errors.Is(err, ErrInvalidDefinition) {
				t.Errorf("error %v does not wrap ErrInvalidDefinition", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

// TestParseAccepts checks that the machines of the workflow compiler and
// the conformance machines are valid.
func TestParseAccepts(t *testing.T) {
	paths, _ := filepath.Glob("testdata/machines/*.json")
	generated, _ := filepath.Glob("../../statemachines/*.asl.json") // the workflow compiler's goldens, when present
	paths = append(paths, generated...)
	if len(paths) == 0 {
		t.Fatal("no machines in testdata/machines")
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b, WithSubstitutions(map[string]string{"RunnerFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:runner"})); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
