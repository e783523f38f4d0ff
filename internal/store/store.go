package store

import (
	"context"
	"encoding/json"
	"time"
)

// Page is one page of a list. Next is an opaque token for the following
// page, empty on the last one.
type Page[T any] struct {
	Items []T
	Next  string
}

// Default and maximum page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// PageLimit returns the effective page size for a requested limit.
func PageLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultLimit
	case limit > MaxLimit:
		return MaxLimit
	}
	return limit
}

// TimeRange bounds a list by time, inclusive on both ends; zero means open.
type TimeRange struct {
	Since time.Time
	Until time.Time
}

// TriggerInstanceQuery selects trigger instances, newest first.
type TriggerInstanceQuery struct {
	Trigger string // empty: every trigger type
	TimeRange
	Limit int
	Token string
}

// EnforcementQuery selects rule enforcements, newest first.
type EnforcementQuery struct {
	Rule string // empty: every rule
	TimeRange
	Limit int
	Token string
}

// ExecutionQuery selects executions, newest (by StartedAt) first. Every set
// field must match.
type ExecutionQuery struct {
	Status            ExecutionStatus
	Action            string
	Rule              string
	TriggerInstanceID string
	ParentID          string
	TraceTag          string
	User              string
	TimeRange
	Limit int
	Token string
}

// KeyValueQuery selects key-value pairs of one scope (and user) whose name
// starts with Prefix, by name.
type KeyValueQuery struct {
	Scope   Scope
	User    string
	Prefix  string
	Decrypt bool // return secrets decrypted (the caller has checked permission)
	Limit   int
	Token   string
}

// InquiryQuery selects inquiries, newest first.
type InquiryQuery struct {
	Status InquiryStatus // empty: every status
	Limit  int
	Token  string
}

// ExecutionUpdate is a compare-and-set change of an execution's status.
type ExecutionUpdate struct {
	From ExecutionStatus // the status the caller expects the execution in
	To   ExecutionStatus
	// Result, if non-nil, replaces the result (any size).
	Result json.RawMessage
	// At is when the change happened; zero means the store's clock.
	At time.Time
}

// TriggerInstances records trigger instances. Used by sensors (before they
// acknowledge an event) and by the enforcer.
type TriggerInstances interface {
	// CreateTriggerInstance stores ti and returns it as stored (with id,
	// status and expiry filled in). When ti.SourceEventID is set and ti.ID
	// is empty, the id is derived from the source event id, so a redelivered
	// event is recorded once. Outcomes: the stored record and nil; the
	// existing record and ErrAlreadyExists; ErrInvalid; a storage error.
	CreateTriggerInstance(ctx context.Context, ti TriggerInstance) (TriggerInstance, error)
	// GetTriggerInstance returns the instance, or ErrNotFound.
	GetTriggerInstance(ctx context.Context, id string) (TriggerInstance, error)
	// SetTriggerInstanceStatus changes the status from `from` to `to`.
	// Outcomes: the updated record; ErrNotFound; the current record and
	// ErrConflict if it is not in `from`; ErrIllegalTransition.
	SetTriggerInstanceStatus(ctx context.Context, id string, from, to TriggerInstanceStatus) (TriggerInstance, error)
	// ListTriggerInstances lists instances newest first. Outcomes: a page
	// (possibly empty); ErrInvalid for a bad token; a storage error.
	ListTriggerInstances(ctx context.Context, q TriggerInstanceQuery) (Page[TriggerInstance], error)
}

// Enforcements records rule enforcements. Used by the enforcer and the API.
type Enforcements interface {
	// CreateEnforcement stores e. Outcomes: the stored record; the existing
	// record and ErrAlreadyExists; ErrInvalid; a storage error.
	CreateEnforcement(ctx context.Context, e Enforcement) (Enforcement, error)
	// GetEnforcement returns the enforcement, or ErrNotFound.
	GetEnforcement(ctx context.Context, id string) (Enforcement, error)
	// ListEnforcements lists enforcements newest first. Outcomes: a page;
	// ErrInvalid for a bad token; a storage error.
	ListEnforcements(ctx context.Context, q EnforcementQuery) (Page[Enforcement], error)
}

// Executions records executions. Used by the enforcer, the runners, the
// workflow engines and the API.
type Executions interface {
	// CreateExecution stores e, masking its secret parameters (their
	// values are kept encrypted, see [ExecutionSecrets]) and starting its
	// status log. Outcomes: the stored record; the existing record and
	// ErrAlreadyExists; ErrInvalid; a storage error.
	CreateExecution(ctx context.Context, e Execution) (Execution, error)
	// CreateExecutions stores many executions at once (workflow fan-out,
	// imports). Ids already stored are skipped. Outcomes: how many were
	// created and nil; ErrInvalid (nothing written); a storage error (some
	// may have been written; retrying is safe).
	CreateExecutions(ctx context.Context, es []Execution) (int, error)
	// GetExecution returns the execution with its full result, or
	// ErrNotFound.
	GetExecution(ctx context.Context, id string) (Execution, error)
	// UpdateExecution changes the status compare-and-set, appends to the
	// status log, sets EndedAt when the new status is finished and replaces
	// the result if one is given. Outcomes: the updated record; ErrNotFound;
	// ErrIllegalTransition (From -> To is not in the table; nothing read);
	// the current record and ErrConflict when it is not in From; ErrInvalid;
	// a storage error.
	UpdateExecution(ctx context.Context, id string, u ExecutionUpdate) (Execution, error)
	// ListExecutions lists executions newest first, without their Result.
	// Outcomes: a page; ErrInvalid for a bad token; a storage error.
	ListExecutions(ctx context.Context, q ExecutionQuery) (Page[Execution], error)
	ExecutionSecrets
}

