package cost

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/bwc-project/bwc/internal/aws/direct"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/rule"
	"github.com/bwc-project/bwc/internal/sensor/timer"
	"github.com/bwc-project/bwc/internal/workflow"
)

// The stack's functions that the estimate counts (infra/stack's names).
const (
	FnWebhook    = "webhook"
	FnTimer      = "timer"
	FnPoller     = "poller"
	FnEnforcer   = "enforcer"
	FnRunner     = "runner"
	FnCompletion = "completion"
	FnInquiry    = "inquiry"
)

// Where a rule's triggers come from, which decides what their intake costs.
const (
	// SourceWebhook: core.webhook, through the HTTP API and the webhook
	// function.
	SourceWebhook = "webhook"
	// SourceAPI: a pack's trigger type that no polling sensor emits,
	// assumed posted to the generic /api/v1/webhooks/st2 endpoint (HTTP API
	// and webhook function).
	SourceAPI = "api"
	// SourceTimer: a core timer, through EventBridge Scheduler and the timer
	// function.
	SourceTimer = "timer"
	// SourcePoller: a trigger type a pack's polling sensor emits; the polls
	// are a fixed monthly cost.
	SourcePoller = "poller"
	// SourceEngine: a core trigger the functions emit (core.actiontrigger
	// on every finished execution): its event and record are paid for by
	// the execution that emits it.
	SourceEngine = "engine"
)

// HoursPerMonth is the month of the fixed monthly costs.
const HoursPerMonth = 730

// Assumptions are what the estimate cannot read from the packs.
type Assumptions struct {
	// Triggers is the number of triggers of each rule the estimate is for.
	Triggers float64 `json:"triggers"`
	// MemoryMB is the functions' memory (infra/stack gives each 512 MB).
	MemoryMB float64 `json:"memory_mb"`
	// DurationMS is the billed duration of one invocation, by function.
	DurationMS map[string]float64 `json:"duration_ms"`
	// EventBytes is the size of a trigger's event (PutEvents bills each
	// started 64 KB).
	EventBytes float64 `json:"event_bytes"`
	// LambdaLogBytes is what one invocation logs (START, END and REPORT
	// lines and the function's own JSON lines).
	LambdaLogBytes float64 `json:"lambda_log_bytes"`
	// StatesLogEventBytes is one Step Functions log event (LogLevel ALL,
	// without execution data).
	StatesLogEventBytes float64 `json:"states_log_event_bytes"`
	// APILogBytes is one HTTP API access log line.
	APILogBytes float64 `json:"api_log_bytes"`
	// TraceSampling is the share of triggers X-Ray records a trace for.
	TraceSampling float64 `json:"trace_sampling"`
	// DirectDurationMS is how long a direct rule's Express machine runs
	// (internal/aws/direct: a Pass state, a DynamoDB PutItem and a
	// StartExecution, both request-response); billed per started 100 ms.
	DirectDurationMS float64 `json:"direct_duration_ms"`
	// DirectMemoryMB is the memory Step Functions bills the direct
	// machine's run for (its definition, a few KB, and a payload under
	// 256 KB); billed per started 64 MB.
	DirectMemoryMB float64 `json:"direct_memory_mb"`
}

// DefaultAssumptions returns the defaults `bwc cost` starts from.
func DefaultAssumptions() Assumptions {
	return Assumptions{
		Triggers: 1e6,
		MemoryMB: 512,
		DurationMS: map[string]float64{
			FnWebhook: 30, FnTimer: 30, FnPoller: 500, FnEnforcer: 50,
			FnRunner: 200, FnCompletion: 50, FnInquiry: 30,
		},
		EventBytes:          1024,
		LambdaLogBytes:      1024,
		StatesLogEventBytes: 400,
		APILogBytes:         300,
		TraceSampling:       0.05,
		DirectDurationMS:    80,
		DirectMemoryMB:      64,
	}
}

// ErrAssumption reports an assumption the estimate cannot use.
var ErrAssumption = errors.New("invalid assumption")

