package store

// ExecutionStatus is the lifecycle state of an execution, with StackStorm's
// names.
type ExecutionStatus string

// Execution statuses.
const (
	StatusRequested ExecutionStatus = "requested"
	StatusDelayed   ExecutionStatus = "delayed"
	StatusScheduled ExecutionStatus = "scheduled"
	StatusRunning   ExecutionStatus = "running"
	StatusPending   ExecutionStatus = "pending" // waiting on an inquiry
	StatusPausing   ExecutionStatus = "pausing"
	StatusPaused    ExecutionStatus = "paused"
	StatusResuming  ExecutionStatus = "resuming"
	StatusCanceling ExecutionStatus = "canceling"
	StatusSucceeded ExecutionStatus = "succeeded"
	StatusFailed    ExecutionStatus = "failed"
	StatusTimeout   ExecutionStatus = "timeout"
	StatusCanceled  ExecutionStatus = "canceled"
	StatusAbandoned ExecutionStatus = "abandoned"
)

// ExecutionStatuses lists every execution status.
var ExecutionStatuses = []ExecutionStatus{
	StatusRequested, StatusDelayed, StatusScheduled, StatusRunning, StatusPending,
	StatusPausing, StatusPaused, StatusResuming, StatusCanceling,
	StatusSucceeded, StatusFailed, StatusTimeout, StatusCanceled, StatusAbandoned,
}

// executionTransitions is the legal transition table: from -> allowed to.
// Finished statuses have no entry: nothing leaves them.
var executionTransitions = map[ExecutionStatus][]ExecutionStatus{
	StatusRequested: {StatusDelayed, StatusScheduled, StatusRunning, StatusCanceling, StatusCanceled, StatusFailed, StatusAbandoned},
	StatusDelayed:   {StatusScheduled, StatusCanceling, StatusCanceled, StatusFailed, StatusAbandoned},
	StatusScheduled: {StatusRunning, StatusCanceling, StatusCanceled, StatusFailed, StatusTimeout, StatusAbandoned},
	StatusRunning:   {StatusPending, StatusPausing, StatusPaused, StatusCanceling, StatusCanceled, StatusSucceeded, StatusFailed, StatusTimeout, StatusAbandoned},
	StatusPending:   {StatusRunning, StatusPausing, StatusPaused, StatusCanceling, StatusCanceled, StatusSucceeded, StatusFailed, StatusTimeout, StatusAbandoned},
	StatusPausing:   {StatusPaused, StatusCanceling, StatusCanceled, StatusSucceeded, StatusFailed, StatusTimeout, StatusAbandoned},
	StatusPaused:    {StatusResuming, StatusRunning, StatusCanceling, StatusCanceled, StatusAbandoned},
	StatusResuming:  {StatusRunning, StatusPausing, StatusCanceling, StatusCanceled, StatusFailed, StatusAbandoned},
	// An action may finish on its own while its cancellation is under way.
	StatusCanceling: {StatusCanceled, StatusSucceeded, StatusFailed, StatusTimeout, StatusAbandoned},
}

// Valid reports whether s is a known execution status.
func (s ExecutionStatus) Valid() bool {
	for _, k := range ExecutionStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// Finished reports whether s is final: succeeded, failed, timeout, canceled
// or abandoned.
func (s ExecutionStatus) Finished() bool {
	switch s {
	case StatusSucceeded, StatusFailed, StatusTimeout, StatusCanceled, StatusAbandoned:
		return true
	}
	return false
}

// CanTransition reports whether an execution may go from one status to
// another. A status never transitions to itself.
func CanTransition(from, to ExecutionStatus) bool {
	for _, s := range executionTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// CheckTransition returns a [*TransitionError] when from -> to is illegal.
func CheckTransition(from, to ExecutionStatus) error {
	if !CanTransition(from, to) {
		return &TransitionError{Kind: "execution", From: string(from), To: string(to)}
	}
	return nil
}

// TriggerInstanceStatus is the processing state of a trigger instance, with
// StackStorm's names.
type TriggerInstanceStatus string

// Trigger instance statuses.
const (
	TriggerPending          TriggerInstanceStatus = "pending"
	TriggerProcessing       TriggerInstanceStatus = "processing"
	TriggerProcessed        TriggerInstanceStatus = "processed"
	TriggerProcessingFailed TriggerInstanceStatus = "processing_failed"
)

var triggerTransitions = map[TriggerInstanceStatus][]TriggerInstanceStatus{
	TriggerPending:    {TriggerProcessing, TriggerProcessed, TriggerProcessingFailed},
	TriggerProcessing: {TriggerProcessed, TriggerProcessingFailed},
}

// Valid reports whether s is a known trigger instance status.
func (s TriggerInstanceStatus) Valid() bool {
	switch s {
	case TriggerPending, TriggerProcessing, TriggerProcessed, TriggerProcessingFailed:
		return true
	}
	return false
}

// CheckTriggerTransition returns a [*TransitionError] when from -> to is
// illegal for a trigger instance.
func CheckTriggerTransition(from, to TriggerInstanceStatus) error {
	for _, s := range triggerTransitions[from] {
		if s == to {
			return nil
		}
	}
	return &TransitionError{Kind: "trigger instance", From: string(from), To: string(to)}
}

// EnforcementStatus says whether a rule enforcement started its action.
type EnforcementStatus string

// Enforcement statuses.
const (
	EnforcementSucceeded EnforcementStatus = "succeeded"
	EnforcementFailed    EnforcementStatus = "failed"
)

// Valid reports whether s is a known enforcement status.
func (s EnforcementStatus) Valid() bool {
	return s == EnforcementSucceeded || s == EnforcementFailed
}

// InquiryStatus is the state of an inquiry (core.ask).
type InquiryStatus string

// Inquiry statuses.
const (
	InquiryPending   InquiryStatus = "pending"
	InquiryResponded InquiryStatus = "responded"
	InquiryTimeout   InquiryStatus = "timeout"
	InquiryCanceled  InquiryStatus = "canceled"
)

// Valid reports whether s is a known inquiry status.
func (s InquiryStatus) Valid() bool {
	switch s {
	case InquiryPending, InquiryResponded, InquiryTimeout, InquiryCanceled:
		return true
	}
	return false
}

// CheckInquiryTransition returns a [*TransitionError] unless from is pending
// and to is one of the final statuses.
func CheckInquiryTransition(from, to InquiryStatus) error {
	if from == InquiryPending && to != InquiryPending && to.Valid() {
		return nil
	}
	return &TransitionError{Kind: "inquiry", From: string(from), To: string(to)}
}
