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
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Policy evaluates the policy input and returns a validated decision. *policy.Engine is one.
type Policy interface {
	Decide(ctx context.Context, input any) (decision.Decision, error)
}

// Input is what policies see: the snapshot's fields at the top level plus input.signals.
type Input struct {
	snapshot.Snapshot
	Signals signals.Signals `json:"signals"`
}

// Outcome is everything one decision produced, for rendering, auditing and applying.
type Outcome struct {
	Signals  signals.Signals
	Decision decision.Decision
	Plan     plan.Plan
}

// Decide runs signals → policy → plan → guard on one snapshot. now is the snapshot's capture
// time offline and the clock live; nothing here reads the clock.
func Decide(ctx context.Context, pol Policy, s snapshot.Snapshot, cfg config.Config, now time.Time) (Outcome, error) {
	sig, err := signals.Compute(s, cfg.Defaults)
	if err != nil {
		return Outcome{}, fmt.Errorf("compute signals: %w", err)
	}
	d, err := pol.Decide(ctx, Input{Snapshot: s, Signals: sig})
	if err != nil {
		return Outcome{}, fmt.Errorf("evaluate policy: %w", err)
	}
	p, err := plan.Build(s, sig, d, cfg.Defaults)
	if err != nil {
		return Outcome{}, fmt.Errorf("build plan: %w", err)
	}
	return Outcome{Signals: sig, Decision: d, Plan: guard.Check(p, s, cfg, now)}, nil
}
