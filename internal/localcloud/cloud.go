package localcloud

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwc-project/bwc/internal/asl"
	"github.com/bwc-project/bwc/internal/content"
	"github.com/bwc-project/bwc/internal/pattern"
	"github.com/bwc-project/bwc/internal/rule"
)

// Account is the AWS account id of every local ARN.
const Account = "000000000000"

// Defaults of Config.
const (
	DefaultRegion = "us-east-1"
	DefaultName   = "bwc"
)

// Function names (the directories under functions/) the local cloud
// invokes.
const (
	FnEnforcer   = "enforcer"
	FnRunner     = "runner"
	FnCompletion = "completion"
)

// Config configures a Cloud.
type Config struct {
	// Region is the region of ARNs and events (default DefaultRegion).
	Region string
	// Name is the stack's name prefix, BWC_NAME (default DefaultName): the
	// BWC event bus is named Name, each state machine Name-<ref>, each
	// function Name-<function>.
	Name string
	// Rules are the compiled rules; the enabled ones select events put on
	// the BWC bus.
	Rules []*rule.Compiled
	// Machines are the state machine definitions by reference (a workflow
	// action's ref, or content.ActionMachineRef), with their ${...}
	// substitutions left in: the Cloud fills ${RunnerFunctionArn} and
	// ${StateMachineArn_<ref>} for the local account.
	Machines map[string][]byte
	// Functions are the functions the cloud invokes, by name: FnEnforcer
	// (rule matches), FnRunner (lambda:invoke tasks), FnCompletion
	// (execution status changes). A missing enforcer or runner makes the
	// deliveries and tasks that need it fail; a missing completion function
	// sends status changes nowhere.
	Functions map[string]Function
	// Events takes the events put on the BWC bus when no enforcer
	// function is configured (the embedded engine's bus); nil drops them.
	Events EventSink
	// Direct are the rules on the direct AWS path (content.RulePath), by
	// rule reference. For each, the cloud registers the rule's direct
	// machine (its Definition, named by content.DirectMachineRef as the
	// stack names it) and starts it, instead of invoking the enforcer,
	// for every event the rule matches: its input is what the stack's
	// EventBridge input transformer builds (AWSPath.DirectTarget), its
	// name fresh per delivery. The direct machine records the enforcement
	// in Table and starts the rule's machine. It applies only where the
	// cloud routes rule matches itself, not to the events Events takes.
	// Direct needs Table and DynamoDB.
	Direct map[string]DirectRule
	// Table is the DynamoDB table (BWC_TABLE) that fills ${TableName} in
	// the direct machines.
	Table string
	// DynamoDB runs the state machines' DynamoDB tasks
	// (arn:aws:states:::dynamodb:*): an internal/aws/sfnddb.Port; nil
	// fails them.
	DynamoDB asl.TaskPort
	// Dir, when set, keeps one file per execution there (see the package
	// documentation).
	Dir string
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger; default slog.Default().
	Logger *slog.Logger
	// DeliveryAttempts bounds the invocations of a target per event
	// (default 3, one second apart, doubling).
	DeliveryAttempts int
	// RetryDelay is the first delay between delivery attempts (default 1s).
	RetryDelay time.Duration
	// KeepEnded bounds the ended executions kept (in memory and in Dir):
	// beyond it, the oldest ended ones are forgotten, with their task
	// tokens and files, and answer ExecutionDoesNotExist as Step Functions
	// does after its retention period (default DefaultKeepEnded).
	KeepEnded int
}

// DefaultKeepEnded is the default of Config.KeepEnded.
const DefaultKeepEnded = 10000

// EventSink takes an event put on the BWC bus. PutEvent returns once the
// event is accepted (recorded); an error means it was not.
type EventSink interface {
	PutEvent(ctx context.Context, ev Event) error
}

