// Package asltest runs ASL conformance cases on the interpreter: a case is
// a state machine definition, an input, the task results to replay, and
// the expected outcome (status, output or error and cause, and the types
// of the history events). docs/asl.md documents the case format.
//
// The case set in internal/asl/testdata/conformance is generated from
// LocalStack's recorded Step Functions executions by ./gencases; cases can
// also be written by hand. The replaying task port answers each Task from
// the case's tasks list and checks that the interpreter sent the recorded
// request.
//
// Run is safe for concurrent use on different cases.
package asltest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Case is one conformance case (one JSON file).
type Case struct {
	// Name identifies the case (for generated cases, the LocalStack test
	// id and the history's snapshot key).
	Name string `json:"name"`
	// Source says where the case comes from (free text).
	Source string `json:"source,omitempty"`
	// Definition is the state machine (ASL, as JSON).
	Definition map[string]any `json:"definition"`
	// Input is the execution input (any JSON value).
	Input any `json:"input"`
	// RoleARN is the execution role (the context object shows it).
	RoleARN string `json:"roleArn,omitempty"`
	// Tasks are the task results to replay, in the order the tasks run.
	Tasks []Task `json:"tasks,omitempty"`
	// Expect is the recorded outcome.
	Expect Expect `json:"expect"`
}

// Task is one task invocation to replay.
type Task struct {
	// State is the name of the Task state.
	State string `json:"state"`
	// Resource is the recorded resource (informational).
	Resource string `json:"resource,omitempty"`
	// Request, when present, is the request the interpreter must send: the
	// Lambda input, or the service integration's parameters. Strings of
	// the form "<...>" in it match any string.
	Request any `json:"request,omitempty"`
	// Submitted is the answer to the submission of a .sync or
	// .waitForTaskToken task (TaskSubmitted), if any.
	Submitted any `json:"submitted,omitempty"`
	// Output is the task's result when it succeeded.
	Output any `json:"output,omitempty"`
	// Failed marks a failure, with Error and Cause (either may be empty);
	// TimedOut marks a timeout
	// (Error is then States.Timeout or States.HeartbeatTimeout).
	Error    string `json:"error,omitempty"`
	Cause    string `json:"cause,omitempty"`
	Failed   bool   `json:"failed,omitempty"`
	TimedOut bool   `json:"timedOut,omitempty"`
}

// Expect is the recorded outcome of a case.
type Expect struct {
	// Status is SUCCEEDED, FAILED, TIMED_OUT or ABORTED.
	Status string `json:"status"`
	// Output is the execution output (SUCCEEDED).
	Output any `json:"output,omitempty"`
	// Error and Cause are the execution's error (FAILED). An absent Cause
	// is not compared.
	Error string  `json:"error,omitempty"`
	Cause *string `json:"cause,omitempty"`
	// Events are the history event types in order; absent: not compared.
	Events []string `json:"events,omitempty"`
}

// Load reads a case file.
func Load(path string) (*Case, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading case %s: %w", path, err)
	}
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("decoding case %s: %w", path, err)
	}
	if c.Name == "" {
		c.Name = strings.TrimSuffix(filepath.Base(path), ".json")
	}
	if c.Definition == nil {
		return nil, fmt.Errorf("case %s: definition is missing", path)
	}
	if c.Expect.Status == "" {
		return nil, fmt.Errorf("case %s: expect.status is missing", path)
	}
	return &c, nil
}

// LoadDir reads every *.json case file in dir (not recursively), sorted by
// file name.
func LoadDir(dir string) ([]*Case, []string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("listing cases in %s: %w", dir, err)
	}
	sort.Strings(paths)
	var cases []*Case
	for _, p := range paths {
		c, err := Load(p)
		if err != nil {
			return nil, nil, err
		}
		cases = append(cases, c)
	}
	return cases, paths, nil
}

// KnownFailures reads a known-failures file: one case per line, "name
// <TAB> reason"; blank lines and lines starting with # are ignored. Every
// entry must give a reason.
func KnownFailures(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading known failures: %w", err)
	}
	out := map[string]string{}
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, reason, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%s:%d: expected \"case name<TAB>reason\"", path, i+1)
		}
		out[name] = strings.TrimSpace(reason)
	}
	return out, nil
}
