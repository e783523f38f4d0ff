package store

import (
	"encoding/json"
	"time"
)

// TriggerInstance is one occurrence of a trigger, recorded before the event
// that carried it is acknowledged.
type TriggerInstance struct {
	ID            string                `json:"id"`
	Trigger       string                `json:"trigger"` // trigger type ref, pack.name
	Payload       json.RawMessage       `json:"payload,omitempty"`
	OccurredAt    time.Time             `json:"occurred_at"`
	Status        TriggerInstanceStatus `json:"status"`
	SourceEventID string                `json:"source_event_id,omitempty"` // the bus event id
	TraceTag      string                `json:"trace_tag,omitempty"`
	ExpiresAt     time.Time             `json:"expires_at,omitzero"`
}

// Enforcement records that a rule matched a trigger instance and what it
// started.
type Enforcement struct {
	ID                string            `json:"id"`
	Rule              string            `json:"rule"` // rule ref, pack.name
	TriggerInstanceID string            `json:"trigger_instance_id"`
	ExecutionID       string            `json:"execution_id,omitempty"`
	Status            EnforcementStatus `json:"status"`
	FailureReason     string            `json:"failure_reason,omitempty"`
	EnforcedAt        time.Time         `json:"enforced_at"`
	TraceTag          string            `json:"trace_tag,omitempty"`
	ExpiresAt         time.Time         `json:"expires_at,omitzero"`
}

// ExecutionContext is who and what started an execution.
type ExecutionContext struct {
	User              string `json:"user,omitempty"`
	Rule              string `json:"rule,omitempty"`
	TriggerInstanceID string `json:"trigger_instance_id,omitempty"`
	TraceTag          string `json:"trace_tag,omitempty"`
	WorkflowTask      string `json:"workflow_task,omitempty"` // the task of the parent workflow
	// WorkflowState is, for an execution a workflow task started, where
	// the workflow was when the task started (what a re-run from the task
	// starts with).
	WorkflowState *WorkflowState `json:"workflow_state,omitempty"`
	// RetryOf is, for an execution a retry policy started, the execution
	// first retried; RetryAttempt counts the retries (1 for the first).
	RetryOf      string `json:"retry_of,omitempty"`
	RetryAttempt int    `json:"retry_attempt,omitempty"`
	// NotBefore, when set, is the earliest time the execution may be
	// scheduled (a retry waiting for its policy's delay): until then it
	// stays delayed.
	NotBefore time.Time `json:"not_before,omitzero"`
	// ReRunOf is, for a workflow re-run from given tasks, the execution
	// re-run; ReRunTasks are the tasks and ReRunStart where it starts.
	ReRunOf    string         `json:"rerun_of,omitempty"`
	ReRunTasks []string       `json:"rerun_tasks,omitempty"`
	ReRunStart *WorkflowState `json:"rerun_start,omitempty"`
}

// WorkflowState is a point in a workflow's run: a top-level state of its
// state machine, the workflow's variables and the state's input when it
// was entered.
type WorkflowState struct {
	State string          `json:"state"`
	Vars  json.RawMessage `json:"vars,omitempty"`  // a JSON object
	Input json.RawMessage `json:"input,omitempty"` // any JSON value
}

// StatusChange is one entry of an execution's status log.
type StatusChange struct {
	Status ExecutionStatus `json:"status"`
	At     time.Time       `json:"at"`
}

// Execution is one run of an action. Result may be several megabytes; list
// calls leave it out (see [Executions.ListExecutions]).
type Execution struct {
	ID     string `json:"id"`
	Action string `json:"action"` // action ref, pack.name
	Runner string `json:"runner"`
	// Parameters as rendered; parameters named in SecretParameters are
	// masked by the store before the record is written (their values are
	// kept encrypted beside it, read only with ExecutionSecrets).
	Parameters       map[string]any   `json:"parameters,omitempty"`
	SecretParameters []string         `json:"secret_parameters,omitempty"`
	Status           ExecutionStatus  `json:"status"`
	StatusLog        []StatusChange   `json:"status_log,omitempty"`
	Result           json.RawMessage  `json:"result,omitempty"`
	StartedAt        time.Time        `json:"started_at"`
	EndedAt          time.Time        `json:"ended_at,omitzero"`
	ParentID         string           `json:"parent_id,omitempty"`
	Context          ExecutionContext `json:"context"`
	ExpiresAt        time.Time        `json:"expires_at,omitzero"`
	// Version counts the writes of the record; adapters use it for their
	// own compare-and-set. Callers read it, never set it.
	Version int64 `json:"version"`
}

