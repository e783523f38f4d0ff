package store

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
)

// The functions below hold the rules both adapters apply, so that the
// adapters only move bytes.

// TriggerInstanceID derives a trigger instance id from the id of the bus
// event that carried it, so a redelivered event maps to the same record.
func TriggerInstanceID(sourceEventID string) string {
	sum := sha256.Sum256([]byte(sourceEventID))
	return "ti-" + hex.EncodeToString(sum[:16])
}

// HashAPIKey returns the hash under which an API key is stored and looked
// up. Keys are long random strings, so a plain SHA-256 is enough.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// PrepareTriggerInstance validates ti and fills its defaults.
func PrepareTriggerInstance(ti TriggerInstance, now time.Time, r Retention) (TriggerInstance, error) {
	if ti.ID == "" && ti.SourceEventID != "" {
		ti.ID = TriggerInstanceID(ti.SourceEventID)
	}
	switch {
	case ti.ID == "":
		return ti, invalidf("trigger instance: id and source event id are both empty")
	case ti.Trigger == "":
		return ti, invalidf("trigger instance %s: trigger is empty", ti.ID)
	}
	if ti.Status == "" {
		ti.Status = TriggerPending
	}
	if !ti.Status.Valid() {
		return ti, invalidf("trigger instance %s: status %q", ti.ID, ti.Status)
	}
	if err := checkJSON(ti.Payload, "trigger instance "+ti.ID+" payload"); err != nil {
		return ti, err
	}
	if ti.OccurredAt.IsZero() {
		ti.OccurredAt = now
	}
	ti.OccurredAt = ti.OccurredAt.UTC()
	ti.ExpiresAt = expiry(ti.OccurredAt, r.TriggerInstances)
	return ti, nil
}

// PrepareEnforcement validates e and fills its defaults.
func PrepareEnforcement(e Enforcement, now time.Time, r Retention) (Enforcement, error) {
	switch {
	case e.ID == "":
		return e, invalidf("enforcement: id is empty")
	case e.Rule == "":
		return e, invalidf("enforcement %s: rule is empty", e.ID)
	case !e.Status.Valid():
		return e, invalidf("enforcement %s: status %q, expected succeeded or failed", e.ID, e.Status)
	}
	if e.EnforcedAt.IsZero() {
		e.EnforcedAt = now
	}
	e.EnforcedAt = e.EnforcedAt.UTC()
	e.ExpiresAt = expiry(e.EnforcedAt, r.Enforcements)
	return e, nil
}

// PrepareExecution validates e, masks its secret parameters and starts its
// status log.
func PrepareExecution(e Execution, now time.Time, r Retention) (Execution, error) {
	switch {
	case e.ID == "":
		return e, invalidf("execution: id is empty")
	case e.Action == "":
		return e, invalidf("execution %s: action is empty", e.ID)
	}
	if e.Status == "" {
		e.Status = StatusRequested
	}
	if !e.Status.Valid() {
		return e, invalidf("execution %s: status %q", e.ID, e.Status)
	}
	if err := checkJSON(e.Result, "execution "+e.ID+" result"); err != nil {
		return e, err
	}
	if e.StartedAt.IsZero() {
		e.StartedAt = now
	}
	e.StartedAt = e.StartedAt.UTC()
	e.Parameters = MaskParameters(e.Parameters, e.SecretParameters)
	e.SecretParameters = slices.Clone(e.SecretParameters)
	if len(e.StatusLog) == 0 {
		e.StatusLog = []StatusChange{{Status: e.Status, At: e.StartedAt}}
	} else {
		e.StatusLog = slices.Clone(e.StatusLog)
	}
	if e.Status.Finished() && e.EndedAt.IsZero() {
		e.EndedAt = e.StartedAt
	}
	if !e.EndedAt.IsZero() {
		e.EndedAt = e.EndedAt.UTC()
	}
	e.ExpiresAt = expiry(e.StartedAt, r.Executions)
	e.Version = 1
	return e, nil
}

// CheckUpdate validates u before anything is read: the transition must be
// legal whatever the record's state.
func CheckUpdate(u ExecutionUpdate) error {
	if err := checkJSON(u.Result, "execution update result"); err != nil {
		return err
	}
	return CheckTransition(u.From, u.To)
}

// ApplyUpdate applies u to the current record. It returns ErrConflict
// (wrapped) when cur is not in u.From, and the illegal-transition error when
// the change is not in the table.
func ApplyUpdate(cur Execution, u ExecutionUpdate, now time.Time) (Execution, error) {
	if err := CheckUpdate(u); err != nil {
		return cur, err
	}
	if cur.Status != u.From {
		return cur, fmt.Errorf("execution %s is %s, expected %s: %w", cur.ID, cur.Status, u.From, ErrConflict)
	}
	at := u.At
	if at.IsZero() {
		at = now
	}
	at = at.UTC()
	next := cur
	next.Status = u.To
	next.StatusLog = append(slices.Clone(cur.StatusLog), StatusChange{Status: u.To, At: at})
	if u.To.Finished() {
		next.EndedAt = at
	}
	if u.Result != nil {
		next.Result = u.Result
	}
	next.Version = cur.Version + 1
	return next, nil
}

