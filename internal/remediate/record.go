package remediate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// record is runmedic's state during one run: as read (before), as it must end (st), and the
// service etag a write must be made against.
type record struct {
	before, st state.State
	// landed is what must be on the service even if the rest of the run fails: the state as read,
	// or, after a change, its record as it finally stands (its revision, or its failure).
	landed  state.State
	etag    string
	version int64         // the ledger version before was read at
	events  []audit.Event // events this run produced besides its own (a verification)
}

// recordAction is the state written together with an applied change: the action (marked
// unpublished until its audit event is out), the verification it awaits, and the traffic pin.
func (r *Remediator) recordAction(st state.State, snap snapshot.Snapshot, out Outcome, now time.Time) state.State {
	act := snapshot.Action{
		Incident: snap.Incident.ID,
		Action:   out.Step,
		At:       now,
		Changes:  out.Plan.Changes,
		Outcome:  state.OutcomeApplied,
	}
	next := st.Record(act)
	if out.Step == "revert" || out.Step == "unpin" {
		return next // an undo is not verified: it restores what was there
	}
	next.Pending = &state.Verification{
		Incident:  act.Incident,
		Action:    act.Action,
		AppliedAt: now,
		VerifyAt:  now.Add(r.Config.Defaults.VerifyAfter.Duration),
		Baseline:  state.Baseline{Memory: out.Signals.MemoryNow, ErrorRate: errorRate(snap.Metrics, now, errorWindow)},
		Revision:  pinnedRevision(out.Plan.Changes),
		Changes:   out.Plan.Changes,
	}
	if movesTraffic(out.Plan.Changes) {
		next.Pin = nil // traffic moved back to the latest revision
		if rev := pinnedRevision(out.Plan.Changes); rev != "" {
			next.Pin = &state.Pin{Revision: rev, Since: now, Incident: act.Incident}
		}
	}
	return next
}

// movesTraffic reports whether changes include a traffic change.
func movesTraffic(changes []snapshot.Change) bool {
	for _, c := range changes {
		if c.Path == snapshot.PathTraffic {
			return true
		}
	}
	return false
}

// pinnedRevision is the revision a traffic change sends all traffic to, "" when the change
// routes to LATEST or there is no traffic change.
func pinnedRevision(changes []snapshot.Change) string {
	for _, c := range changes {
		if c.Path != snapshot.PathTraffic {
			continue
		}
		ts, err := c.After.Traffic()
		if err == nil && len(ts) == 1 && ts[0].Type == snapshot.TrafficRevision && ts[0].Percent == 100 {
			return ts[0].Revision
		}
	}
	return ""
}

// errorWindow is how far back the 5xx rate baseline looks.
const errorWindow = 10 * time.Minute

// errorRate is 5xx responses over all responses in the window before now; 0 without traffic.
func errorRate(m snapshot.Metrics, now time.Time, window time.Duration) float64 {
	sum := func(ps []snapshot.Point) float64 {
		t := 0.0
		for _, p := range ps {
			if !p.At.Before(now.Add(-window)) && !p.At.After(now) {
				t += p.Value
			}
		}
		return t
	}
	all := sum(m.RequestCount)
	if all <= 0 {
		return 0
	}
	return sum(m.ServerErrorCount) / all
}

// finish publishes the run's audit trail and saves runmedic's memory of it. A publish that fails
// keeps what landed and what was sent and retries the delivery; a change whose revision failed
// (landedFailed) ends the delivery acked.
func (r *Remediator) finish(ctx context.Context, snap snapshot.Snapshot, ev audit.Event, rec record, landedFailed error) (audit.Event, error) {
	if err := r.publishAll(ctx, &rec, snap, ev); err != nil {
		// The state on the service keeps the record; the next delivery publishes it. The
		// notifications this run sent are recorded all the same, or that delivery would send
		// them again; everything else (a verdict, the published marks) it redoes.
		r.saveState(ctx, snap.Target, record{before: rec.before, st: withEscalations(rec.landed, rec.st), etag: rec.etag})
		return ev, fmt.Errorf("publish audit event: %w", err)
	}
	if err := r.saveState(ctx, snap.Target, rec); err != nil && r.Ledger != nil {
		// The change is on the service under its claim; the redelivery records it from there.
		return ev, fmt.Errorf("record in the ledger: %w", err)
	}
	if landedFailed != nil {
		return ev, permanent(landedFailed)
	}
	return ev, nil
}

