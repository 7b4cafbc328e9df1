package outcome_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/outcome"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/policies"
)

// TestDecideThenActed: the bundled policy raises a service at its limit once; with that raise
// in the history the same incident is already acted on and the plan changes nothing.
func TestDecideThenActed(t *testing.T) {
	ctx := context.Background()
	raw, err := os.ReadFile(filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory", "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(ctx, policies.FS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := outcome.Decide(ctx, eng, snap, cfg, snap.CapturedAt)
	if err != nil {
		t.Fatalf("Decide: %v", err)
	}
	if out.Decision.Action != decision.RaiseMemory || !out.Plan.Applyable || out.Step != string(decision.RaiseMemory) {
		t.Fatalf("Decide = %s (applyable %v, step %q), want an applyable raise_memory", out.Decision.Action, out.Plan.Applyable, out.Step)
	}

	snap.History = append([]snapshot.Action{{
		Incident: snap.Incident.ID, Action: out.Step, At: snap.CapturedAt, Changes: out.Plan.Changes, Outcome: snapshot.OutcomeApplied,
	}}, snap.History...)
	again, err := outcome.Decide(ctx, eng, snap, cfg, snap.CapturedAt)
	if err != nil {
		t.Fatalf("Decide again: %v", err)
	}
	if !again.Signals.AlreadyActed || again.Plan.Applyable || len(again.Plan.Changes) != 0 {
		t.Errorf("Decide after the raise = %s with %d changes (already_acted %v), want no change", again.Decision.Action, len(again.Plan.Changes), again.Signals.AlreadyActed)
	}
}

func TestHeldBy(t *testing.T) {
	change := []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}
	tests := []struct {
		name string
		p    plan.Plan
		want string
	}{
		{"allowed", plan.Plan{Changes: change}, ""},
		{"freeze", plan.Plan{Changes: change, Guard: plan.Verdict{Refusals: []plan.Refusal{{Rule: guard.RuleCooldown}, {Rule: guard.RuleFreeze}}}}, guard.RuleFreeze},
		{"snooze", plan.Plan{Changes: change, Guard: plan.Verdict{Refusals: []plan.Refusal{{Rule: guard.RuleSnooze}}}}, guard.RuleSnooze},
		{"nothing to hold", plan.Plan{Guard: plan.Verdict{Refusals: []plan.Refusal{{Rule: guard.RuleFreeze}}}}, ""},
	}
	for _, tt := range tests {
		if got := outcome.HeldBy(tt.p); got != tt.want {
			t.Errorf("%s: HeldBy = %q, want %q", tt.name, got, tt.want)
		}
	}
}