// MaskParameters returns a copy of params with the named top-level
// parameters replaced by [Masked].
func MaskParameters(params map[string]any, secret []string) map[string]any {
	if params == nil {
		return nil
	}
	out := maps.Clone(params)
	for _, name := range secret {
		if _, ok := out[name]; ok {
			out[name] = Masked
		}
	}
	return out
}

// PrepareKeyValue validates kv and stamps it.
func PrepareKeyValue(kv KeyValue, now time.Time) (KeyValue, error) {
	if err := kv.Validate(); err != nil {
		return kv, err
	}
	kv.UpdatedAt = now.UTC()
	if !kv.ExpiresAt.IsZero() {
		kv.ExpiresAt = kv.ExpiresAt.UTC()
	}
	return kv, nil
}

// PrepareInquiry validates q and fills its defaults.
func PrepareInquiry(q Inquiry, now time.Time, r Retention) (Inquiry, error) {
	switch {
	case q.ID == "":
		return q, invalidf("inquiry: id is empty")
	case q.ExecutionID == "":
		return q, invalidf("inquiry %s: execution id is empty", q.ID)
	}
	if q.Status == "" {
		q.Status = InquiryPending
	}
	if !q.Status.Valid() {
		return q, invalidf("inquiry %s: status %q", q.ID, q.Status)
	}
	if err := checkJSON(q.Schema, "inquiry "+q.ID+" schema"); err != nil {
		return q, err
	}
	if q.CreatedAt.IsZero() {
		q.CreatedAt = now
	}
	q.CreatedAt = q.CreatedAt.UTC()
	q.UpdatedAt = q.CreatedAt
	if !q.TimeoutAt.IsZero() {
		q.TimeoutAt = q.TimeoutAt.UTC()
	}
	q.ExpiresAt = expiry(q.CreatedAt, r.Inquiries)
	return q, nil
}

// ApplyResolution moves a pending inquiry to a final status.
func ApplyResolution(cur Inquiry, to InquiryStatus, response json.RawMessage, by string, now time.Time) (Inquiry, error) {
	if err := checkJSON(response, "inquiry "+cur.ID+" response"); err != nil {
		return cur, err
	}
	if cur.Status != InquiryPending {
		return cur, fmt.Errorf("inquiry %s is %s, expected pending: %w", cur.ID, cur.Status, ErrConflict)
	}
	if err := CheckInquiryTransition(cur.Status, to); err != nil {
		return cur, err
	}
	cur.Status = to
	cur.Response = response
	cur.RespondedBy = by
	cur.UpdatedAt = now.UTC()
	return cur, nil
}

// PrepareAPIKey validates k and fills its defaults.
func PrepareAPIKey(k APIKey, now time.Time) (APIKey, error) {
	switch {
	case k.ID == "":
		return k, invalidf("api key: id is empty")
	case len(k.KeyHash) != 64:
		return k, invalidf("api key %s: key hash must be a hex SHA-256 (see HashAPIKey)", k.ID)
	case k.User == "":
		return k, invalidf("api key %s: user is empty", k.ID)
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

func checkJSON(raw json.RawMessage, what string) error {
	if raw != nil && !json.Valid(raw) {
		return invalidf("%s is not valid JSON", what)
	}
	return nil
}

// EncodeToken turns an adapter's cursor into an opaque page token.
func EncodeToken(cursor any) (string, error) {
	b, err := json.Marshal(cursor)
	if err != nil {
		return "", fmt.Errorf("encoding page token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DecodeToken reads a token made by EncodeToken into cursor. A token that
// is not one yields ErrInvalid.
func DecodeToken(token string, cursor any) error {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return invalidf("page token: %v", err)
	}
	if err := json.Unmarshal(b, cursor); err != nil {
		return invalidf("page token: %v", err)
	}
	return nil
}

// PrepareOutput validates an output chunk, stamps it and returns when it
// expires (with its execution's retention; zero for never).
func PrepareOutput(c OutputChunk, now time.Time, r Retention) (OutputChunk, time.Time, error) {
	if c.ExecutionID == "" || c.Seq < 1 {
		return c, time.Time{}, invalidf("output chunk of %q seq %d: need an execution id and seq >= 1", c.ExecutionID, c.Seq)
	}
	if c.Stream != Stdout && c.Stream != Stderr {
		return c, time.Time{}, invalidf("output chunk %s#%d: stream %q, expected stdout or stderr", c.ExecutionID, c.Seq, c.Stream)
	}
	if c.At.IsZero() {
		c.At = now
	}
	c.At = c.At.UTC()
	return c, expiry(c.At, r.Executions), nil
}