// Output keeps the streamed output of executions, for tail.
type Output interface {
	// AppendOutput stores one chunk. A chunk whose (execution, seq) is
	// stored already is not written again and yields ErrAlreadyExists (so a
	// redelivered chunk is harmless). Outcomes: nil; ErrAlreadyExists;
	// ErrInvalid; a storage error.
	AppendOutput(ctx context.Context, c OutputChunk) error
	// ListOutput returns up to limit chunks of the execution with Seq >
	// afterSeq, in Seq order (tail: pass the last Seq seen). Outcomes: the
	// chunks (possibly none); a storage error.
	ListOutput(ctx context.Context, executionID string, afterSeq int64, limit int) ([]OutputChunk, error)
}

// Traces follows a trace tag across record types.
type Traces interface {
	// GetTrace returns the ids of every trigger instance, enforcement and
	// execution with the tag, each list oldest first. Outcomes: the trace;
	// ErrNotFound when nothing has the tag; a storage error.
	GetTrace(ctx context.Context, tag string) (Trace, error)
}

// KeyValues is the datastore of key-value pairs.
type KeyValues interface {
	// PutKeyValue creates or replaces a pair, encrypting it when Secret.
	// Outcomes: the pair as a read would return it (masked if secret);
	// ErrInvalid; ErrNoCipher for a secret without a cipher; a storage or
	// cipher error.
	PutKeyValue(ctx context.Context, kv KeyValue) (KeyValue, error)
	// GetKeyValue returns a pair; a secret is decrypted only if decrypt is
	// true. Outcomes: the pair; ErrNotFound; ErrNoCipher; a storage or
	// cipher error.
	GetKeyValue(ctx context.Context, ref KeyRef, decrypt bool) (KeyValue, error)
	// ListKeyValues lists the pairs of a scope by name. Outcomes: a page;
	// ErrInvalid; ErrNoCipher; a storage or cipher error.
	ListKeyValues(ctx context.Context, q KeyValueQuery) (Page[KeyValue], error)
	// DeleteKeyValue removes a pair. Outcomes: nil; ErrNotFound; a storage
	// error.
	DeleteKeyValue(ctx context.Context, ref KeyRef) error
}

// Inquiries keeps the questions asked by core.ask.
type Inquiries interface {
	// CreateInquiry stores a pending inquiry. Outcomes: the stored record;
	// the existing record and ErrAlreadyExists; ErrInvalid; a storage error.
	CreateInquiry(ctx context.Context, q Inquiry) (Inquiry, error)
	// GetInquiry returns the inquiry, or ErrNotFound.
	GetInquiry(ctx context.Context, id string) (Inquiry, error)
	// ResolveInquiry moves a pending inquiry to a final status (responded,
	// timeout, canceled), recording the response and who gave it.
	// Outcomes: the updated record; ErrNotFound; ErrIllegalTransition; the
	// current record and ErrConflict when it is no longer pending; a
	// storage error.
	ResolveInquiry(ctx context.Context, id string, to InquiryStatus, response json.RawMessage, by string) (Inquiry, error)
	// ListInquiries lists inquiries newest first. Outcomes: a page;
	// ErrInvalid; a storage error.
	ListInquiries(ctx context.Context, q InquiryQuery) (Page[Inquiry], error)
}

// APIKeys keeps hashed API keys.
type APIKeys interface {
	// CreateAPIKey stores a key. Outcomes: the stored record; the existing
	// record and ErrAlreadyExists (same id); ErrInvalid; a storage error.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// APIKeyByHash finds the key with the hash (authentication). Outcomes:
	// the key; ErrNotFound; a storage error.
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	// ListAPIKeys lists keys, newest first. Outcomes: a page; ErrInvalid; a
	// storage error.
	ListAPIKeys(ctx context.Context, limit int, token string) (Page[APIKey], error)
	// DeleteAPIKey removes a key. Outcomes: nil; ErrNotFound; a storage
	// error.
	DeleteAPIKey(ctx context.Context, id string) error
}

// Purger deletes records past their retention.
type Purger interface {
	// Purge deletes what expired before the store's clock's now and
	// returns how many records it deleted (0 where the database expires
	// records itself, as DynamoDB TTL does). Outcomes: the count; a storage
	// error (a partial purge; retrying is safe).
	Purge(ctx context.Context) (int, error)
}

// Store is every port together, as the wiring builds it.
type Store interface {
	TriggerInstances
	Enforcements
	Executions
	Output
	Traces
	KeyValues
	Inquiries
	APIKeys
	Checkpoints
	Purger
	// Close releases the store's resources.
	Close() error
}

// Clock tells the time; tests inject a fake.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Cipher encrypts secrets at rest. aad (associated data) binds a ciphertext
// to its key so that it cannot be moved to another key.
type Cipher interface {
	Encrypt(ctx context.Context, plaintext, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext, aad []byte) ([]byte, error)
}

// Options are what every adapter takes besides its connection.
type Options struct {
	Clock     Clock     // nil: SystemClock
	Cipher    Cipher    // nil: secrets refused with ErrNoCipher
	Retention Retention // zero fields: DefaultRetention's
}

// WithDefaults fills the unset options.
func (o Options) WithDefaults() Options {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	o.Retention = o.Retention.withDefaults()
	return o
}
