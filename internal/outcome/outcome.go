// Package outcome is the pure half of a run: signals → policy → plan → guard over one snapshot,
// with no I/O. `runmedic plan`, replay, the scenario goldens and the function all decide through
// Decide; only the orchestrator (package remediate) adds observing, applying and recording, so
// this package and its importers link no cloud client.
package outcome

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Policy evaluates the policy input and returns a validated decision. *policy.Engine is one.
type Policy interface {
	Decide(ctx context.Context, input any) (decision.Decision, error)
}

// Outcome is everything one decision produced, for rendering, auditing and applying.
type Outcome struct {
	Signals  signals.Signals
	Decision decision.Decision
	Plan     plan.Plan
	// Step is the name an applied change is recorded under: the decision's action, unless
	// runmedic chose the step itself ("revert").
	Step string
}

// Decide runs signals → policy → plan → guard on one snapshot. now is the snapshot's capture
// time offline and the clock live; nothing here reads the clock.
func Decide(ctx context.Context, pol Policy, s snapshot.Snapshot, cfg config.Config, now time.Time) (Outcome, error) {
	sig, err := signals.Compute(s, cfg.DefaultsFor(s.Target))
	if err != nil {
		return Outcome{}, fmt.Errorf("compute signals: %w", err)
	}
	d, err := pol.Decide(ctx, policy.Input{Snapshot: s, Signals: sig})
	if err != nil {
		return Outcome{}, fmt.Errorf("evaluate policy: %w", err)
	}
	return Guarded(s, sig, d, cfg, now)
}

// Guarded turns a decision, the policy's or one runmedic made itself, into a guarded plan. A
// plan held by a freeze or a snooze is reworded to page instead of change.
func Guarded(s snapshot.Snapshot, sig signals.Signals, d decision.Decision, cfg config.Config, now time.Time) (Outcome, error) {
	p, err := plan.Build(s, sig, d, cfg.Defaults)
	if err != nil {
		return Outcome{}, fmt.Errorf("build plan: %w", err)
	}
	p = guard.Check(p, s, cfg, now)
	if rule := HeldBy(p); rule != "" {
		p = plan.Hold(p, s, sig, cfg.Defaults, rule)
	}
	return Outcome{Signals: sig, Decision: d, Plan: p, Step: string(d.Action)}, nil
}

// HeldBy is the first rule, freeze or snooze, that refused the plan's changes; "" for none.
func HeldBy(p plan.Plan) string {
	if len(p.Changes) == 0 {
		return ""
	}
	for _, ref := range p.Guard.Refusals {
		if ref.Rule == guard.RuleFreeze || ref.Rule == guard.RuleSnooze {
			return ref.Rule
		}
	}
	return ""
}
