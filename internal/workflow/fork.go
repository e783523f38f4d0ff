package workflow

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// A region is a set of tasks that run in one ASL scope: the top level of the
// state machine, or one branch of a Parallel state. A transition that names
// several tasks (`do: [a, b]`) forks: each target starts a branch, and the
// branches run until the task where they all meet, the one with `join`. The
// compiler turns the fork into a Parallel state whose branches hold the
// branch regions and whose Next is the join task.
type region struct {
	parent *region
	start  string
	stop   string   // the join task that ends this branch; "" for none
	tasks  []string // in the order they were reached
	forks  []*fork
}

// fork is one forking transition.
type fork struct {
	task     string // the task whose transition forks
	index    int    // the transition's index in task.Next
	state    string // the Parallel state's name
	join     string // "" when the branches never meet: they run to their ends
	branches []*region
	pos      Pos
}

// planRegions assigns every task reachable from start to exactly one region
// and finds each fork's join, reporting graphs that ASL cannot express.
func (c *compiler) planRegions(start string) *region {
	c.owner = map[string]*region{}
	c.forkAt = map[string]map[int]*fork{}
	top := c.buildRegion(nil, start, "")
	for _, name := range c.w.Order {
		t := c.w.Tasks[name]
		if t.Join == "" || c.owner[name] == nil {
			continue
		}
		if !c.isJoin[name] {
			c.errorf(t.Pos, name, "join: this task is not where the branches of one fork meet; a join needs a transition with several tasks in `do` whose branches all lead here")
		}
	}
	return top
}

