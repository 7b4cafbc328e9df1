package plan

import (
	"fmt"
	"strings"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Build turns a validated decision into the plan for the service in s: it derives the desired
// service from the decision, diffs it against the LIVE service in the snapshot and lists what
// differs. Build is level-based, like a reconcile loop: when the live service already has what the
// decision asks for (the fix landed, the alert was re-sent), the plan has no changes.
//
// A decision that would break a Cloud Run rule (memory above 32Gi or the configured ceiling, too
// little CPU for the memory, rollback to a revision that is not Ready) is an error: such a plan is
// never emitted. Guard and Applyable are left for the guard package.
//
// sig is what the policy saw; Build decides only from the snapshot and uses sig to word the
// notifications.
func Build(s snapshot.Snapshot, sig signals.Signals, d decision.Decision, cfg config.Defaults) (Plan, error) {
	p := Plan{
		FormatVersion: FormatVersion,
		Incident:      s.Incident.ID,
		Target:        s.Target.Name(),
		Decision:      d,
		Changes:       []snapshot.Change{},
		Notifications: []Notification{},
		Guard:         Verdict{Refusals: []Refusal{}},
		Etag:          s.Service.Etag,
	}
	var (
		changes []snapshot.Change
		err     error
	)
	switch d.Action {
	case decision.None, decision.Escalate:
		// Nothing to change; escalation is carried by the notifications.
	case decision.RaiseMemory:
		changes, err = raiseMemory(s, d.Params, cfg)
	case decision.Rollback:
		changes, err = rollback(s, d.Params.Revision)
	case decision.LowerConcurrency:
		changes, err = lowerConcurrency(s, d.Params.MaxConcurrency, cfg)
	case decision.Restart:
		changes, err = restart(s, cfg)
	default:
		return Plan{}, fmt.Errorf("plan %s: unknown action %q", p.Target, d.Action)
	}
	if err != nil {
		return Plan{}, fmt.Errorf("plan %s for %s: %w", d.Action, p.Target, err)
	}
	if changes != nil {
		p.Changes = changes
	}
	p.Notifications = notifications(s, sig, d, cfg)
	links := LinksFor(s)
	p.Links = &links
	p.Memory = memoryWindow(s)
	if len(p.Changes) > 0 {
		p.Verification = &Verification{After: FormatDuration(cfg.VerifyAfter.Duration), Below: cfg.VerifyBelow, Revert: cfg.RevertOnFailedVerification}
		p.Warnings = driftWarnings(s, p.Changes)
	}
	return p, nil
}

// driftWarnings warns when Terraform manages the service: its next apply would undo the plan's
// changes unless `lifecycle { ignore_changes }` lists them (see infra/README.md).
func driftWarnings(s snapshot.Snapshot, changes []snapshot.Change) []string {
	if s.Service.Labels[TerraformLabel] != "true" {
		return nil
	}
	paths := make([]string, 0, len(changes))
	for _, c := range changes {
		paths = append(paths, c.Path)
	}
	return []string{fmt.Sprintf("service %s carries the label %s=true: the next `terraform apply` reverts %s unless its google_cloud_run_v2_service has lifecycle { ignore_changes } for them (see infra/README.md)",
		s.Target.Service, TerraformLabel, strings.Join(paths, ", "))}
}

// HasChanges reports whether applying p would change the service.
func (p Plan) HasChanges() bool { return len(p.Changes) > 0 }

// ToChange is the number of resources the plan changes, in terraform's sense: a plan touches one
// service, so it is 1 or 0.
func (p Plan) ToChange() int {
	if p.HasChanges() {
		return 1
	}
	return 0
}

// Summary is the plan's last line, as terraform prints it.
func (p Plan) Summary() string {
	if !p.HasChanges() {
		return "No changes. The service already matches the decision."
	}
	return fmt.Sprintf("Plan: %d to change.", p.ToChange())
}

// rollback sends 100 % of the traffic to a Ready revision. It touches traffic only, so no new
// revision is created.
func rollback(s snapshot.Snapshot, name string) ([]snapshot.Change, error) {
	if name == "" {
		return nil, fmt.Errorf("params.revision is empty")
	}
	rev, ok := findRevision(s.Revisions, name)
	if !ok {
		return nil, fmt.Errorf("rollback target %q does not exist", name)
	}
	if !rev.Ready {
		return nil, fmt.Errorf("rollback target %q is not Ready", name)
	}
	live := s.Service.Traffic
	if servesAll(live, name) {
		return nil, nil
	}
	after := route(live, snapshot.TrafficTarget{Type: snapshot.TrafficRevision, Revision: name, Percent: 100})
	return []snapshot.Change{trafficChange(live, after)}, nil
}

// lowerConcurrency lowers max_concurrency; it never raises it.
func lowerConcurrency(s snapshot.Snapshot, target int, cfg config.Defaults) ([]snapshot.Change, error) {
	if target < 1 || target > maxConcurrency {
		return nil, fmt.Errorf("params.max_concurrency %d: want 1..%d", target, maxConcurrency)
	}
	lim, err := limitsOf(cfg)
	if err != nil {
		return nil, err
	}
	return templateChanges(s, lim, func(want *spec) (bool, error) {
		if want.concurrency() <= target {
			return false, nil
		}
		want.MaxConcurrency = target
		return true, nil
	})
}

// restart forces a new revision with the same spec (fresh instances) by setting template.restart
// to the incident id. It is done once per incident: history says whether it already was.
func restart(s snapshot.Snapshot, cfg config.Defaults) ([]snapshot.Change, error) {
	if s.Incident.ID == "" {
		return nil, fmt.Errorf("restart needs an incident id for its token")
	}
	for _, a := range s.History {
		if a.Incident != s.Incident.ID || a.Outcome == snapshot.OutcomeFailed {
			continue
		}
		for _, c := range a.Changes {
			if c.Path == snapshot.PathRestart {
				return nil, nil
			}
		}
	}
	lim, err := limitsOf(cfg)
	if err != nil {
		return nil, err
	}
	return templateChanges(s, lim, func(want *spec) (bool, error) {
		want.Restart = s.Incident.ID
		return true, nil
	})
}

func findRevision(revs []snapshot.Revision, name string) (snapshot.Revision, bool) {
	for _, r := range revs {
		if r.Name == name {
			return r, true
		}
	}
	return snapshot.Revision{}, false
}
