package asl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ErrNoTestCase is returned by MockConfig.Port for a state machine or test
// case the configuration does not have.
var ErrNoTestCase = errors.New("no such test case in the mock configuration")

// MockConfig is a mock configuration in the format of AWS Step Functions
// Local (also read by LocalStack):
//
//	{"StateMachines": {"<machine>": {"TestCases": {"<case>": {"<state>": "<response>"}}}},
//	 "MockedResponses": {"<response>": {"0": {"Return": ...}, "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}
//
// Each mocked response maps invocation numbers (from 0; "n" or "n-m") to a
// Return (the task's result) or a Throw (the task's error).
type MockConfig struct {
	StateMachines   map[string]mockMachine                `json:"StateMachines"`
	MockedResponses map[string]map[string]json.RawMessage `json:"MockedResponses"`
}

type mockMachine struct {
	TestCases map[string]map[string]string `json:"TestCases"`
}

type mockAnswer struct {
	Return json.RawMessage `json:"Return"`
	Throw  *struct {
		Error string `json:"Error"`
		Cause string `json:"Cause"`
	} `json:"Throw"`
}

// ParseMockConfig decodes and checks a mock configuration: every test case
// names existing responses, and every response entry has a valid
// invocation range and exactly one of Return and Throw.
func ParseMockConfig(data []byte) (*MockConfig, error) {
	var mc MockConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&mc); err != nil {
		return nil, fmt.Errorf("decoding mock configuration: %w", err)
	}
	for mname, m := range mc.StateMachines {
		for cname, tc := range m.TestCases {
			for state, resp := range tc {
				if _, ok := mc.MockedResponses[resp]; !ok {
					return nil, fmt.Errorf("mock configuration: StateMachines.%s.TestCases.%s.%s names response %q, which MockedResponses does not define", mname, cname, state, resp)
				}
			}
		}
	}
	for name, entries := range mc.MockedResponses {
		for key, raw := range entries {
			if _, _, err := parseRange(key); err != nil {
				return nil, fmt.Errorf("mock configuration: MockedResponses.%s: %w", name, err)
			}
			var a mockAnswer
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, fmt.Errorf("mock configuration: MockedResponses.%s.%s: %w", name, key, err)
			}
			if (a.Return == nil) == (a.Throw == nil) {
				return nil, fmt.Errorf("mock configuration: MockedResponses.%s.%s: needs exactly one of Return and Throw", name, key)
			}
		}
	}
	return &mc, nil
}

func parseRange(key string) (int, int, error) {
	lo, hi, isRange := strings.Cut(key, "-")
	a, err := strconv.Atoi(strings.TrimSpace(lo))
	if err != nil || a < 0 {
		return 0, 0, fmt.Errorf("invocation key %q: expected \"n\" or \"n-m\"", key)
	}
	if !isRange {
		return a, a, nil
	}
	b, err := strconv.Atoi(strings.TrimSpace(hi))
	if err != nil || b < a {
		return 0, 0, fmt.Errorf("invocation key %q: expected \"n\" or \"n-m\" with n <= m", key)
	}
	return a, b, nil
}

// TestCases lists the test cases of a state machine, sorted.
func (mc *MockConfig) TestCases(machine string) []string {
	var out []string
	for name := range mc.StateMachines[machine].TestCases {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Port returns a TaskPort answering from a test case. Each state counts
// its own invocations (retries included); a task with no mocked response
// for its state or invocation fails with States.Runtime and a cause that
// says what is missing. For .waitForTaskToken tasks the mocked Return is
// the callback's result (sent as if by SendTaskSuccess).
func (mc *MockConfig) Port(machine, testCase string) (*MockPort, error) {
	m, ok := mc.StateMachines[machine]
	if !ok {
		return nil, fmt.Errorf("state machine %q: %w (it has: %s)", machine, ErrNoTestCase, strings.Join(mc.machineNames(), ", "))
	}
	tc, ok := m.TestCases[testCase]
	if !ok {
		return nil, fmt.Errorf("test case %q of state machine %q: %w (it has: %s)", testCase, machine, ErrNoTestCase, strings.Join(mc.TestCases(machine), ", "))
	}
	return &MockPort{mc: mc, machine: machine, testCase: testCase, states: tc, calls: map[string]int{}}, nil
}

func (mc *MockConfig) machineNames() []string {
	var out []string
	for n := range mc.StateMachines {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// MockPort is the TaskPort of one mock test case. Callbacks holds the
// results of .waitForTaskToken tasks, to send with SendTaskSuccess or
// SendTaskFailure after Run (RunMocked does it).
type MockPort struct {
	mc       *MockConfig
	machine  string
	testCase string
	states   map[string]string
	mu       sync.Mutex
	calls    map[string]int
	pending  map[string]mockAnswer
}

// RunTask answers from the test case.
func (p *MockPort) RunTask(_ context.Context, req *TaskRequest) (TaskResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.calls[req.StateName]
	p.calls[req.StateName] = n + 1
	resp, ok := p.states[req.StateName]
	if !ok {
		return TaskResult{}, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("no mocked response for state %q in test case %q of state machine %q", req.StateName, p.testCase, p.machine)}
	}
	var answer *mockAnswer
	for key, raw := range p.mc.MockedResponses[resp] {
		lo, hi, _ := parseRange(key)
		if n >= lo && n <= hi {
			var a mockAnswer
			_ = json.Unmarshal(raw, &a)
			answer = &a
			break
		}
	}
	if answer == nil {
		return TaskResult{}, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("mocked response %q has no entry for invocation %d of state %q", resp, n, req.StateName)}
	}
	if req.Pattern == "waitForTaskToken" {
		if p.pending == nil {
			p.pending = map[string]mockAnswer{}
		}
		p.pending[req.TaskToken] = *answer
		return TaskResult{Pending: true}, nil
	}
	if answer.Throw != nil {
		return TaskResult{}, &Failure{Name: answer.Throw.Error, Cause: answer.Throw.Cause}
	}
	var out any
	if err := json.Unmarshal(answer.Return, &out); err != nil {
		return TaskResult{}, &Failure{Name: ErrRuntime, Cause: fmt.Sprintf("mocked response %q: %v", resp, err)}
	}
	return TaskResult{Output: out}, nil
}

// RunMocked runs an execution to its end, answering the .waitForTaskToken
// tasks of a MockPort from their mocked responses.
func RunMocked(ctx context.Context, x *Execution, p *MockPort) error {
	for i := 0; ; i++ {
		if err := x.RunUntilDone(ctx); err != nil {
			return err
		}
		if x.Done() {
			return nil
		}
		p.mu.Lock()
		answers := p.pending
		p.pending = nil
		p.mu.Unlock()
		if len(answers) == 0 {
			return nil
		}
		tokens := make([]string, 0, len(answers))
		for t := range answers {
			tokens = append(tokens, t)
		}
		sort.Strings(tokens)
		for _, tok := range tokens {
			a := answers[tok]
			var err error
			if a.Throw != nil {
				err = x.SendTaskFailure(ctx, tok, a.Throw.Error, a.Throw.Cause)
			} else {
				var out any
				if uerr := json.Unmarshal(a.Return, &out); uerr != nil {
					return fmt.Errorf("decoding a mocked callback result: %w", uerr)
				}
				err = x.SendTaskSuccess(ctx, tok, out)
			}
			if err != nil && !errors.Is(err, ErrTaskTokenNotFound) {
				return err
			}
		}
	}
}
