package enforcer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/bwc-project/bwc/internal/store"
)

// InquiryStore reads and resolves inquiries; store.Inquiries satisfies it.
type InquiryStore interface {
	GetInquiry(ctx context.Context, id string) (store.Inquiry, error)
	ResolveInquiry(ctx context.Context, id string, to store.InquiryStatus, response json.RawMessage, by string) (store.Inquiry, error)
}

// RespondInquiry checks user's response to inquiry id and records it, as
// both engines take a response: the inquiry must be pending, user must be
// one of its users when it names some, and the response must satisfy its
// schema. What then answers the waiting task is the engine's. Outcomes:
// the inquiry as resolved (its Response the response as recorded);
// store.ErrNotFound; a *ParameterError (pointers under /response) for a
// response that does not match; store.ErrConflict when it is not pending
// or the user may not answer; a storage error.
func RespondInquiry(ctx context.Context, st InquiryStore, id string, response map[string]any, user string) (store.Inquiry, error) {
	inq, err := st.GetInquiry(ctx, id)
	if err != nil {
		return store.Inquiry{}, fmt.Errorf("responding to inquiry %s: %w", id, err)
	}
	if inq.Status != store.InquiryPending {
		return inq, fmt.Errorf("responding to inquiry %s: it is %s: %w", id, inq.Status, store.ErrConflict)
	}
	if len(inq.Users) > 0 && !slices.Contains(inq.Users, user) {
		return inq, fmt.Errorf("responding to inquiry %s: user %q may not answer it: %w", id, user, store.ErrConflict)
	}
	if len(inq.Schema) > 0 && string(inq.Schema) != "null" {
		var doc map[string]any
		if err := json.Unmarshal(inq.Schema, &doc); err == nil {
			sch, err := CompileSchema(doc)
			if err != nil {
				return inq, fmt.Errorf("responding to inquiry %s: its schema: %w", id, err)
			}
			if problems := Validate(sch, response); len(problems) > 0 {
				return inq, &ParameterError{Action: "inquiry " + id, In: "/response", Problems: problems}
			}
		}
	}
	raw, err := json.Marshal(response)
	if err != nil {
		return inq, fmt.Errorf("responding to inquiry %s: %w", id, err)
	}
	got, err := st.ResolveInquiry(ctx, id, store.InquiryResponded, raw, user)
	if err != nil {
		return got, fmt.Errorf("responding to inquiry %s: %w", id, err)
	}
	return got, nil
}

// ErrNameInquiryTimeout is the error a core.ask task fails with when nobody
// answers its inquiry within its ttl, in both engines.
const ErrNameInquiryTimeout = "bwc.InquiryTimeout"

// DefaultInquiryTTL is how long an inquiry waits when core.ask gives no ttl.
const DefaultInquiryTTL = 24 * time.Hour

// InquiryTTL reads core.ask's ttl parameter (minutes, as in st2): a
// positive number, else [DefaultInquiryTTL].
func InquiryTTL(v any) time.Duration {
	var n float64
	switch x := v.(type) {
	case float64:
		n = x
	case int64:
		n = float64(x)
	case int:
		n = float64(x)
	}
	if n <= 0 {
		return DefaultInquiryTTL
	}
	return time.Duration(n * float64(time.Minute))
}

// InquiryDeadline is when inquiry q times out: its TimeoutAt, or for a
// record without one (written before the field existed) its creation plus
// [DefaultInquiryTTL].
func InquiryDeadline(q store.Inquiry) time.Time {
	if !q.TimeoutAt.IsZero() {
		return q.TimeoutAt
	}
	return q.CreatedAt.Add(DefaultInquiryTTL)
}

// InquiryExpired reports whether q is pending and past its deadline at now.
func InquiryExpired(q store.Inquiry, now time.Time) bool {
	return q.Status == store.InquiryPending && !now.Before(InquiryDeadline(q))
}

// TimeoutInquiry moves pending inquiry id to timeout, compare-and-set, as
// both engines end an unanswered inquiry; only the caller that gets a nil
// error ends the waiting task, so a timeout and a response (or two
// sweeps) racing end it once. The message is the one the task fails with
// (error [ErrNameInquiryTimeout]). Outcomes: the inquiry as resolved and
// its message; the current record and store.ErrConflict when it is no
// longer pending (answered, canceled, or timed out by someone else);
// store.ErrNotFound; a storage error.
func TimeoutInquiry(ctx context.Context, st InquiryStore, id string) (store.Inquiry, string, error) {
	got, err := st.ResolveInquiry(ctx, id, store.InquiryTimeout, nil, "")
	if err != nil {
		return got, "", fmt.Errorf("timing out inquiry %s: %w", id, err)
	}
	return got, fmt.Sprintf("inquiry %s got no response within %s", id, InquiryDeadline(got).Sub(got.CreatedAt)), nil
}

// InquiryID is the id of the inquiry an execution of core.ask creates, in
// both engines (so a retried ask finds the inquiry it created).
func InquiryID(executionID string) string {
	sum := sha256.Sum256([]byte("inquiry\x00" + executionID))
	return "iq-" + hex.EncodeToString(sum[:12])
}

// NewInquiry is the inquiry core.ask's execution executionID asks at time
// at, from its parameters (param reads one: schema, users, roles, ttl).
// Outcomes: the inquiry to create; an error for a schema that does not
// encode as JSON.
func NewInquiry(executionID string, param func(name string) any, at time.Time) (store.Inquiry, error) {
	schema, err := json.Marshal(param("schema"))
	if err != nil {
		return store.Inquiry{}, fmt.Errorf("schema: %w", err)
	}
	return store.Inquiry{
		ID: InquiryID(executionID), ExecutionID: executionID, Schema: schema,
		Users: stringList(param("users")), Roles: stringList(param("roles")),
		CreatedAt: at, TimeoutAt: at.Add(InquiryTTL(param("ttl"))),
	}, nil
}

func stringList(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
