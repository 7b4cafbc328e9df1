package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// sendDue sends the plan's notifications whose time has come (measured from the incident's
// start) and that the state does not record as sent, and records them in rec. Steps of the
// runbook's ladder after a remedy are conditional, unless the remedy only buys time for a code
// fix (decision.LadderUnconditional): they wait while the remedy is inside its verification
// window or memory is already below verify_below. It returns how many it sent.
func (r *Remediator) sendDue(ctx context.Context, snap snapshot.Snapshot, out Outcome, rec *record, now time.Time) (int, error) {
	if r.Notify == nil || snap.Incident.State == snapshot.StateClosed {
		return 0, nil
	}
	sent := 0
	told := map[string]bool{} // a recipient with two steps due at once gets one message
	for _, n := range out.Plan.Notifications {
		after, err := time.ParseDuration(n.After)
		if err != nil {
			return sent, fmt.Errorf("notification for %s: after %q: %w", n.To, n.After, err)
		}
		step := state.StepKey(n.To, n.After)
		switch {
		case snap.Incident.StartedAt.Add(after).After(now):
			continue // not yet
		case rec.st.EscalationSent(snap.Incident.ID, step):
			continue // sent by an earlier delivery or tick
		case after > 0 && !out.Decision.LadderUnconditional() && r.recovering(rec.st, out, now):
			continue
		}
		if told[n.To] {
			rec.st = rec.st.MarkEscalated(snap.Incident.ID, step, n.To, now)
			continue
		}
		msg := audit.Notification{
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
		if _, err := r.Notify.Publish(ctx, msg, msg.Attributes()); err != nil {
			return sent, fmt.Errorf("publish notification to %s: %w", n.To, err)
		}
		rec.st = rec.st.MarkEscalated(snap.Incident.ID, step, n.To, now)
		told[n.To] = true
		sent++
	}
	return sent, nil
}

// recovering reports whether a conditional escalation step should still wait: a remedy is
// inside its verification window, or memory is already below verify_below.
func (r *Remediator) recovering(st state.State, out Outcome, now time.Time) bool {
	if p := st.Pending; p != nil && now.Before(p.VerifyAt) {
		return true
	}
	return out.Signals.HasMemoryData && out.Signals.MemoryNow < r.Config.Defaults.VerifyBelow
}
