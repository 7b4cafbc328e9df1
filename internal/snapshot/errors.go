package snapshot

import (
	"context"
	"errors"
)

// Error classes the adapters return and the orchestrator maps to what happens next. They are
// declared here, beside the values the adapters exchange, so the orchestrator tells them apart
// without importing an adapter or its gRPC client:
//
//	ErrConflict          the service changed between observe and apply: re-read and re-plan
//	                     (bounded), then retry via redelivery.
//	Retryable            nothing changed for sure and the same call may succeed later: return
//	                     the error so Pub/Sub redelivers. An adapter decides it at its boundary
//	                     (from its transport's codes) and marks the error with Transient.
//	ErrRevisionNotReady  the update landed but its new revision failed: traffic stays on the old
//	                     one. Permanent; record and escalate.
//	anything else        permanent: ack and log.
var (
	// ErrConflict means the service changed between observe and apply.
	ErrConflict = errors.New("service changed since it was read")
	// ErrRevisionNotReady means the update created a revision whose Ready condition failed.
	ErrRevisionNotReady = errors.New("new revision did not become ready")
	// ErrNotSent marks an apply error raised before the update was sent (reading the service,
	// validating the update): the service is certainly unchanged.
	ErrNotSent = errors.New("update not sent")
	// ErrTransient marks an error an adapter judged transient; see Transient.
	ErrTransient = errors.New("transient")
)

// Transient marks err as transient: errors.Is(err, ErrTransient) holds, and everything err
// itself matches (its classes, its transport status) still does. Its message is err's. nil stays
// nil.
func Transient(err error) error {
	if err == nil {
		return nil
	}
	return transientError{err}
}

type transientError struct{ err error }

func (e transientError) Error() string        { return e.err.Error() }
func (e transientError) Unwrap() error        { return e.err }
func (e transientError) Is(target error) bool { return target == ErrTransient }

// Retryable reports whether err is transient: an adapter marked it so, or the caller's own
// deadline or shutdown cut the call short (nothing says it would fail). A conflict or a revision
// that did not become ready is never retryable as is.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrRevisionNotReady) {
		return false
	}
	return errors.Is(err, ErrTransient) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}
