package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/freeze"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/outcome"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// SnoozeReader lists a project's Cloud Monitoring snoozes that have not ended. *snooze.Reader
// is one.
type SnoozeReader interface {
	Active(ctx context.Context, project string, now time.Time) ([]freeze.Snooze, error)
}

// holdForSnooze refuses p's changes while a snooze covers the incident's alert policy, or when
// the snoozes cannot be read: a person silenced this alert, and runmedic must not guess that
// they did not. Runs without a SnoozeReader, and plans without changes, are left as they are.
func (r *Remediator) holdForSnooze(ctx context.Context, snap snapshot.Snapshot, out Outcome, now time.Time) plan.Plan {
	p := out.Plan
	if r.Snoozes == nil || len(p.Changes) == 0 {
		return p
	}
	var msg string
	if ss, err := r.Snoozes.Active(ctx, snap.Target.Project, now); err != nil {
		msg = fmt.Sprintf("snoozes cannot be read (%v): holding changes; runmedic notifies instead", err)
	} else if by := freeze.Snoozed(ss, snap.Incident.Policy, now); by != "" {
		msg = by + ": runmedic notifies instead of changing"
	} else {
		return p
	}
	p = guard.Refuse(p, guard.RuleSnooze, msg)
	if outcome.HeldBy(out.Plan) == "" { // a freeze already reworded the ladder
		p = plan.Hold(p, snap, out.Signals, r.Config.Defaults, guard.RuleSnooze)
	}
	return p
}
