package localcloud

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
)

// stored is what is kept of an execution in Config.Dir.
type stored struct {
	Machine     string                `json:"machine"` // the reference
	Snapshot    json.RawMessage       `json:"snapshot"`
	InputText   string                `json:"inputText"`
	Parent      *parentLink           `json:"parent,omitempty"`
	Children    []string              `json:"children,omitempty"`
	Invocations map[string]invocation `json:"invocations,omitempty"`
	Notified    bool                  `json:"notified"`
}

// fileName is the file of an execution: its machine's and its own name.
func (c *Cloud) fileName(m *machine, name string) string {
	return filepath.Join(c.cfg.Dir, m.name+"."+name+".json")
}

// save writes an execution (with its lock held) to Dir, through a
// temporary file renamed over the last one.
func (c *Cloud) save(ex *execution) {
	if c.cfg.Dir == "" || ex.forgotten.Load() {
		return
	}
	snap, err := ex.x.Snapshot()
	if err == nil {
		var b []byte
		b, err = json.Marshal(stored{Machine: ex.mach.ref, Snapshot: snap, InputText: ex.inputText, Parent: ex.parent,
			Children: ex.children, Invocations: ex.invocations, Notified: ex.notified})
		if err == nil {
			if err = os.MkdirAll(c.cfg.Dir, 0o700); err == nil {
				path := ex.file
				if err = os.WriteFile(path+".tmp", b, 0o600); err == nil {
					err = os.Rename(path+".tmp", path)
				}
			}
		}
	}
	if err != nil {
		c.log.Error("saving an execution", "execution", ex.arn, "err", err)
	}
}

// reload restores the executions kept in Dir: every one answers
// Describe and GetExecutionHistory again; running ones wait again for
// their task tokens and timers, and the function invocations that were in
// flight are made again (a function may so run twice for one task, as
// Lambda's retries may run it).
func (c *Cloud) reload() error {
	if c.cfg.Dir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(c.cfg.Dir, "*.json"))
	if err != nil {
		return fmt.Errorf("listing the executions in %s: %w", c.cfg.Dir, err)
	}
	byRef := map[string]*machine{}
	for _, m := range c.machines {
		byRef[m.ref] = m
	}
	var errs []error
	var resumed []*execution
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading execution %s: %w", f, err))
			continue
		}
		var s stored
		if err := json.Unmarshal(b, &s); err != nil {
			errs = append(errs, fmt.Errorf("reading execution %s: %w", f, err))
			continue
		}
		m := byRef[s.Machine]
		if m == nil {
			c.log.Warn("execution of a state machine no longer loaded, not restored", "file", f, "machine", s.Machine)
			continue
		}
		ex := &execution{mach: m, inputText: s.InputText, parent: s.Parent, children: s.Children, invocations: s.Invocations, notified: s.Notified}
		if ex.invocations == nil {
			ex.invocations = map[string]invocation{}
		}
		x, err := c.interpreter(ex, time.Time{}).Resume(m.m, s.Snapshot)
		if err != nil {
			if errors.Is(err, asl.ErrInvalidSnapshot) {
				c.log.Warn("execution of a changed state machine, not restored", "file", f, "err", err)
				continue
			}
			errs = append(errs, fmt.Errorf("restoring execution %s: %w", f, err))
			continue
		}
		d := x.Describe()
		ex.x, ex.arn, ex.file = x, x.ID(), c.fileName(m, d.Name)
		ex.inputJSON, ex.start = compact(d.Input), d.StartDate
		ex.ended.Store(x.Done())
		c.execs[ex.arn] = ex
		for _, t := range x.WaitingTasks() {
			c.tokens[t] = &tokenInfo{exec: ex}
		}
		resumed = append(resumed, ex)
	}
	// Oldest first, so that the ended ones are forgotten in that order.
	slices.SortFunc(resumed, func(a, b *execution) int {
		return a.x.Describe().StartDate.Compare(b.x.Describe().StartDate)
	})
	for _, ex := range resumed {
		ex.mu.Lock()
		for token, inv := range ex.invocations {
			if c.cfg.Functions[inv.Function] != nil {
				c.invoke(ex, token, inv)
			}
		}
		if !ex.x.Done() {
			if err := ex.x.Run(c.root); err != nil {
				c.log.Error("running a restored execution", "execution", ex.arn, "err", err)
			}
		}
		c.afterStep(ex)
		ex.mu.Unlock()
	}
	if len(errs) > 0 {
		c.log.Error("some executions were not restored", "err", errors.Join(errs...))
	}
	return nil
}