func (c *compiler) buildRegion(parent *region, start, stop string) *region {
	r := &region{parent: parent, start: start, stop: stop}
	queue := []string{start}
	seen := map[string]bool{start: true}
	claim := func(task string, from string, pos Pos) bool {
		if owner := c.owner[task]; owner != nil && owner != r {
			c.errorf(pos, from, "do: %s: this task is already part of %s; a fork's branches run as a Parallel state, so a task can belong to one branch only and a branch can leave only through its join task", task, owner.describe())
			return false
		}
		return true
	}
	if !claim(start, start, c.w.Tasks[start].Pos) {
		return r
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		c.owner[name] = r
		r.tasks = append(r.tasks, name)
		t := c.w.Tasks[name]
		for i, tr := range t.Next {
			var targets []string
			for _, d := range tr.Do {
				if c.w.Tasks[d] != nil {
					targets = append(targets, d)
				}
			}
			if len(tr.Do) > 1 {
				if len(targets) != len(tr.Do) {
					c.errorf(tr.Pos, name, "do: %s: a fork lists tasks only; the commands fail, noop and continue cannot run in parallel with tasks", strings.Join(tr.Do, ", "))
					continue
				}
				f := c.buildFork(r, t, i, targets, tr.Pos)
				if f.join != "" && f.join != stop && !seen[f.join] && claim(f.join, name, tr.Pos) {
					seen[f.join] = true
					queue = append(queue, f.join)
				}
				continue
			}
			for _, d := range targets {
				if d == stop || seen[d] {
					continue
				}
				if !claim(d, name, tr.Pos) {
					continue
				}
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return r
}

func (c *compiler) buildFork(r *region, t *Task, index int, targets []string, pos Pos) *fork {
	f := &fork{task: t.Name, index: index, pos: pos, state: t.Name + ".fork"}
	if n := countForks(t); n > 1 {
		f.state = fmt.Sprintf("%s.fork%d", t.Name, index+1)
	}
	f.join = c.findJoin(targets)
	if f.join != "" {
		c.isJoin[f.join] = true
		jt := c.w.Tasks[f.join]
		if jt.Join != "all" {
			if n, err := strconv.Atoi(jt.Join); err != nil || n != len(targets) {
				c.errorf(jt.Pos, f.join, "join: %s: the fork at task %s has %d branches and a Parallel state waits for all of them; use `join: all` (waiting for only some branches cannot be expressed in Step Functions)", jt.Join, t.Name, len(targets))
			}
		}
	}
	for _, target := range targets {
		f.branches = append(f.branches, c.buildRegion(r, target, f.join))
	}
	r.forks = append(r.forks, f)
	if c.forkAt[t.Name] == nil {
		c.forkAt[t.Name] = map[int]*fork{}
	}
	c.forkAt[t.Name][index] = f
	return f
}

func countForks(t *Task) int {
	n := 0
	for _, tr := range t.Next {
		if len(tr.Do) > 1 {
			n++
		}
	}
	return n
}

// findJoin returns the first task with `join` reachable from every target,
// or "" when the branches never meet.
func (c *compiler) findJoin(targets []string) string {
	var common map[string]bool
	for _, target := range targets {
		reach := c.reachable(target)
		if common == nil {
			common = reach
			continue
		}
		for k := range common {
			if !reach[k] {
				delete(common, k)
			}
		}
	}
	var candidates []string
	for k := range common {
		if c.w.Tasks[k].Join != "" {
			candidates = append(candidates, k)
		}
	}
	sort.Strings(candidates)
	for _, cand := range candidates {
		first := true
		for _, other := range candidates {
			if other != cand && c.reachable(other)[cand] {
				first = false
				break
			}
		}
		if first {
			return cand
		}
	}
	return ""
}

// reachable is every task reachable from start, start included.
func (c *compiler) reachable(start string) map[string]bool {
	seen := map[string]bool{start: true}
	queue := []string{start}
	for len(queue) > 0 {
		t := c.w.Tasks[queue[0]]
		queue = queue[1:]
		for _, tr := range t.Next {
			for _, d := range tr.Do {
				if c.w.Tasks[d] != nil && !seen[d] {
					seen[d] = true
					queue = append(queue, d)
				}
			}
		}
	}
	return seen
}

func (r *region) describe() string {
	if r.parent == nil {
		return "the main path of the workflow"
	}
	return "the branch that starts at task " + r.start
}

// published lists the variables that tasks of a region (and of the
// branches nested in it) publish, sorted.
func (c *compiler) published(r *region) []string {
	set := map[string]bool{}
	var walk func(r *region)
	walk = func(r *region) {
		for _, name := range r.tasks {
			for _, tr := range c.w.Tasks[name].Next {
				for _, p := range tr.Publish {
					set[p.Name] = true
				}
			}
		}
		for _, f := range r.forks {
			for _, b := range f.branches {
				walk(b)
			}
		}
	}
	walk(r)
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// declaredOutside reports whether a variable is set outside region r: as a
// workflow input or var, or published by a task of an enclosing region.
func (c *compiler) declaredOutside(r *region, name string) bool {
	for _, p := range c.w.Input {
		if p.Name == name {
			return true
		}
	}
	for _, p := range c.w.Vars {
		if p.Name == name {
			return true
		}
	}
	for p := r.parent; p != nil; p = p.parent {
		for _, task := range p.tasks {
			for _, tr := range c.w.Tasks[task].Next {
				for _, pub := range tr.Publish {
					if pub.Name == name {
						return true
					}
				}
			}
		}
	}
	return false
}

// compileFork emits the Parallel state of a fork into the current scope.
func (c *compiler) compileFork(f *fork) {
	outer := c.cur
	var branches []any
	carry := map[string][]int{} // variable -> branches that publish it
	for i, b := range f.branches {
		sc := &scope{
			states:  map[string]any{},
			end:     fmt.Sprintf("%s.branch%d.end", f.state, i+1),
			failCmd: fmt.Sprintf("%s.branch%d.fail", f.state, i+1),
			stop:    f.join,
		}
		c.cur = sc
		for _, name := range c.w.Order {
			if c.owner[name] == b {
				c.compileTask(c.w.Tasks[name])
			}
		}
		names := c.published(b)
		fields := make([]string, len(names))
		for j, n := range names {
			fields[j] = literal(n) + ": $" + jsonataName(n)
			carry[n] = append(carry[n], i)
		}
		c.add("", sc.end, map[string]any{
			"Type":    "Pass",
			"Comment": "end of the branch that starts at task " + b.start + ": hand its published variables to the join",
			"Output":  "{% {" + strings.Join(fields, ", ") + "} %}",
			"End":     true,
		})
		c.addFailCommand()
		branches = append(branches, map[string]any{"StartAt": c.entry(b.start), "States": sc.states})
	}
	c.cur = outer
	next := c.cur.end
	if f.join != "" {
		next = c.entry(f.join)
	}
	state := map[string]any{
		"Type":     "Parallel",
		"Comment":  "fork at task " + f.task,
		"Branches": branches,
		"Next":     next,
	}
	if len(carry) > 0 {
		assign := map[string]any{}
		for _, name := range sortedKeys(toAnyMap(carry)) {
			// The last branch that published the variable wins, as the
			// branches finish in an order the workflow cannot rely on;
			// otherwise the value from before the fork stays.
			expr := "null"
			if c.declaredOutside(f.branches[0], name) {
				expr = "$" + jsonataName(name)
			}
			for _, i := range carry[name] {
				field := fmt.Sprintf("$states.result[%d].%s", i, jsonataName(name))
				expr = "$exists(" + field + ") ? " + field + " : (" + expr + ")"
			}
			assign[name] = "{% " + expr + " %}"
		}
		state["Assign"] = assign
	}
	c.add(f.task, f.state, state)
}

func toAnyMap[V any](m map[string]V) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
