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

// Rollouts issues an update without waiting for Cloud Run to roll it out, and reads the rollout
// later. *cloudrun.Client is one.
type Rollouts interface {
	Start(ctx context.Context, target snapshot.Target, etag string, changes []snapshot.Change, annotations map[string]string) (snapshot.Update, error)
	Rollout(ctx context.Context, target snapshot.Target, operation, before string) (res snapshot.Update, done bool, err error)
}

// noWait reports whether changes are issued without waiting for their rollout: with the ledger
// (which remembers the rollout for the next run) and a Rollouts.
func (r *Remediator) noWait() bool { return r.Ledger != nil && r.Rollouts != nil }

// readRollout reads the rollout of the change the last run issued without waiting. Done and
// Ready, its revision is recorded; done and failed, the change is recorded failed (its pending
// verification too), a failed event is added, and failed is true: the escalation ladder is then
// unconditional. Still rolling, or unreadable for now, nothing changes.
func (r *Remediator) readRollout(ctx context.Context, target snapshot.Target, rec *record, now time.Time) (failed bool) {
	ro := rec.st.Rollout
	if ro == nil || r.Rollouts == nil {
		return false
	}
	res, done, err := r.Rollouts.Rollout(ctx, target, ro.Operation, ro.Before)
	if !done {
		if err != nil {
			r.log(audit.Warning, fmt.Sprintf("%s: read rollout %s: %v; read again on the next run", target.Name(), ro.Operation, err), alert.Alert{Target: target})
		}
		return false
	}
	if res.Revision != "" {
		rec.st = rec.st.WithRevision(ro.Incident, ro.Action, res.Revision)
	}
	rec.st.Rollout = nil
	if err == nil {
		return false
	}
	if errors.Is(err, snapshot.ErrRevisionNotReady) && rec.st.Pending != nil && rec.st.Pending.Incident == ro.Incident && rec.st.Pending.Action == ro.Action {
		rec.st = rec.st.Resolve(state.OutcomeFailed)
	}
	rec.events = append(rec.events, audit.Event{
		Time: now, Incident: ro.Incident, IncidentState: snapshot.StateOpen, Target: target.Name(), Step: ro.Action,
		Applied: true, Outcome: audit.Failed, Error: err.Error(),
		Result: &audit.Result{Revision: res.Revision, Operation: ro.Operation, Ready: false},
	}.WithID())
	return true
}

// escalateAfterRollout makes the ladder unconditional after a failed rollout, unless the run
// changes something else.
func escalateAfterRollout(out *Outcome) {
	if !out.Plan.Applyable {
		out.Decision.Action = decision.Escalate
	}
}

// reconcileRollout reads the rollout of a change whose incident no run revisits (it is not
// watched): the tick's way to record its revision, or its failure.
func (r *Remediator) reconcileRollout(ctx context.Context, target snapshot.Target) ([]audit.Event, error) {
	unlock, err := r.lock(ctx, target)
	if err != nil {
		return nil, err
	}
	defer unlock()
	obs, err := r.Observer.Observe(ctx, target)
	if err != nil {
		return nil, classify(err)
	}
	now := r.Now().UTC()
	st, _, _, err := r.remember(ctx, target, obs, now)
	if err != nil || st.Rollout == nil {
		return nil, err
	}
	rec := record{before: st, st: st}
	r.readRollout(ctx, target, &rec, now)
	for _, ev := range rec.events {
		if err := r.publishEvent(ctx, ev); err != nil {
			return rec.events, err
		}
	}
	return rec.events, r.saveState(ctx, target, rec)
}
