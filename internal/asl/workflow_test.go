package asl_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
)

// TestCompiledParentWorkflow runs the workflow compiler's examples.parent
// machine (testdata/machines/parent.asl.json) with its child execution run
// in-process by ChildExecutions and its runner Lambda by LambdaFunctions.
func TestCompiledParentWorkflow(t *testing.T) {
	def, err := os.ReadFile("testdata/machines/parent.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	const childARN = "arn:aws:states:us-east-1:123456789012:stateMachine:examples-child"
	subs := asl.WithSubstitutions(map[string]string{
		"StateMachineArn_examples_child": childARN,
		"RunnerFunctionArn":              "arn:aws:lambda:us-east-1:123456789012:function:runner",
	})
	for _, tc := range []struct {
		name, child, want string
	}{
		{"child succeeds", `{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {"answer": "{% '42 for ' & $states.input.parameters.host %}"}, "End": true}}}`, "42 for web1"},
		{"child fails", `{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "no disk"}}}`, "child failed: States.TaskFailed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var echoed []any
			lambdas := &asl.LambdaFunctions{Invoke: func(_ context.Context, fn string, event any) (any, error) {
				echoed = append(echoed, event.(map[string]any)["parameters"].(map[string]any)["message"])
				return map[string]any{"stdout": "ok"}, nil
			}}
			children := &asl.ChildExecutions{Next: lambdas}
			in := asl.New(asl.WithTaskPort(children), asl.WithClock(asl.NewManualClock(time.Unix(0, 0))))
			children.Interpreter = in
			child, err := in.Parse([]byte(tc.child))
			if err != nil {
				t.Fatal(err)
			}
			children.Machines = func(arn string) (*asl.Machine, error) {
				if arn != childARN {
					return nil, errors.New("no such machine")
				}
				return child, nil
			}
			m, err := in.Parse(def, subs)
			if err != nil {
				t.Fatal(err)
			}
			x, err := in.Start(context.Background(), m, map[string]any{"host": "web1"}, asl.StartOptions{StateMachineName: "examples-parent"})
			if err != nil {
				t.Fatal(err)
			}
			d := x.Describe()
			if d.Status != asl.StatusSucceeded {
				t.Fatalf("%s %s %s", d.Status, d.Error, d.Cause)
			}
			if got := d.Output.(map[string]any)["answer"]; got != tc.want {
				t.Errorf("answer %v, want %q", got, tc.want)
			}
			if len(echoed) != 1 || echoed[0] != tc.want {
				t.Errorf("the report task echoed %v, want [%q]", echoed, tc.want)
			}
		})
	}
}