// Cloud answers the AWS JSON protocol for EventBridge and Step Functions.
type Cloud struct {
	cfg Config
	log *slog.Logger

	rules    *pattern.Matcher
	machines map[string]*machine        // by state machine ARN
	direct   map[string]content.AWSPath // enabled direct rules, by reference
	// directRefs are the references of the direct machines, whose
	// executions are not BWC executions: their status changes go nowhere.
	directRefs map[string]bool

	root context.Context
	stop context.CancelFunc
	bg   sync.WaitGroup // deliveries, invocations, drivers

	ops map[string]operation // by X-Amz-Target

	mu     sync.Mutex
	execs  map[string]*execution // by execution ARN
	tokens map[string]*tokenInfo // issued task tokens
	ended  []*execution          // ended executions kept, oldest first
	closed bool
}

// New builds a Cloud: it parses the rules' patterns and the state machines
// and, when cfg.Dir is set, reloads the executions kept there (resuming
// those that were running). Close stops it.
func New(cfg Config) (*Cloud, error) {
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.Name == "" {
		cfg.Name = DefaultName
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DeliveryAttempts <= 0 {
		cfg.DeliveryAttempts = 3
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = time.Second
	}
	if cfg.KeepEnded <= 0 {
		cfg.KeepEnded = DefaultKeepEnded
	}
	c := &Cloud{cfg: cfg, log: cfg.Logger, rules: pattern.NewMatcher(), execs: map[string]*execution{}, tokens: map[string]*tokenInfo{}}
	for _, r := range cfg.Rules {
		if !r.Enabled {
			continue
		}
		if err := c.rules.Add(r.Ref, r.Pattern); err != nil {
			return nil, fmt.Errorf("adding the pattern of rule %s: %w", r.Ref, err)
		}
	}
	if err := c.directMachines(); err != nil {
		return nil, err
	}
	if err := c.parseMachines(); err != nil {
		return nil, err
	}
	c.ops = c.operations()
	c.root, c.stop = context.WithCancel(context.Background())
	if err := c.reload(); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// Close stops the cloud: running executions stay as they are (kept in
// Dir, when set), deliveries and invocations in flight are abandoned.
func (c *Cloud) Close() {
	c.mu.Lock()
	c.closed = true
	execs := make([]*execution, 0, len(c.execs))
	for _, ex := range c.execs {
		execs = append(execs, ex)
	}
	c.mu.Unlock()
	c.stop()
	c.bg.Wait()
	// Stop the executions' timers (Wait states, task timeouts), which
	// would otherwise keep the cloud until they fire.
	for _, ex := range execs {
		ex.mu.Lock()
		if ex.timer != nil {
			ex.timer.Stop()
			ex.timer = nil
		}
		ex.mu.Unlock()
	}
}

// background runs fn on its own goroutine, counted in bg, unless the
// cloud is closed (then it returns false and runs nothing): the check and
// the count are one step under mu, so that nothing is added to bg once
// Close waits for it.
func (c *Cloud) background(fn func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		fn()
	}()
	return true
}

// errClosed answers the calls that would start work once Close began.
var errClosed = &apiError{Type: "ServiceUnavailable", Message: "the local cloud is shutting down", Status: http.StatusServiceUnavailable}

// Wait blocks until every delivery, invocation and execution under way has
// finished or waits for a task token (for tests and clean shutdowns).
func (c *Cloud) Wait() { c.bg.Wait() }

// MachineName is the physical name of the state machine of a reference,
// as the CDK stack names it: prefix-ref with every character other than
// letters, digits, - and _ replaced by _.
func MachineName(prefix, ref string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('-')
	for _, r := range ref {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// MachineARN is the ARN of the state machine of a reference.
func (c *Cloud) MachineARN(ref string) string {
	return "arn:aws:states:" + c.cfg.Region + ":" + Account + ":stateMachine:" + MachineName(c.cfg.Name, ref)
}

// FunctionARN is the ARN of a function by its name (e.g. FnRunner).
func (c *Cloud) FunctionARN(fn string) string {
	return "arn:aws:lambda:" + c.cfg.Region + ":" + Account + ":function:" + c.cfg.Name + "-" + fn
}

// EventBusName is the name of the BWC event bus (BWC_EVENT_BUS).
func (c *Cloud) EventBusName() string { return c.cfg.Name }

// MachineARNs lists the state machines' ARNs, sorted.
func (c *Cloud) MachineARNs() []string {
	out := make([]string, 0, len(c.machines))
	for arn := range c.machines {
		out = append(out, arn)
	}
	slices.Sort(out)
	return out
}

// apiError is an error answer of the AWS JSON protocol.
type apiError struct {
	Type    string
	Message string
	Status  int // default 400
}

func (e *apiError) Error() string { return e.Type + ": " + e.Message }

func errorf(typ, format string, args ...any) *apiError {
	return &apiError{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// maxRequestBody bounds the body of an AWS JSON protocol request (the
// calls answered take at most a few hundred KiB).
const maxRequestBody = 8 << 20

// operation answers one X-Amz-Target.
type operation func(ctx context.Context, body []byte) (any, error)

func (c *Cloud) operations() map[string]operation {
	return map[string]operation{
		"AWSEvents.PutEvents":                               c.putEvents,
		"AWSStepFunctions.StartExecution":                   c.startExecutionOp,
		"AWSStepFunctions.DescribeExecution":                c.describeExecution,
		"AWSStepFunctions.StopExecution":                    c.stopExecution,
		"AWSStepFunctions.GetExecutionHistory":              c.getExecutionHistory,
		"AWSStepFunctions.SendTaskSuccess":                  c.sendTaskSuccess,
		"AWSStepFunctions.SendTaskFailure":                  c.sendTaskFailure,
		"AWSStepFunctions.SendTaskHeartbeat":                c.sendTaskHeartbeat,
		"AWSStepFunctions.ListExecutions":                   c.listExecutions,
		"AWSStepFunctions.ListStateMachines":                c.listStateMachines,
		"AWSStepFunctions.DescribeStateMachine":             c.describeStateMachine,
		"AWSStepFunctions.DescribeStateMachineForExecution": c.describeStateMachineForExecution,
	}
}

// ServeHTTP answers a POST of the AWS JSON protocol, dispatched on its
// X-Amz-Target header.
func (c *Cloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	ctype := "application/x-amz-json-1.0"
	if strings.HasPrefix(target, "AWSEvents.") {
		ctype = "application/x-amz-json-1.1"
	}
	if r.Method != http.MethodPost {
		writeError(w, ctype, &apiError{Type: "UnknownOperationException", Message: "the local cloud takes POST requests of the AWS JSON protocol (X-Amz-Target)", Status: http.StatusMethodNotAllowed})
		return
	}
	op := c.ops[target]
	if op == nil {
		writeError(w, ctype, errorf("UnknownOperationException", "operation %q is not answered by the local cloud (bwc serve --aws); see docs/local-cloud.md", target))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		writeError(w, ctype, errorf("SerializationException", "reading the request: %v", err))
		return
	}
	if len(body) > maxRequestBody {
		writeError(w, ctype, &apiError{Type: "SerializationException", Status: http.StatusRequestEntityTooLarge,
			Message: fmt.Sprintf("the request body is over the local cloud's limit of %d bytes", maxRequestBody)})
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	out, err := op(r.Context(), body)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			c.log.Error("answering an AWS call", "target", target, "err", err)
			ae = &apiError{Type: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError}
		}
		writeError(w, ctype, ae)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		writeError(w, ctype, &apiError{Type: "InternalFailure", Message: err.Error(), Status: http.StatusInternalServerError})
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Amzn-RequestId", newUUID())
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, ctype string, e *apiError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": e.Type, "message": e.Message})
	_, _ = w.Write(b)
}

// decode reads a request body into v; a malformed body is a
// SerializationException.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errorf("SerializationException", "the request body is not the expected JSON: %v", err)
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// epoch is a timestamp as the AWS JSON protocol writes it: seconds since
// the Unix epoch, with milliseconds.
func epoch(t time.Time) float64 {
	return float64(t.UnixMilli()) / 1000
}