// publishAll publishes the audit events of earlier runs that the state still marks unpublished,
// then ev, and marks them published in rec.
func (r *Remediator) publishAll(ctx context.Context, rec *record, snap snapshot.Snapshot, ev audit.Event) error {
	var done []string
	for _, key := range rec.st.Unpublished {
		for _, a := range rec.st.Actions {
			if state.Key(a.Incident, a.Action) != key {
				continue
			}
			if ev.Applied && a.Incident == ev.Incident && a.Action == ev.Step {
				break // this run's own change: its event is published below
			}
			if err := r.publishEvent(ctx, pastEvent(a, snap.Target)); err != nil {
				return err
			}
			break
		}
		done = append(done, key)
	}
	for _, e := range append(rec.events, ev) {
		if err := r.publishEvent(ctx, e); err != nil {
			return err
		}
	}
	rec.st = rec.st.MarkPublished(done...)
	return nil
}

// pastEvent is the audit event of a change an earlier run recorded but could not publish, as the
// state tells it.
func pastEvent(a snapshot.Action, target snapshot.Target) audit.Event {
	outcome, ready := audit.Applied, true
	if a.Outcome == state.OutcomeFailed {
		outcome, ready = audit.Failed, false
	}
	return audit.Event{
		Time: a.At, Incident: a.Incident, IncidentState: snapshot.StateOpen, Target: target.Name(),
		Step: a.Action, Changes: a.Changes, Applied: true, Outcome: outcome,
		Result: &audit.Result{Revision: a.Revision, Ready: ready},
	}.WithID()
}

// withEscalations is st with the escalation steps and sink deliveries that from records and st
// does not, oldest first so that st keeps them newest first.
func withEscalations(st, from state.State) state.State {
	st = st.WithDeliveries(from)
	for i := len(from.Escalations) - 1; i >= 0; i-- {
		e := from.Escalations[i]
		st = st.MarkEscalated(e.Incident, e.Step, e.To, e.At)
	}
	return st
}

func (r *Remediator) publishEvent(ctx context.Context, ev audit.Event) error {
	if r.Audit == nil {
		return nil
	}
	_, err := r.Audit.Publish(ctx, ev, ev.Attributes())
	return err
}

// saveState writes the state when this run changed it beyond what Apply already wrote: to the
// ledger, or to the service's annotation. A failed write is logged and returned; everything it
// carries is safe to redo (a republished event has the same ID; a notification marked unsent is
// sent again with the same ID; a change is recorded from its claim marker).
func (r *Remediator) saveState(ctx context.Context, target snapshot.Target, rec record) error {
	if r.Ledger != nil {
		err := r.Ledger.Record(ctx, target, rec.before, rec.st)
		if err != nil {
			r.log(audit.Warning, fmt.Sprintf("record state of %s: %v", target.Name(), err), alert.Alert{})
		}
		return err
	}
	want, err := state.Encode(rec.st)
	if err != nil {
		r.log(audit.Warning, fmt.Sprintf("encode state of %s: %v", target.Name(), err), alert.Alert{})
		return err
	}
	if have, _ := state.Encode(rec.before); have == want {
		return nil
	}
	err = r.Applier.WriteState(ctx, target, rec.etag, want)
	if errors.Is(err, snapshot.ErrConflict) {
		err = r.mergeState(ctx, target, rec.st)
	}
	if err != nil {
		r.log(audit.Warning, fmt.Sprintf("write state of %s: %v", target.Name(), err), alert.Alert{})
	}
	return err
}

// mergeState writes, once, onto the service as it now is, what of st must not be lost when the
// service changed since it was read: the escalation steps and deliveries sent, which would
// otherwise go out again. The rest of st is redone by the next run.
func (r *Remediator) mergeState(ctx context.Context, target snapshot.Target, st state.State) error {
	obs, err := r.Observer.Observe(ctx, target)
	if err != nil {
		return fmt.Errorf("re-read after a conflict: %w", err)
	}
	now, _ := state.Decode(obs.StateAnnotation)
	merged, err := state.Encode(withEscalations(now, st))
	if err != nil {
		return err
	}
	if have, _ := state.Encode(now); have == merged {
		return nil
	}
	return r.Applier.WriteState(ctx, target, obs.Service.Etag, merged)
}

// log writes one structured line when the remediator has a logger.
func (r *Remediator) log(severity, msg string, a alert.Alert) {
	if r.Log == nil {
		return
	}
	labels := map[string]string{}
	if a.Incident.ID != "" {
		labels["incident"], labels["service"] = a.Incident.ID, a.Target.Service
	}
	r.Log.Log(severity, msg, labels, nil)
}
