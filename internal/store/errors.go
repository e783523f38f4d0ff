package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Adapters wrap them with context; test with errors.Is.
var (
	// ErrNotFound: no record has the id (or it is past its retention).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create named an id that is already stored. The
	// stored record is returned with the error.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a compare-and-set found the record in another state than
	// the caller expected. The current record is returned with the error.
	ErrConflict = errors.New("conflict")
	// ErrIllegalTransition: the status change is not in the transition table.
	ErrIllegalTransition = errors.New("illegal status transition")
	// ErrInvalid: the record or query is malformed (a required field is
	// missing, a value is out of range, a page token is not one of ours).
	ErrInvalid = errors.New("invalid")
	// ErrNoCipher: a secret was written or decryption asked for, but the
	// store was built without a [Cipher].
	ErrNoCipher = errors.New("no cipher configured for secrets")
)

// TransitionError reports a status change the transition table refuses. It
// matches [ErrIllegalTransition] with errors.Is.
type TransitionError struct {
	Kind string // "execution", "trigger instance", "inquiry"
	From string
	To   string
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%s status %s -> %s: %v", e.Kind, e.From, e.To, ErrIllegalTransition)
}

// Is reports whether target is [ErrIllegalTransition].
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}
