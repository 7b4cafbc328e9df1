// Package remediate is the orchestrator: it reads like the runbook. The pure half (signals,
// policy, plan, guard) is package outcome, which `runmedic plan`, replay and the function share;
// Remediator adds observing the live service, applying the plan and recording what happened.
package remediate

import (
	"context"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/outcome"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Policy evaluates the policy input and returns a validated decision. *policy.Engine is one.
type Policy = outcome.Policy

// Outcome is everything one decision produced, for rendering, auditing and applying.
type Outcome = outcome.Outcome

// Decide is outcome.Decide: signals → policy → plan → guard on one snapshot, the clock a parameter.
func Decide(ctx context.Context, pol Policy, s snapshot.Snapshot, cfg config.Config, now time.Time) (Outcome, error) {
	return outcome.Decide(ctx, pol, s, cfg, now)
}
