package cloudrun

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Error classes. The orchestrator maps them to what happens next:
//
//	ErrConflict          ABORTED, FAILED_PRECONDITION, or an etag that moved since observe:
//	                     re-read the service and re-plan (bounded), then retry via redelivery.
//	IsRetryable          UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL, ABORTED on a read, or the
//	                     caller's own deadline: nothing changed for sure; return the error so
//	                     Pub/Sub redelivers. The adapter never retries a write itself.
//	ErrRevisionNotReady  the update landed but its new revision failed: traffic stays on the old
//	                     one. Permanent; record and escalate.
//	anything else        permanent (PERMISSION_DENIED, NOT_FOUND, INVALID_ARGUMENT,
//	                     ALREADY_EXISTS, a change the adapter cannot express): ack and log.
//
// The classes are the orchestrator's (package snapshot), so it tells them apart without linking
// this package: Observe, Apply and Start mark what IsRetryable holds with snapshot.Transient.
var (
	// ErrConflict means the service changed between observe and apply.
	ErrConflict = snapshot.ErrConflict
	// ErrRevisionNotReady means the update created a revision whose Ready condition failed.
	ErrRevisionNotReady = snapshot.ErrRevisionNotReady
	// ErrNotSent marks an Apply error raised before the update was sent (reading the service,
	// validating the update): the service is certainly unchanged.
	ErrNotSent = snapshot.ErrNotSent
)

// transient marks err with snapshot.Transient when IsRetryable holds, for the orchestrator.
func transient(err error) error {
	if IsRetryable(err) {
		return snapshot.Transient(err)
	}
	return err
}

// notSent marks err as raised before the update was sent; errors.Is and status.Code still see
// err.
func notSent(err error) error { return fmt.Errorf("%w (%w)", err, ErrNotSent) }

// IsRetryable reports whether err is transient: the same call may succeed later unchanged.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrRevisionNotReady) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true // the caller gave up (a deadline, a shutdown): nothing says the call would fail
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Canceled:
		return true
	case codes.Aborted:
		// On a read (an update's ABORTED is ErrConflict, handled above): the server gave up
		// on a transaction of its own; the same read may succeed later.
		return true
	}
	return false
}

// RevisionNotReadyError details ErrRevisionNotReady: which revision failed and why.
type RevisionNotReadyError struct {
	Service  string // full service name
	Revision string // short revision name
	Message  string // Cloud Run's reason, from the revision's or service's condition
	Err      error  // the operation's error, when it reported one
}

func (e *RevisionNotReadyError) Error() string {
	msg := fmt.Sprintf("revision %s of service %s did not become ready", e.Revision, e.Service)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// Is makes errors.Is(err, ErrRevisionNotReady) true.
func (e *RevisionNotReadyError) Is(target error) bool { return target == ErrRevisionNotReady }

// Unwrap returns the operation's error.
func (e *RevisionNotReadyError) Unwrap() error { return e.Err }

// classify marks conflict codes with ErrConflict; other errors pass through unchanged.
func classify(err error) error {
	switch status.Code(err) {
	case codes.Aborted, codes.FailedPrecondition:
		return fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return err
}
