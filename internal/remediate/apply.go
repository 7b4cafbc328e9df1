package remediate

import (
	"context"
	"errors"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// apply claims and applies the run's plan when it is applyable, and fills ev and rec with what
// landed. err is ErrConflict when another run claimed first or the service moved (nothing was
// sent), or an error the delivery ends with. landedFailed is a change that landed but whose
// revision failed: the run goes on (the failure is recorded and escalated, out's action becomes
// escalate) and ends acked, with the cause kept for errors.Is.
func (r *Remediator) apply(ctx context.Context, run *Run, ev *audit.Event, rec *record, out *Outcome) (landedFailed, err error) {
	if !out.Plan.Applyable {
		return nil, nil
	}
	a, snap, now := run.Alert, run.Snapshot, run.now
	next := r.recordAction(rec.st, snap, *out, now)
	marks, claim, err := r.claim(ctx, a.Target, *rec, next, now)
	if err != nil {
		return nil, err
	}
	loaded := rec.before
	var res snapshot.Update
	if r.noWait() {
		res, err = r.Rollouts.Start(ctx, a.Target, out.Plan.Etag, out.Plan.Changes, marks)
		if err == nil {
			next.Rollout = &state.Rollout{Incident: a.Incident.ID, Action: out.Step, Operation: res.Operation, Before: res.Revision, Since: now}
			res.Revision = "" // named by the rollout, once it is read
		}
	} else {
		res, err = r.Applier.Apply(ctx, a.Target, out.Plan.Etag, out.Plan.Changes, marks)
	}
	switch {
	case errors.Is(err, snapshot.ErrConflict):
		r.release(ctx, a.Target, claim) // nothing was sent
		return nil, err
	case errors.Is(err, snapshot.ErrRevisionNotReady):
		// The update landed but its revision failed: Cloud Run keeps traffic where it was.
		// Record the failure, escalate, ack: retrying the same change would fail the same way.
		ev.Applied, ev.Outcome, ev.Error, landedFailed = true, audit.Failed, err.Error(), err
		ev.Result = &audit.Result{Revision: res.Revision, Operation: res.Operation, Ready: false}
		rec.before, rec.st, rec.etag = next, next.Resolve(state.OutcomeFailed), res.Service.Etag
		if res.Revision != "" {
			rec.st = rec.st.WithRevision(a.Incident.ID, out.Step, res.Revision)
		}
		rec.landed = rec.st
		out.Decision.Action = decision.Escalate // every ladder step is now unconditional
	case err != nil:
		if err = classify(err); IsPermanent(err) || errors.Is(err, snapshot.ErrNotSent) {
			r.release(ctx, a.Target, claim) // refused or never sent: nothing changed
		} // else it may have landed: the next run settles the claim from the service's marker
		return nil, err
	default:
		ev.Applied, ev.Outcome = true, audit.Applied
		ev.Result = &audit.Result{Revision: res.Revision, Operation: res.Operation, Ready: res.Ready}
		rec.before, rec.st, rec.etag = next, next, res.Service.Etag
		if res.Revision != "" {
			rec.st = next.WithRevision(a.Incident.ID, out.Step, res.Revision)
		}
		rec.landed = rec.st
	}
	if r.Ledger != nil {
		rec.before = loaded // the ledger records the change with the rest of the run
	}
	return landedFailed, nil
}
