package api

import (
	"encoding/json"

	"github.com/bwc-project/bwc/internal/store"
)

// Header names.
const (
	// HeaderAPIKey carries the API key.
	HeaderAPIKey = "X-BWC-Api-Key"
	// HeaderSt2APIKey is st2's name for it, accepted too.
	HeaderSt2APIKey = "St2-Api-Key"
	// HeaderEventID names the event a webhook delivers; a second delivery
	// with the same id is acknowledged and ignored. Standard Webhooks'
	// webhook-id and GitHub's X-GitHub-Delivery are used when it is absent.
	HeaderEventID = "X-BWC-Event-Id"
)

// RunRequest asks to run an action (POST /api/v1/executions).
type RunRequest struct {
	Action     string         `json:"action"`
	Parameters map[string]any `json:"parameters,omitempty"`
	TraceTag   string         `json:"trace_tag,omitempty"`
}

// ExecutionList is a page of executions (GET /api/v1/executions).
type ExecutionList struct {
	Items []store.Execution `json:"items"`
	Next  string            `json:"next,omitempty"`
}

// TriggerInstanceList is a page of trigger instances.
type TriggerInstanceList struct {
	Items []store.TriggerInstance `json:"items"`
	Next  string                  `json:"next,omitempty"`
}

// EnforcementList is a page of rule enforcements.
type EnforcementList struct {
	Items []store.Enforcement `json:"items"`
	Next  string              `json:"next,omitempty"`
}

// Output is a piece of an execution's output (GET
// /api/v1/executions/{id}/output?after=SEQ): the chunks after SEQ and the
// execution's status when they were read, so a tail knows when to stop.
type Output struct {
	Chunks []store.OutputChunk   `json:"chunks"`
	Status store.ExecutionStatus `json:"status"`
}

// TriggerRequest is the body of POST /api/v1/webhooks/st2: a trigger
// instance of any trigger type.
type TriggerRequest struct {
	Trigger string         `json:"trigger"`
	Payload map[string]any `json:"payload"`
	// TraceTag, when set, links the records the trigger causes.
	TraceTag string `json:"trace_tag,omitempty"`
}

// Accepted answers a webhook: the trigger instance recorded (or found, for
// a duplicate event).
type Accepted struct {
	EventID           string `json:"event_id"`
	TriggerInstanceID string `json:"trigger_instance_id"`
	Trigger           string `json:"trigger"`
	Duplicate         bool   `json:"duplicate,omitempty"`
}

// Problem is one problem with a request body, located by JSON pointer.
type Problem struct {
	Pointer string `json:"pointer"`
	Message string `json:"message"`
}

// ErrorBody is the body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	// Code is stable: bad_request, invalid_payload, invalid_parameters,
	// unauthorized, not_found, conflict, internal.
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Problems []Problem `json:"problems,omitempty"`
}

// Error codes.
const (
	CodeBadRequest        = "bad_request"
	CodeInvalidPayload    = "invalid_payload"
	CodeInvalidParameters = "invalid_parameters"
	CodeUnauthorized      = "unauthorized"
	CodeNotFound          = "not_found"
	CodeConflict          = "conflict"
	CodeInternal          = "internal"
)

// Health is the body of GET /api/v1/health.
type Health struct {
	Status  string          `json:"status"`
	Version string          `json:"version,omitempty"`
	Info    json.RawMessage `json:"info,omitempty"`
}

// InquiryList is a page of inquiries.
type InquiryList struct {
	Items []store.Inquiry `json:"items"`
	Next  string          `json:"next,omitempty"`
}

// RespondRequest answers an inquiry (POST /api/v1/inquiries/{id}/respond).
type RespondRequest struct {
	Response map[string]any `json:"response"`
}

// ReRunRequest re-runs an execution (POST /api/v1/executions/{id}/re-run):
// its action with its parameters, overridden by Parameters. Tasks (a
// workflow execution only, without Parameters) start the new run at those
// tasks, with the workflow variables the original run had when it entered
// them (st2's re-run --tasks).
type ReRunRequest struct {
	Parameters map[string]any `json:"parameters,omitempty"`
	Tasks      []string       `json:"tasks,omitempty"`
}

// KeyRequest stores a datastore value (PUT /api/v1/keys/{scope}/{name}).
type KeyRequest struct {
	Value  string `json:"value"`
	Secret bool   `json:"secret,omitempty"` // encrypted at rest, masked when read
	TTL    int    `json:"ttl,omitempty"`    // seconds; 0 keeps it
}

// KeyList is a page of datastore values.
type KeyList struct {
	Items []store.KeyValue `json:"items"`
	Next  string           `json:"next,omitempty"`
}
