package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/store"
)

// checkpointer saves the checkpoints of one running workflow in the store,
// compare-and-set on their version: a stale writer (another process that
// resumed the same workflow) cannot overwrite a newer checkpoint.
type checkpointer struct {
	w       *workflowRunner
	id      string
	version int64  // the version stored by the last put (0: none)
	last    []byte // the data of the last put, to skip saving it again
	lost    bool   // a newer checkpoint than ours is stored: stop saving
}

// hasCheckpoint reports whether a workflow execution has a checkpoint.
func (w *workflowRunner) hasCheckpoint(ctx context.Context, id string) bool {
	c := &checkpointer{w: w, id: id}
	_, ok := c.load(ctx)
	return ok
}

// load reads the workflow's checkpoint, if it has one that can be read.
func (c *checkpointer) load(ctx context.Context) (checkpoint, bool) {
	var cp checkpoint
	if c.w.cps == nil {
		return cp, false
	}
	stored, err := c.w.cps.GetCheckpoint(ctx, c.id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.w.x.opts.Logger.Error("reading a workflow checkpoint", "execution", c.id, "err", err)
		}
		return cp, false
	}
	c.version = stored.Version
	if err := json.Unmarshal(stored.Data, &cp); err != nil || len(cp.ASL) == 0 {
		c.w.x.opts.Logger.Error("a workflow checkpoint cannot be decoded: starting the workflow over", "execution", c.id, "err", err)
		return checkpoint{}, false
	}
	return cp, true
}

// save stores the checkpoint of the workflow as it is now, unless it has
// not changed since the last save.
func (c *checkpointer) save(ctx context.Context, x *asl.Execution, p *taskPort) {
	if c.w.cps == nil || c.lost {
		return
	}
	snap, err := x.Snapshot()
	var b []byte
	if err == nil {
		b, err = json.Marshal(checkpoint{ASL: snap, Tasks: p.tasks, Seen: p.seen})
	}
	if err != nil {
		c.w.x.opts.Logger.Error("encoding a workflow checkpoint", "execution", c.id, "err", err)
		return
	}
	if bytes.Equal(b, c.last) {
		return
	}
	stored, err := c.w.cps.PutCheckpoint(context.WithoutCancel(ctx), store.Checkpoint{ExecutionID: c.id, Version: c.version, Data: b})
	switch {
	case errors.Is(err, store.ErrConflict):
		c.lost = true
		c.w.x.opts.Logger.Error("a newer workflow checkpoint is stored (another process runs the workflow): this one stops saving", "execution", c.id, "version", c.version, "stored", stored.Version)
	case err != nil:
		c.w.x.opts.Logger.Error("saving a workflow checkpoint", "execution", c.id, "err", err)
	default:
		c.version, c.last = stored.Version, b
	}
}

// remove deletes the checkpoint of a workflow that ended.
func (c *checkpointer) remove(ctx context.Context) {
	if c.w.cps == nil {
		return
	}
	if err := c.w.cps.DeleteCheckpoint(context.WithoutCancel(ctx), c.id); err != nil && !errors.Is(err, store.ErrNotFound) {
		c.w.x.opts.Logger.Error("deleting a workflow checkpoint", "execution", c.id, "err", err)
	}
}

func newTaskPort(w *workflowRunner, parent store.Execution, m *asl.Machine, done chan taskDone) *taskPort {
	return &taskPort{w: w, parent: parent, done: done, quit: make(chan struct{}),
		tasks: map[string]taskRef{}, seen: map[string]int{}, top: topStates(m)}
}

// topStates lists the names of a machine's top-level states (ASL state
// names are unique across the whole machine).
func topStates(m *asl.Machine) map[string]bool {
	out := map[string]bool{}
	states, _ := m.Definition()["States"].(map[string]any)
	for name := range states {
		out[name] = true
	}
	return out
}

// childID derives the id of the execution a task starts from the task's
// identity: the workflow execution, the state, the attempt (retry count),
// the action and its parameters, and how many times that same identity
// has started a child before in this run (a loop runs a task again). The
// counts are in the checkpoint, so a workflow resumed from a checkpoint
// taken before a task started its child, or started over because none was
// taken, derives the same id again and finds the child already created
// (running, or finished with its result) instead of starting it twice.
//
// Tasks that differ only by when they happen to start (two Map iterations
// with the same parameters) may trade ids after a restart; being the same
// request, either child answers either task.
func (p *taskPort) childID(req *asl.TaskRequest, action string, params map[string]any) (string, error) {
	raw, err := json.Marshal(params) // map keys sorted: a stable encoding
	if err != nil {
		return "", fmt.Errorf("encoding the parameters: %w", err)
	}
	sum := sha256.Sum256([]byte(req.StateName + "\x00" + strconv.Itoa(req.Attempt) + "\x00" + action + "\x00" + string(raw)))
	key := hex.EncodeToString(sum[:12])
	n := p.seen[key]
	p.seen[key] = n + 1
	sum = sha256.Sum256([]byte(p.parent.ID + "\x00" + key + "\x00" + strconv.Itoa(n)))
	return "ex-" + hex.EncodeToString(sum[:12]), nil
}

// historyFold follows the top-level states of an execution's history: the
// workflow's variables (as the states' Assign left them) and the state
// running now with its input.
type historyFold struct {
	events int                        // history events read so far
	vars   map[string]json.RawMessage // by name
	state  string                     // the top-level state entered last
	input  any
}

// workflowState is where the workflow is as a task of state starts: for a
// top-level state, the state with the workflow's variables and its input;
// for a state inside a Parallel branch or Map iteration, just its name (a
// run cannot start there).
func (p *taskPort) workflowState(state string) *store.WorkflowState {
	if !p.top[state] || p.x == nil {
		return &store.WorkflowState{State: state}
	}
	f := &p.fold
	if f.vars == nil {
		f.vars = map[string]json.RawMessage{}
	}
	h := p.x.History()
	for _, e := range h[min(f.events, len(h)):] {
		entered := strings.HasSuffix(e.Type, "StateEntered")
		if !entered && !strings.HasSuffix(e.Type, "StateExited") {
			continue
		}
		d := e.Details()
		name, _ := d["name"].(string)
		if !p.top[name] {
			continue
		}
		if entered {
			f.state, f.input = name, d["input"]
			continue
		}
		assigned, _ := d["assignedVariables"].(map[string]any)
		for k, v := range assigned {
			if js, ok := v.(string); ok && json.Valid([]byte(js)) {
				f.vars[k] = json.RawMessage(js)
			}
		}
	}
	f.events = len(h)
	ws := &store.WorkflowState{State: state}
	if vars, err := json.Marshal(f.vars); err == nil {
		ws.Vars = vars
	}
	if f.state == state {
		if in, err := json.Marshal(f.input); err == nil {
			ws.Input = in
		}
	}
	return ws
}
