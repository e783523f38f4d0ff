package stepfunctions

import (
	"strings"

	"github.com/bwc-project/bwc/internal/content"
)

// LocalAccount is the account id the local cloud (`bwc serve --aws`) uses
// in ARNs.
const LocalAccount = "000000000000"

// MachineName is the physical name of the state machine of a workflow (or
// of content.ActionMachineRef): the prefix (BWC_NAME), a dash, and the
// reference with every character other than letters, digits, - and _
// replaced by _; e.g. bwc-examples_remediate_disk. It is the name the CDK
// stack gives (infra/stack.MachineName).
func MachineName(prefix, ref string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('-')
	for _, c := range ref {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Machines names the state machines of one deployment.
type Machines struct {
	// Prefix is the deployment's name prefix (BWC_NAME).
	Prefix string
	// Region and Account are those of the ARNs.
	Region  string
	Account string
	// IsWorkflow reports whether an action reference has a state machine
	// of its own: a workflow, or a hand-written asl action
	// (content.Compiled.HasMachine). Every other action runs on the action
	// machine.
	IsWorkflow func(ref string) bool
}

// MachineRef is the reference of the state machine that runs action ref:
// the action itself for a workflow or a hand-written asl action (whose
// machine gets the parameters as its input, as the embedded engine gives
// them), content.ActionMachineRef otherwise.
func (m Machines) MachineRef(ref string) string {
	if m.IsWorkflow != nil && m.IsWorkflow(ref) {
		return ref
	}
	return content.ActionMachineRef
}

// ARN is the ARN of the state machine of reference ref (a workflow or
// content.ActionMachineRef).
func (m Machines) ARN(ref string) string {
	return "arn:aws:states:" + m.Region + ":" + m.Account + ":stateMachine:" + MachineName(m.Prefix, ref)
}

// ExecutionARN is the ARN of the execution named name of the state machine
// of reference ref.
func (m Machines) ExecutionARN(ref, name string) string {
	return "arn:aws:states:" + m.Region + ":" + m.Account + ":execution:" + MachineName(m.Prefix, ref) + ":" + name
}

// ExecutionName returns the name of an execution from its ARN (the part
// after the last colon): the BWC execution id of executions BWC starts.
func ExecutionName(arn string) string {
	return arn[strings.LastIndexByte(arn, ':')+1:]
}

// MachineNameOf returns the state machine name of a state machine ARN or
// execution ARN.
func MachineNameOf(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 {
		return ""
	}
	return parts[6]
}
