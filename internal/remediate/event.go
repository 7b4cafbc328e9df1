package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// newEvent is the audit event of a run on delivery a at now, before anything is decided.
func newEvent(a alert.Alert, now time.Time) audit.Event {
	return audit.Event{
		Time: now, Incident: a.Incident.ID, IncidentState: a.Incident.State, Target: a.Target.Name(),
		Delivery: a.Delivery.MessageID, Warnings: a.Warnings,
	}
}

// describe fills the event from a decision and its plan, with the outcome a run that applies
// nothing would have.
func describe(ev audit.Event, out Outcome, history []snapshot.Action) audit.Event {
	p := out.Plan
	ev.Step = out.Step
	ev.Decision = &out.Decision
	ev.Changes = p.Changes
	ev.Guard = &p.Guard
	switch {
	case len(p.Changes) == 0 && out.Decision.Action == decision.None && acted(history, p.Incident):
		ev.Outcome = audit.Duplicate
	case len(p.Changes) == 0:
		ev.Outcome = audit.NoChange
	case !p.Guard.Allowed:
		ev.Outcome = audit.Refused
	case p.Guard.Mode == config.ModeShadow:
		ev.Outcome = audit.Shadow
	default:
		ev.Outcome = audit.NoChange
	}
	return ev
}

// acted reports whether the decision found this incident already acted on (snapshot.Acted).
func acted(history []snapshot.Action, incident string) bool {
	_, ok := snapshot.AlreadyActed(history, incident, "")
	return ok
}

// refuseUnlisted publishes and returns the refusal of a delivery for a service outside the
// allowlist.
func (r *Remediator) refuseUnlisted(ctx context.Context, ev audit.Event, target snapshot.Target) (audit.Event, error) {
	ev.Step, ev.Outcome = "guard", audit.Refused
	ev.Guard = &plan.Verdict{Allowed: false, Mode: r.Config.ModeFor(target), Refusals: []plan.Refusal{
		{Rule: guard.RuleAllowlist, Message: fmt.Sprintf("service %s is not on the allowlist", target.Name())},
	}}
	return ev.WithID(), r.publishEvent(ctx, ev.WithID())
}

// failed publishes a failure event (best effort: the error is what matters) and returns err.
func (r *Remediator) failed(ctx context.Context, ev audit.Event, err error) (audit.Event, error) {
	ev.Outcome, ev.Error = audit.Failed, err.Error()
	ev = ev.WithID()
	if pubErr := r.publishEvent(ctx, ev); pubErr != nil {
		r.log(audit.Warning, fmt.Sprintf("publish failure event for %s: %v", ev.Target, pubErr), alert.Alert{})
	}
	return ev, err
}