// Check reports the first assumption that is out of range.
func (a Assumptions) Check() error {
	for name, v := range map[string]float64{
		"triggers": a.Triggers, "memory": a.MemoryMB, "event bytes": a.EventBytes,
		"Lambda log bytes": a.LambdaLogBytes, "Step Functions log event bytes": a.StatesLogEventBytes, "API log bytes": a.APILogBytes,
	} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%s %v: %w: expected a number of 0 or more", name, v, ErrAssumption)
		}
	}
	if a.MemoryMB < 128 || a.MemoryMB > 10240 {
		return fmt.Errorf("memory %v MB: %w: Lambda offers 128 to 10240 MB", a.MemoryMB, ErrAssumption)
	}
	if a.DirectDurationMS < 1 || a.DirectDurationMS > 300000 || math.IsNaN(a.DirectDurationMS) {
		return fmt.Errorf("duration of the direct machine %v ms: %w: an Express execution runs 1 ms to 5 minutes", a.DirectDurationMS, ErrAssumption)
	}
	if a.DirectMemoryMB < 1 || math.IsNaN(a.DirectMemoryMB) || math.IsInf(a.DirectMemoryMB, 0) {
		return fmt.Errorf("memory of the direct machine %v MB: %w: expected 1 MB or more", a.DirectMemoryMB, ErrAssumption)
	}
	if a.TraceSampling < 0 || a.TraceSampling > 1 {
		return fmt.Errorf("trace sampling %v: %w: expected a share from 0 to 1", a.TraceSampling, ErrAssumption)
	}
	for _, fn := range functions() {
		if d := a.DurationMS[fn]; d < 1 || math.IsNaN(d) || math.IsInf(d, 0) {
			return fmt.Errorf("duration of %s %v ms: %w: expected 1 ms or more", fn, d, ErrAssumption)
		}
	}
	for fn := range a.DurationMS {
		if !contains(functions(), fn) {
			return fmt.Errorf("duration of %q: %w: expected one of %s", fn, ErrAssumption, strings.Join(functions(), ", "))
		}
	}
	return nil
}

