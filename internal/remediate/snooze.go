package remediate

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/freeze"
	"github.com/runmedic/runmedic/internal/guard"
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
func (r *Remediator) holdForSnooze(ctx context.Context, snap snapshot.Snapshot, p plan.Plan, now time.Time) plan.Plan {
	if r.Snoozes == nil || len(p.Changes) == 0 {
		return p
	}
	ss, err := r.Snoozes.Active(ctx, snap.Target.Project, now)
	if err != nil {
		return guard.Refuse(p, guard.RuleSnooze, fmt.Sprintf("snoozes cannot be read (%v): holding changes; runmedic notifies instead", err))
	}
	if msg := freeze.Snoozed(ss, snap.Incident.Policy, now); msg != "" {
		return guard.Refuse(p, guard.RuleSnooze, msg+": runmedic notifies instead of changing")
	}
	return p
}
