// Package remediate is the orchestrator: it reads like the runbook. Decide is the pure half
// (signals, policy, plan, guard) that `runmedic plan` and the function share; Remediator adds
// observing the live service, applying the plan and recording what happened.
package remediate

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
	return planFor(s, sig, d, cfg, now)
}

// planFor turns a decision into a guarded plan.
func planFor(s snapshot.Snapshot, sig signals.Signals, d decision.Decision, cfg config.Config, now time.Time) (Outcome, error) {
	p, err := plan.Build(s, sig, d, cfg.Defaults)
	if err != nil {
		return Outcome{}, fmt.Errorf("build plan: %w", err)
	}
	p = guard.Check(p, s, cfg, now)
	if rule := heldBy(p); rule != "" {
		p = plan.Hold(p, s, sig, cfg.Defaults, rule)
	}
	return Outcome{Signals: sig, Decision: d, Plan: p, Step: string(d.Action)}, nil
}