func functions() []string {
	return []string{FnWebhook, FnTimer, FnPoller, FnEnforcer, FnRunner, FnCompletion, FnInquiry}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Usage counts what is billed, per trigger of a rule or per month.
type Usage struct {
	APIRequests          float64            `json:"api_requests"`
	PutEvents            float64            `json:"put_events"`
	Deliveries           float64            `json:"eventbridge_deliveries"`
	SchedulerInvocations float64            `json:"scheduler_invocations"`
	Invocations          map[string]float64 `json:"lambda_invocations"`
	Transitions          float64            `json:"state_transitions"`
	ExpressRequests      float64            `json:"express_requests"`
	ExpressGBSeconds     float64            `json:"express_gb_seconds"`
	WriteUnits           float64            `json:"dynamodb_write_units"`
	ReadUnits            float64            `json:"dynamodb_read_units"`
	LogBytes             float64            `json:"log_bytes"`
	Traces               float64            `json:"traces"`
}

// Line is one service's cost.
type Line struct {
	Service string  `json:"service"`
	What    string  `json:"what"`
	USD     float64 `json:"usd"`
}

// Services, in the order of the report's columns.
const (
	SvcAPI      = "API Gateway"
	SvcEvents   = "EventBridge"
	SvcLambda   = "Lambda"
	SvcStates   = "Step Functions"
	SvcDynamoDB = "DynamoDB"
	SvcLogs     = "CloudWatch Logs"
	SvcXRay     = "X-Ray"
	SvcKMS      = "KMS"
)

// Services lists the per-trigger services in column order.
func Services() []string {
	return []string{SvcAPI, SvcEvents, SvcLambda, SvcStates, SvcDynamoDB, SvcLogs, SvcXRay}
}

// RuleCost is one rule's estimate.
type RuleCost struct {
	Rule    string `json:"rule"`
	Trigger string `json:"trigger"`
	Source  string `json:"source"`
	Path    string `json:"path"`
	Machine string `json:"machine"`
	// Run is the typical run of the rule's state machine (children not
	// included).
	Run Run `json:"run"`
	// PerTrigger is what one trigger uses.
	PerTrigger Usage `json:"per_trigger"`
	// Lines are the costs of Assumptions.Triggers triggers, by service.
	Lines []Line  `json:"lines"`
	USD   float64 `json:"usd"`
}

// Report is an estimate.
type Report struct {
	Region      string      `json:"region"`
	PricesAsOf  string      `json:"prices_as_of"`
	Assumptions Assumptions `json:"assumptions"`
	Rules       []RuleCost  `json:"rules"`
	// USD is the cost of Assumptions.Triggers triggers of every rule.
	USD float64 `json:"usd"`
	// Monthly are the costs that do not depend on triggers, per month.
	Monthly    []Line   `json:"monthly"`
	MonthlyUSD float64  `json:"monthly_usd"`
	Notes      []string `json:"notes"`
	Prices     []Price  `json:"prices"`
}

// Estimate estimates the cost of the compiled content's stack at prices.
// Errors: an assumption out of range (ErrAssumption), a state machine that
// cannot be read, a workflow that starts one that does not exist.
func Estimate(c *content.Compiled, a Assumptions, prices Prices) (*Report, error) {
	if err := a.Check(); err != nil {
		return nil, err
	}
	e := &estimator{c: c, a: a, p: prices, runs: map[string]Run{}, byParam: map[string]string{},
		machines: map[string]*machineRun{}, walking: map[string]bool{}}
	for ref := range c.Machines {
		e.byParam[workflow.StateMachineArnParam(ref)] = ref
	}
	rep := &Report{Region: Region, PricesAsOf: PricesAsOf, Assumptions: a}
	for _, r := range c.Rules.Rules {
		rc, err := e.rule(r)
		if err != nil {
			return nil, err
		}
		rep.Rules = append(rep.Rules, rc)
		rep.USD += rc.USD
	}
	rep.Monthly, rep.MonthlyUSD = e.monthly()
	rep.Notes = notes()
	for _, p := range prices {
		rep.Prices = append(rep.Prices, p)
	}
	sort.Slice(rep.Prices, func(i, j int) bool { return rep.Prices[i].Key < rep.Prices[j].Key })
	return rep, nil
}

type estimator struct {
	c       *content.Compiled
	a       Assumptions
	p       Prices
	runs    map[string]Run
	byParam map[string]string
	// machines memoizes machineUsage: a workflow reached through many
	// paths (a diamond of child workflows) is walked once.
	machines map[string]*machineRun
	walking  map[string]bool
}

// maxNesting is how deep workflows may start workflows (the machine of a
// rule at depth 0).
const maxNesting = 8

// machineRun is what one run of a state machine adds, its child workflows'
// runs included, and how many levels of workflows nest below it.
type machineRun struct {
	run    Run
	usage  Usage
	height int
}

// add adds v to u.
func (u *Usage) add(v Usage) {
	u.APIRequests += v.APIRequests
	u.PutEvents += v.PutEvents
	u.Deliveries += v.Deliveries
	u.SchedulerInvocations += v.SchedulerInvocations
	for fn, n := range v.Invocations {
		u.Invocations[fn] += n
	}
	u.Transitions += v.Transitions
	u.ExpressRequests += v.ExpressRequests
	u.ExpressGBSeconds += v.ExpressGBSeconds
	u.WriteUnits += v.WriteUnits
	u.ReadUnits += v.ReadUnits
	u.LogBytes += v.LogBytes
	u.Traces += v.Traces
}

func (e *estimator) source(trigger string) string {
	switch {
	case trigger == "core.webhook":
		return SourceWebhook
	case timer.IsTimer(trigger):
		return SourceTimer
	case strings.HasPrefix(trigger, "core."):
		return SourceEngine
	}
	if e.c.Packs != nil {
		if tt := e.c.Packs.TriggerType(trigger); tt != nil {
			if s := e.c.Packs.Sensor(tt.Sensor); s != nil && s.Enabled && s.EntryPointPath != "" {
				return SourcePoller
			}
		}
	}
	return SourceAPI
}

type usage struct {
	Usage
	a Assumptions
}

func (u *usage) invoke(fn string, n float64) {
	if n == 0 {
		return
	}
	u.Invocations[fn] += n
	u.LogBytes += n * u.a.LambdaLogBytes
}

func (u *usage) request(n float64) {
	u.APIRequests += n
	u.LogBytes += n * u.a.APILogBytes
}

func (e *estimator) rule(r *rule.Compiled) (RuleCost, error) {
	path, err := e.c.RulePath(r)
	if err != nil {
		return RuleCost{}, err
	}
	rc := RuleCost{Rule: r.Ref, Trigger: r.Trigger.Type, Source: e.source(r.Trigger.Type), Path: path.Path, Machine: path.Machine}
	u := &usage{Usage: Usage{Invocations: map[string]float64{}}, a: e.a}
	chunks := math.Max(1, math.Ceil(e.a.EventBytes/65536))
	switch rc.Source {
	case SourceWebhook, SourceAPI:
		u.request(1)
		u.invoke(FnWebhook, 1)
	case SourceTimer:
		u.SchedulerInvocations++
		u.invoke(FnTimer, 1)
	}
	if rc.Source != SourceEngine {
		u.WriteUnits += WriteTriggerInstance
		u.PutEvents += chunks
	}
	u.Traces += e.a.TraceSampling
	u.Deliveries++ // the bus to the rule's target
	u.WriteUnits += WriteExecution
	if path.Path == content.PathEnforcer {
		u.invoke(FnEnforcer, 1)
		u.WriteUnits += WriteEnforcement
	} else if err := e.directRun(u, r.Ref, path); err != nil {
		return RuleCost{}, fmt.Errorf("estimating rule %s: %w", r.Ref, err)
	}
	if rc.Run, err = e.run(u, path.Machine, 0); err != nil {
		return RuleCost{}, fmt.Errorf("estimating rule %s: %w", r.Ref, err)
	}
	rc.PerTrigger = u.Usage
	rc.Lines = e.lines(u.Usage, e.a.Triggers)
	for _, l := range rc.Lines {
		rc.USD += l.USD
	}
	return rc, nil
}

// directRun adds the run of a direct rule's own state machine
// (internal/aws/direct), an Express machine: one request and its duration
// at its memory (each rounded up as Step Functions bills them), its log
// events, and the enforcement it records (the run of the machine it starts
// is added by the caller).
func (e *estimator) directRun(u *usage, ruleRef string, path content.AWSPath) error {
	def, err := direct.Definition(ruleRef, path, 0)
	if err != nil {
		return err
	}
	r, err := TypicalRun(def)
	if err != nil {
		return fmt.Errorf("direct machine of rule %s: %w", ruleRef, err)
	}
	u.ExpressRequests++
	u.ExpressGBSeconds += ExpressGBSeconds(e.a.DirectDurationMS, e.a.DirectMemoryMB)
	u.LogBytes += float64(r.LogEvents) * e.a.StatesLogEventBytes
	u.WriteUnits += WriteEnforcement
	return nil
}

func (e *estimator) typicalRun(ref string) (Run, error) {
	if r, ok := e.runs[ref]; ok {
		return r, nil
	}
	var def []byte
	var err error
	switch m, ok := e.c.Machines[ref]; {
	case ref == content.ActionMachineRef:
		def = content.ActionMachineDefinition()
	case ok:
		if def, err = m.JSON(); err != nil {
			return Run{}, fmt.Errorf("encoding state machine %s: %w", ref, err)
		}
	case e.c.HasMachine(ref):
		// A hand-written (asl) action: its entry point is its definition.
		if def, err = os.ReadFile(filepath.FromSlash(e.c.Packs.Action(ref).EntryPointPath)); err != nil {
			return Run{}, fmt.Errorf("reading state machine %s: %w", ref, err)
		}
	default:
		return Run{}, fmt.Errorf("state machine %s does not exist", ref)
	}
	r, err := TypicalRun(def)
	if err != nil {
		return Run{}, fmt.Errorf("state machine %s: %w", ref, err)
	}
	e.runs[ref] = r
	return r, nil
}

// run adds one run of the state machine ref (its record was created by
// the caller), reached at depth.
func (e *estimator) run(u *usage, ref string, depth int) (Run, error) {
	mr, err := e.machineUsage(ref, depth)
	if err != nil {
		return Run{}, err
	}
	u.add(mr.usage)
	return mr.run, nil
}

// machineUsage is what one run of the state machine ref adds, reached at
// depth; it is worked out once per machine.
func (e *estimator) machineUsage(ref string, depth int) (*machineRun, error) {
	if depth > maxNesting || e.walking[ref] {
		return nil, fmt.Errorf("state machine %s: workflows nested more than %d deep", ref, maxNesting)
	}
	if mr, ok := e.machines[ref]; ok {
		if depth+mr.height > maxNesting {
			return nil, fmt.Errorf("state machine %s: workflows nested more than %d deep (%d below it, reached at depth %d)", ref, maxNesting, mr.height, depth)
		}
		return mr, nil
	}
	r, err := e.typicalRun(ref)
	if err != nil {
		return nil, err
	}
	e.walking[ref] = true
	defer delete(e.walking, ref)
	u := &usage{Usage: Usage{Invocations: map[string]float64{}}, a: e.a}
	mr := &machineRun{run: r}
	n := func(i int) float64 { return float64(i) }
	u.Transitions += n(r.Transitions)
	u.LogBytes += n(r.LogEvents) * e.a.StatesLogEventBytes
	// the execution's record: running and final status, result; the
	// completion function sees both status changes and emits
	// core.actiontrigger (an event and its trigger instance record)
	u.WriteUnits += 2*WriteExecutionUpdate + WriteResult
	u.ReadUnits += 2 * ReadExecutionUpdate
	u.Deliveries += 2
	u.invoke(FnCompletion, 2)
	u.PutEvents++
	u.WriteUnits += WriteTriggerInstance
	// tasks: the runner and its output; in a workflow each task is a child
	// execution with its own record
	u.invoke(FnRunner, n(r.Tasks))
	u.WriteUnits += n(r.Tasks) * WriteOutput
	if ref != content.ActionMachineRef {
		u.WriteUnits += n(r.Tasks) * (WriteExecution + 2*WriteExecutionUpdate + WriteResult)
		u.ReadUnits += n(r.Tasks) * 2 * ReadExecutionUpdate
	}
	// inquiries: recorded by the runner, answered through the API
	u.WriteUnits += n(r.Inquiries) * (WriteInquiry + WriteInquiryResolve)
	u.ReadUnits += n(r.Inquiries) * ReadInquiryResolve
	u.request(n(r.Inquiries))
	u.invoke(FnInquiry, n(r.Inquiries))
	for _, sub := range r.Children {
		child, ok := e.byParam[sub]
		if !ok {
			return nil, fmt.Errorf("state machine %s starts ${%s}, which names no compiled workflow", ref, sub)
		}
		u.WriteUnits += WriteExecution
		cr, err := e.machineUsage(child, depth+1)
		if err != nil {
			return nil, err
		}
		u.add(cr.usage)
		mr.height = max(mr.height, cr.height+1)
	}
	mr.usage = u.Usage
	e.machines[ref] = mr
	return mr, nil
}

// ExpressGBSeconds is what Step Functions bills for an Express execution
// of ms milliseconds using mb MB of memory: the duration rounded up to
// 100 ms, the memory to 64 MB.
func ExpressGBSeconds(ms, mb float64) float64 {
	return math.Ceil(ms/100) * 0.1 * math.Ceil(mb/64) * 64 / 1024
}

// lines prices n times the usage u, by service.
func (e *estimator) lines(u Usage, n float64) []Line {
	p := func(key string) float64 { return e.p[key].Each() }
	var inv, gbs float64
	fns := make([]string, 0, len(u.Invocations))
	for fn := range u.Invocations {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	var parts []string
	for _, fn := range fns {
		c := u.Invocations[fn]
		inv += c
		gbs += c * e.a.DurationMS[fn] / 1000 * e.a.MemoryMB / 1024
		parts = append(parts, fmt.Sprintf("%s %s", fn, num(c)))
	}
	gb := u.LogBytes / (1 << 30)
	states := count(u.Transitions, "state transition")
	if u.ExpressRequests > 0 {
		states += ", " + count(u.ExpressRequests, "Express request") + " (" + strconv.FormatFloat(u.ExpressGBSeconds, 'f', -1, 64) + " GB-s)"
	}
	return []Line{
		{SvcAPI, count(u.APIRequests, "request"), n * u.APIRequests * p(PriceAPIRequest)},
		{SvcEvents, count(u.PutEvents, "PutEvents event") + ", " + count(u.SchedulerInvocations, "Scheduler invocation") + ", " + count(u.Deliveries, "delivery") + " (free)",
			n * (u.PutEvents*p(PricePutEvent) + u.SchedulerInvocations*p(PriceScheduler) + u.Deliveries*p(PriceDelivery))},
		{SvcLambda, count(inv, "invocation") + " (" + strings.Join(parts, ", ") + "), " + num(gbs) + " GB-s", n * (inv*p(PriceLambdaReq) + gbs*p(PriceLambdaGBs))},
		{SvcStates, states, n * (u.Transitions*p(PriceTransition) + u.ExpressRequests*p(PriceExpressReq) + u.ExpressGBSeconds*p(PriceExpressGBs))},
		{SvcDynamoDB, count(u.WriteUnits, "write unit") + ", " + count(u.ReadUnits, "read unit"), n * (u.WriteUnits*p(PriceWriteUnit) + u.ReadUnits*p(PriceReadUnit))},
		{SvcLogs, num(u.LogBytes) + " bytes ingested", n * gb * p(PriceLogIngestGB)},
		{SvcXRay, count(u.Traces, "trace"), n * u.Traces * p(PriceTrace)},
	}
}

// monthly are the fixed costs: the KMS key, the inquiry sweep (Scheduler
// invokes the inquiry function every minute, which reads the pending
// inquiries: one Query), and the polls of every polling sensor
// (Scheduler, the poller function, its logs).
func (e *estimator) monthly() ([]Line, float64) {
	out := []Line{{SvcKMS, "the secrets key", e.p[PriceKMSKey].Each()}}
	sweeps := HoursPerMonth * 60.0
	sweep := &usage{Usage: Usage{Invocations: map[string]float64{}}, a: e.a}
	sweep.SchedulerInvocations = 1
	sweep.invoke(FnInquiry, 1)
	sweep.ReadUnits = 1
	sweepUSD := 0.0
	for _, l := range e.lines(sweep.Usage, sweeps) {
		sweepUSD += l.USD
	}
	out = append(out, Line{"Inquiries", fmt.Sprintf("the inquiry sweep: %s invocations (every minute)", num(sweeps)), sweepUSD})
	if e.c.Packs != nil {
		for _, s := range e.c.Packs.Sensors() {
			if !s.Enabled || s.EntryPointPath == "" {
				continue
			}
			every := s.PollInterval
			if every <= 0 {
				every = 60
			}
			polls := HoursPerMonth * 3600 / float64(every)
			u := &usage{Usage: Usage{Invocations: map[string]float64{}}, a: e.a}
			u.SchedulerInvocations = 1
			u.invoke(FnPoller, 1)
			usd := 0.0
			for _, l := range e.lines(u.Usage, polls) {
				usd += l.USD
			}
			out = append(out, Line{"Poller", fmt.Sprintf("sensor %s: %s polls (every %d s)", s.Ref, num(polls), every), usd})
		}
	}
	var total float64
	for _, l := range out {
		total += l.USD
	}
	return out, total
}

// count writes a count and its noun, in the plural unless the count is 1.
func count(f float64, noun string) string {
	if f == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return num(f) + " " + strings.TrimSuffix(noun, "y") + "ies"
	}
	return num(f) + " " + noun + "s"
}

// num writes a count without trailing zeros.
func num(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.0f", f)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.4f", f), "0"), ".")
}

func notes() []string {
	return []string{
		"Every trigger is assumed to match its rule (residual conditions true) and its run to take the typical path: every task succeeds, every Choice takes its first rule (a workflow's first next), a Map runs one item; an estimate read from the ASL.",
		"EventBridge delivers to Lambda and Step Functions targets at no charge; Step Functions status events on the default bus are free too.",
		"A trigger of a pack's own type that no polling sensor emits is assumed posted to POST /api/v1/webhooks/st2; core.actiontrigger and other core triggers are emitted by the functions and paid for by the execution that emits them.",
		"DynamoDB: every record at most 1 KB; request units counted from internal/store/dynamo (the item plus its index entries; status updates read, then rewrite, moving the status-keyed entries).",
		"Not counted: free tiers, data transfer, DynamoDB and CloudWatch Logs storage, point-in-time recovery, the dead-letter queue, cold starts (init time is billed on provided.al2023), retries, $kv/$secret reads and KMS requests.",
	}
}
