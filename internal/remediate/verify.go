package remediate

import (
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/outcome"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// errorTolerance is how much the 5xx rate may rise over its baseline and still count as "no
// worse than before" (absolute, on a 0..1 rate): one error in a hundred requests.
const errorTolerance = 0.01

// verdict is what verification concluded about the pending change.
type verdict struct {
	judged  bool
	healthy bool
	pending state.Verification
	event   audit.Event
}

// verify judges the pending change, as the runbook's "monitor memory for 10 minutes: stable and
// below 80 %, error rate no worse": once verify_after has passed since it was applied, or
// earlier when Monitoring closes its incident and every point since the change is already
// healthy. Every memory point after the change must be below verify_below and the 5xx rate
// since the change no worse than the baseline. The outcome is recorded in rec.st.
func (r *Remediator) verify(snap snapshot.Snapshot, rec *record, now time.Time) verdict {
	p := rec.st.Pending
	if p == nil {
		return verdict{}
	}
	closed := snap.Incident.State == snapshot.StateClosed && snap.Incident.ID == p.Incident
	if now.Before(p.VerifyAt) && !closed {
		return verdict{}
	}
	below := r.Config.Defaults.VerifyBelow
	var mem []snapshot.Point
	peak := 0.0
	for _, pt := range snap.Metrics.MemoryUtilization {
		if pt.At.After(p.AppliedAt) && !pt.At.After(now) {
			mem = append(mem, pt)
			peak = max(peak, pt.Value)
		}
	}
	rate := errorRate(snap.Metrics, now, now.Sub(p.AppliedAt))
	healthy := len(mem) > 0 && peak < below && rate <= p.Baseline.ErrorRate+errorTolerance
	if !healthy && now.Before(p.VerifyAt) {
		return verdict{} // closed early but not yet provably healthy: wait for the window
	}
	evidence := []string{
		fmt.Sprintf("%d memory points since %s applied %s, peak %.2f (verify_below %.2f)", len(mem), p.Action, p.AppliedAt.Format(time.RFC3339), peak, below),
		fmt.Sprintf("5xx rate %.3f since the change, %.3f before", rate, p.Baseline.ErrorRate),
	}
	outcome, evOutcome, reason := state.OutcomeVerified, audit.Verified, "stable below verify_below with no more errors than before"
	if !healthy {
		outcome, evOutcome, reason = state.OutcomeFailed, audit.VerificationFailed, "not stable below verify_below, or more errors than before"
		if len(mem) == 0 {
			reason = "no memory data since the change to verify it with"
		}
	}
	rec.st = rec.st.Resolve(outcome)
	if healthy {
		rec.st = rec.st.Unwatch(p.Incident)
	}
	ev := audit.Event{
		Time: now, Incident: p.Incident, IncidentState: snap.Incident.State, Target: snap.Target.Name(),
		Step: "verify " + p.Action, Changes: p.Changes, Outcome: evOutcome,
		Decision: &decision.Decision{Action: decision.None, Diagnosis: decision.Unknown, Reason: reason, Evidence: evidence, Policy: "runmedic.verify"},
	}
	return verdict{judged: true, healthy: healthy, pending: *p, event: ev.WithID()}
}

// afterFailure is what follows a failed verification: a memory raise that brought no
// improvement is reverted when revert_on_failed_verification is set (a plan through the same
// guard); a failed rollback escalates. ok is false when the policy should decide as usual.
func (r *Remediator) afterFailure(snap snapshot.Snapshot, sig signals.Signals, v verdict, now time.Time) (Outcome, bool, error) {
	why := fmt.Sprintf("%s applied %s did not help: %s", v.pending.Action, v.pending.AppliedAt.Format(time.RFC3339), v.event.Decision.Reason)
	d := decision.Decision{
		Action: decision.Escalate, Diagnosis: decision.Unknown, Reason: why,
		Evidence: v.event.Decision.Evidence, Policy: "runmedic.verify",
	}
	switch {
	case v.pending.Action == string(decision.Rollback):
		out, err := outcome.Guarded(snap, sig, d, r.Config, now)
		return out, true, err
	case v.pending.Action == string(decision.RaiseMemory) && r.Config.Defaults.RevertOnFailedVerification:
		d.Reason = why + "; revert it to stop the cost creeping up"
		out, err := r.revert(snap, sig, d, v.pending.Changes, now)
		return out, true, err
	}
	return Outcome{}, false, nil
}

// owedRevert is the revert a failed memory raise still owes when the guard refused it at
// verification time (the cooldown usually outlasts verify_after): while the newest recorded
// action is that raise, for this incident, failed, and the live template still holds what it
// set, every run plans the revert again instead of asking the policy, so it lands on the first
// run after the cooldown and no other change for the incident gets in before it. ok is false
// when nothing is owed.
func (r *Remediator) owedRevert(snap snapshot.Snapshot, st state.State, now time.Time) (Outcome, bool, error) {
	if !r.Config.Defaults.RevertOnFailedVerification || len(st.Actions) == 0 {
		return Outcome{}, false, nil
	}
	a := st.Actions[0]
	if a.Incident != snap.Incident.ID || a.Action != string(decision.RaiseMemory) || a.Outcome != state.OutcomeFailed ||
		len(revertChanges(snap, a.Changes)) == 0 {
		return Outcome{}, false, nil
	}
	sig, err := signals.Compute(snap, r.Config.DefaultsFor(snap.Target))
	if err != nil {
		return Outcome{}, true, fmt.Errorf("compute signals: %w", err)
	}
	d := decision.Decision{
		Action: decision.Escalate, Diagnosis: decision.Unknown, Policy: "runmedic.verify",
		Reason:   fmt.Sprintf("%s applied %s did not help; revert it to stop the cost creeping up", a.Action, a.At.Format(time.RFC3339)),
		Evidence: []string{fmt.Sprintf("%s for incident %s recorded as %s", a.Action, a.Incident, a.Outcome)},
	}
	out, err := r.revert(snap, sig, d, a.Changes, now)
	return out, true, err
}

// revert plans undoing the memory and CPU changes of a raise, checked by the same guard as
// every other change.
func (r *Remediator) revert(snap snapshot.Snapshot, sig signals.Signals, d decision.Decision, applied []snapshot.Change, now time.Time) (Outcome, error) {
	out, err := outcome.Guarded(snap, sig, d, r.Config, now)
	if err != nil {
		return Outcome{}, err
	}
	out.Plan.Changes = revertChanges(snap, applied)
	out.Plan = guard.Check(out.Plan, snap, r.Config, now)
	out.Step = "revert"
	return out, nil
}

// revertChanges undoes the memory and CPU changes of a raise, against the live template. A
// field already back at its old value is left out.
func revertChanges(snap snapshot.Snapshot, applied []snapshot.Change) []snapshot.Change {
	live := map[string]string{snapshot.PathMemory: snap.Service.Template.Memory, snapshot.PathCPU: snap.Service.Template.CPU}
	var out []snapshot.Change
	for _, c := range applied {
		before, ok := c.Before.Text()
		now, isLive := live[c.Path]
		if !ok || !isLive || now == before {
			continue
		}
		out = append(out, snapshot.Change{Path: c.Path, Before: snapshot.TextValue(now), After: snapshot.TextValue(before)})
	}
	if out == nil {
		return []snapshot.Change{}
	}
	return out
}
