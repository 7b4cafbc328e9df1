package remediate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Ledger is runmedic's durable memory of what it did. *ledger.Store is one.
type Ledger interface {
	Load(ctx context.Context, target snapshot.Target, legacy string, now time.Time) (state.Entry, error)
	Claim(ctx context.Context, target snapshot.Target, version int64, c state.Claim, lim state.Limits) error
	Release(ctx context.Context, target snapshot.Target, c state.Claim) error
	Record(ctx context.Context, target snapshot.Target, before, after state.State) error
	Open(ctx context.Context) ([]snapshot.Target, error)
}

// errClaimInFlight means another run claimed a step of the service and has not recorded it
// yet: the delivery is retried once it has (or its lease has run out).
var errClaimInFlight = errors.New("a change to the service is in flight")

// remember reads what runmedic did to the service: from the ledger when there is one (importing
// the legacy annotation once and settling claims that were never recorded), else from the
// service's state annotation. version is the ledger version a claim must be made against.
func (r *Remediator) remember(ctx context.Context, target snapshot.Target, obs snapshot.Observation, now time.Time) (st state.State, version int64, warning, err error) {
	if r.Ledger == nil {
		st, warning = state.Decode(obs.StateAnnotation)
		return st, 0, warning, nil
	}
	for settled := 0; ; settled++ {
		e, err := r.Ledger.Load(ctx, target, obs.StateAnnotation, now)
		if err != nil {
			if errors.Is(err, state.ErrEntryUnreadable) {
				return state.State{}, 0, nil, permanent(err)
			}
			return state.State{}, 0, nil, err // Firestore unavailable: the delivery is retried
		}
		for _, w := range e.Warnings {
			r.log(audit.Warning, w, alert.Alert{Target: target})
		}
		if len(e.Claims) == 0 || settled > 0 {
			if len(e.Claims) > 0 {
				return state.State{}, 0, nil, fmt.Errorf("%s: %w", target.Name(), errClaimInFlight)
			}
			return e.State, e.Version, nil, nil
		}
		for _, c := range e.Claims {
			if err := r.settle(ctx, target, obs, e.State, c, now); err != nil {
				return state.State{}, 0, nil, err
			}
		}
	}
}

// settle decides a claim that was never recorded. Its marker on the live service means the
// change landed: it is recorded now. A claim older than its lease with no marker never landed:
// it is released. A younger one is still in flight.
func (r *Remediator) settle(ctx context.Context, target snapshot.Target, obs snapshot.Observation, st state.State, c state.Claim, now time.Time) error {
	switch {
	case obs.Claim == c.ID:
		after := st.Record(c.Action)
		after.Pending, after.Pin = c.Pending, c.Pin
		r.log(audit.Warning, fmt.Sprintf("%s: %s was applied under claim %s but not recorded; recorded now from the service's marker", target.Name(), c.Key(), c.ID), alert.Alert{Target: target})
		return r.Ledger.Record(ctx, target, st, after)
	case now.Sub(c.At) > state.ClaimLease:
		r.log(audit.Warning, fmt.Sprintf("%s: claim %s of %s never landed (no marker on the service after %s); released", target.Name(), c.ID, c.Key(), state.ClaimLease), alert.Alert{Target: target})
		return r.Ledger.Release(ctx, target, c)
	default:
		return fmt.Errorf("%s: %s claimed at %s: %w", target.Name(), c.Key(), c.At.Format(time.RFC3339), errClaimInFlight)
	}
}

// claim takes the step next records before its UpdateService, and returns the annotations the
// update carries: the claim's marker with the ledger, the whole state without. A claim lost to
// another run is ErrConflict (re-observe and decide again); a fleet limit is a transient error.
func (r *Remediator) claim(ctx context.Context, target snapshot.Target, rec record, next state.State, now time.Time) (map[string]string, *state.Claim, error) {
	if r.Ledger == nil {
		ann, err := state.Encode(next)
		if err != nil {
			return nil, nil, permanent(err)
		}
		return map[string]string{state.Annotation: ann}, nil, nil
	}
	c := state.NewClaim(target, next.Actions[0], next.Pending, next.Pin, now)
	lim := state.Limits{MaxChangesPerHour: r.Config.Fleet.MaxChangesPerHour, MaxConcurrentRollouts: r.Config.Fleet.MaxConcurrentRollouts}
	err := r.Ledger.Claim(ctx, target, rec.version, c, lim)
	switch {
	case err == nil:
		return map[string]string{snapshot.ClaimAnnotation: c.ID}, &c, nil
	case errors.Is(err, state.ErrStale) || errors.Is(err, state.ErrClaimed):
		return nil, nil, fmt.Errorf("%w: %w", snapshot.ErrConflict, err)
	case errors.Is(err, state.ErrFleetLimit):
		r.log(audit.Warning, fmt.Sprintf("%s: %v; the change waits", target.Name(), err), alert.Alert{Target: target})
		return nil, nil, err
	case errors.Is(err, state.ErrEntryUnreadable):
		return nil, nil, permanent(err)
	default:
		return nil, nil, err
	}
}

// release gives back a claim whose update was refused: nothing changed.
func (r *Remediator) release(ctx context.Context, target snapshot.Target, c *state.Claim) {
	if c == nil {
		return
	}
	if err := r.Ledger.Release(ctx, target, *c); err != nil {
		r.log(audit.Warning, fmt.Sprintf("%s: %v; it is released after its lease", target.Name(), err), alert.Alert{Target: target})
	}
}

// failClosed handles a ledger entry that cannot be read: nothing is changed, the first recipient
// of the escalation table is told (the notification's ID is the same every time, so it is one
// page), and the failure is returned, permanent, for the function to log at ERROR and ack.
func (r *Remediator) failClosed(ctx context.Context, ev audit.Event, a alert.Alert, err error) (audit.Event, error) {
	if r.Notify != nil && len(r.Config.Defaults.Escalation) > 0 {
		reason := fmt.Sprintf("runmedic cannot read its ledger for %s and changes nothing until it is repaired: %v", a.Target.Name(), err)
		n := audit.Notification{
			Time: r.Now().UTC(), Incident: a.Incident.ID, Target: a.Target.Name(), Severity: "Critical",
			To: r.Config.Defaults.Escalation[0].Notify, After: "ledger", Action: decision.Escalate, Diagnosis: decision.Unknown,
			Reason: reason, Evidence: []string{err.Error()}, URL: a.Incident.URL,
		}.WithID()
		if _, pubErr := r.Notify.Publish(ctx, n, n.Attributes()); pubErr != nil {
			return r.failed(ctx, ev, fmt.Errorf("publish ledger escalation: %w (after %w)", pubErr, err))
		}
	}
	return r.failed(ctx, ev, err)
}
