package cost

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Run is what one typical run of a state machine does: the states it
// enters and the work they start.
type Run struct {
	// Transitions are the states entered (Step Functions bills each).
	Transitions int `json:"state_transitions"`
	// Tasks are the Task states that invoke the runner function.
	Tasks int `json:"runner_tasks"`
	// Inquiries are the tasks that wait for a task token (core.ask).
	Inquiries int `json:"inquiries"`
	// Children are the state machines started by states:startExecution
	// tasks, by their definition substitution (StateMachineArn_...).
	Children []string `json:"children,omitempty"`
	// LogEvents are the execution history events Step Functions logs at
	// LogLevel ALL: started and ended, entered and exited per state, and
	// scheduled, started and ended per task.
	LogEvents int `json:"log_events"`
}

type aslState struct {
	Type      string                  `json:"Type"`
	Next      string                  `json:"Next"`
	End       bool                    `json:"End"`
	Default   string                  `json:"Default"`
	Choices   []struct{ Next string } `json:"Choices"`
	Resource  string                  `json:"Resource"`
	Arguments json.RawMessage         `json:"Arguments"`
	Branches  []aslMachine            `json:"Branches"`
	Processor *aslMachine             `json:"ItemProcessor"`
	Iterator  *aslMachine             `json:"Iterator"`
}

type aslMachine struct {
	StartAt string              `json:"StartAt"`
	States  map[string]aslState `json:"States"`
}

// TypicalRun walks an ASL definition along the path a typical run takes:
// every task succeeds, a Choice takes its first rule (a compiled
// workflow's first `next` of a task, its success path), a Map runs its
// processor once (one item), a Parallel runs every branch. A state reached
// a second time ends the walk (a loop is counted once). It is an estimate:
// real runs take other branches, retry, and map over more items.
func TypicalRun(definition []byte) (Run, error) {
	var m aslMachine
	if err := json.Unmarshal(definition, &m); err != nil {
		return Run{}, fmt.Errorf("reading the state machine: %w", err)
	}
	var r Run
	if err := r.walk(m, "", 0); err != nil {
		return Run{}, err
	}
	r.LogEvents += 2 // ExecutionStarted and the final event
	return r, nil
}

func (r *Run) walk(m aslMachine, at string, depth int) error {
	if depth > 8 {
		return fmt.Errorf("state machine%s: states nested more than 8 deep", at)
	}
	seen := map[string]bool{}
	name := m.StartAt
	for name != "" && !seen[name] {
		seen[name] = true
		s, ok := m.States[name]
		if !ok {
			return fmt.Errorf("state machine%s: state %q is not defined", at, name)
		}
		r.Transitions++
		r.LogEvents += 2
		switch s.Type {
		case "Task":
			r.LogEvents += 3
			r.task(s)
		case "Parallel":
			for i, b := range s.Branches {
				if err := r.walk(b, fmt.Sprintf("%s: %s branch %d", at, name, i), depth+1); err != nil {
					return err
				}
			}
		case "Map":
			p := s.Processor
			if p == nil {
				p = s.Iterator
			}
			if p != nil {
				if err := r.walk(*p, at+": "+name, depth+1); err != nil {
					return err
				}
			}
		}
		switch {
		case s.End, s.Type == "Succeed", s.Type == "Fail":
			name = ""
		case s.Type == "Choice" && len(s.Choices) > 0:
			name = s.Choices[0].Next
		case s.Type == "Choice":
			name = s.Default
		default:
			name = s.Next
		}
	}
	return nil
}

func (r *Run) task(s aslState) {
	var args struct {
		FunctionName    string `json:"FunctionName"`
		StateMachineArn string `json:"StateMachineArn"`
	}
	_ = json.Unmarshal(s.Arguments, &args) // arguments may be a JSONata string: then none of these
	switch {
	case strings.HasPrefix(s.Resource, "arn:aws:states:::lambda:invoke") && args.FunctionName == "${RunnerFunctionArn}":
		r.Tasks++
		if strings.HasSuffix(s.Resource, ".waitForTaskToken") {
			r.Inquiries++
		}
	case strings.HasPrefix(s.Resource, "arn:aws:states:::states:startExecution"):
		if sub, ok := strings.CutPrefix(args.StateMachineArn, "${"); ok {
			r.Children = append(r.Children, strings.TrimSuffix(sub, "}"))
		}
	}
}
