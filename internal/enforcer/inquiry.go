package enforcer

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

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