// Stream names an output stream of an execution.
type Stream string

// Output streams.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// OutputChunk is a piece of an execution's output. Seq orders the chunks of
// one execution across both streams; the writer numbers them from 1.
type OutputChunk struct {
	ExecutionID string    `json:"execution_id"`
	Seq         int64     `json:"seq"`
	Stream      Stream    `json:"stream"`
	Data        string    `json:"data"`
	At          time.Time `json:"at"`
}

// Trace is everything recorded under one trace tag.
type Trace struct {
	Tag                string   `json:"tag"`
	TriggerInstanceIDs []string `json:"trigger_instance_ids"`
	EnforcementIDs     []string `json:"enforcement_ids"`
	ExecutionIDs       []string `json:"execution_ids"`
}

// Scope is the scope of a key-value pair.
type Scope string

// Key-value scopes, as st2 names them without the st2kv. prefix.
const (
	ScopeSystem Scope = "system"
	ScopeUser   Scope = "user"
)

// KeyRef names a key-value pair. User is set exactly when Scope is
// [ScopeUser].
type KeyRef struct {
	Scope Scope  `json:"scope"`
	User  string `json:"user,omitempty"`
	Name  string `json:"name"`
}

// Validate checks the reference.
func (k KeyRef) Validate() error {
	switch {
	case k.Name == "":
		return invalidf("key name is empty")
	case k.Scope == ScopeSystem && k.User != "":
		return invalidf("key %q: system scope takes no user", k.Name)
	case k.Scope == ScopeUser && k.User == "":
		return invalidf("key %q: user scope needs a user", k.Name)
	case k.Scope != ScopeSystem && k.Scope != ScopeUser:
		return invalidf("key %q: scope %q, expected system or user", k.Name, k.Scope)
	}
	return nil
}

// String renders the reference as scope/user/name (for cipher associated
// data and error messages).
func (k KeyRef) String() string { return string(k.Scope) + "/" + k.User + "/" + k.Name }

// Masked is what a secret value reads as when it is not decrypted.
const Masked = "********"

// KeyValue is a datastore entry. Value is plain text when read; when Secret
// it is encrypted at rest and reads as [Masked] unless decryption is asked
// for.
type KeyValue struct {
	KeyRef
	Value     string    `json:"value"`
	Secret    bool      `json:"secret,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
	// ExpiresAt, if set, is when the pair disappears (st2's ttl).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// Inquiry is a question asked by core.ask, waiting for a response.
type Inquiry struct {
	ID          string          `json:"id"`
	ExecutionID string          `json:"execution_id"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Roles       []string        `json:"roles,omitempty"`
	Users       []string        `json:"users,omitempty"`
	Status      InquiryStatus   `json:"status"`
	Response    json.RawMessage `json:"response,omitempty"`
	RespondedBy string          `json:"responded_by,omitempty"`
	TaskToken   string          `json:"task_token,omitempty"` // Step Functions callback token
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ExpiresAt   time.Time       `json:"expires_at,omitzero"`
	// TimeoutAt is when the inquiry times out unless answered (created_at
	// plus core.ask's ttl); zero in records written before it existed.
	TimeoutAt time.Time `json:"timeout_at,omitzero"`
}

// APIKey is an API key as stored: its hash, never the key.
type APIKey struct {
	ID        string    `json:"id"`
	KeyHash   string    `json:"key_hash"` // see HashAPIKey
	User      string    `json:"user"`
	Role      string    `json:"role"`
	Enabled   bool      `json:"enabled"`
	CreatedAt time.Time `json:"created_at"`
}
