package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// sendDue publishes the due steps of the ladder (see dueSteps) that the state does not record as
// sent on the notification topic, and records them in rec. It returns how many it sent.
func (r *Remediator) sendDue(ctx context.Context, snap snapshot.Snapshot, out Outcome, rec *record, now time.Time) (int, error) {
	if r.Notify == nil {
		return 0, nil
	}
	sent := 0
	told := map[string]bool{} // a recipient with two steps due at once gets one message
	for _, n := range r.dueSteps(snap, out, rec.st, now) {
		step := state.StepKey(n.To, n.After)
		if rec.st.EscalationSent(snap.Incident.ID, step) {
			continue // sent by an earlier delivery or tick
		}
		if told[n.To] {
			rec.st = rec.st.MarkEscalated(snap.Incident.ID, step, n.To, now)
			continue
		}
		msg := r.notification(snap, out, n, now)
		if _, err := r.Notify.Publish(ctx, msg, msg.Attributes()); err != nil {
			return sent, fmt.Errorf("publish notification to %s: %w", n.To, err)
		}
		rec.st = rec.st.MarkEscalated(snap.Incident.ID, step, n.To, now)
		told[n.To] = true
		sent++
	}
	return sent, nil
}

// notification is the message of one step of the ladder, as the topic carries it and the
// people's messages are rendered from.
func (r *Remediator) notification(snap snapshot.Snapshot, out Outcome, n plan.Notification, now time.Time) audit.Notification {
	return audit.Notification{
		Time:       now,
		Incident:   snap.Incident.ID,
		Target:     snap.Target.Name(),
		Severity:   snap.Incident.Severity,
		To:         n.To,
		After:      n.After,
		Action:     out.Decision.Action,
		Diagnosis:  out.Decision.Diagnosis,
		Reason:     n.Reason,
		Evidence:   out.Decision.Evidence,
		URL:        snap.Incident.URL,
		ConsoleURL: consoleURL(snap.Target),
		Plan:       &out.Plan,
		NextSteps:  nextSteps(out.Decision.Diagnosis, snap.Target),
	}.WithID()
}

// recovering reports whether a conditional escalation step should still wait: a remedy is
// inside its verification window, or memory is already below verify_below.
func (r *Remediator) recovering(st state.State, out Outcome, now time.Time) bool {
	if p := st.Pending; p != nil && now.Before(p.VerifyAt) {
		return true
	}
	return out.Signals.HasMemoryData && out.Signals.MemoryNow < r.Config.Defaults.VerifyBelow
}

// notify reaches the people the run owes a message (their own sinks), then sends the escalation
// steps that are due on the notification topic, and records both in ev and rec. People first: a
// failing topic must not hold back a page, nor a failing sink the topic. A run that changed
// nothing but paged someone is escalated.
func (r *Remediator) notify(ctx context.Context, snap snapshot.Snapshot, out Outcome, ev *audit.Event, rec *record, now time.Time) error {
	ev.Deliveries = r.reach(ctx, snap, out, rec, now)
	sent, err := r.sendDue(ctx, snap, out, rec, now)
	if err != nil {
		// Keep what landed and the notifications already sent; the redelivery sends the rest.
		r.saveState(ctx, snap.Target, record{before: rec.before, st: withEscalations(rec.landed, rec.st), etag: rec.etag})
		return err
	}
	if !ev.Applied && (sent > 0 || paged(ev.Deliveries)) && (ev.Outcome == audit.NoChange || ev.Outcome == audit.Duplicate) {
		ev.Outcome = audit.Escalated
	}
	return nil
}
