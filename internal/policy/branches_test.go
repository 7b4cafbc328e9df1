package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/policy"
)

// TestExplainDecisionBranches: a reader sees why every branch above the winner did not fire, the
// winner's source line, METADATA titles, and which rules are plumbing.
func TestExplainDecisionBranches(t *testing.T) {
	regressed := input(func(in *policy.Input) {
		s := &in.Signals
		s.ServingRevisionAgeMinutes, s.MemoryBeforeServing = 40, 0.41
		s.MemorySlopePerHour, s.RisingMinutes, s.MemoryNow = 0.6, 38, 0.9
		s.GrowthPerHour, s.GrowthMinutes = 0.6, 38
	})
	e := bundled(t)
	d, ex, err := e.ExplainDecision(context.Background(), regressed)
	if err != nil {
		t.Fatalf("ExplainDecision() = %v", err)
	}
	if d.Action != decision.Rollback {
		t.Fatalf("ExplainDecision().Action = %q, want rollback", d.Action)
	}
	if len(ex.Branches) < 2 {
		t.Fatalf("branches = %+v, want those above the winner and the winner", ex.Branches)
	}
	winner := ex.Branches[len(ex.Branches)-1]
	if !winner.Held || !strings.Contains(winner.Head, "rollback_decision") || winner.File != "oom.rego" || winner.Line == 0 {
		t.Errorf("last branch = %+v, want the rollback branch, held, with its source line", winner)
	}
	for _, b := range ex.Branches[:len(ex.Branches)-1] {
		if b.Held || b.Why == "" || b.Why == "not evaluated" {
			t.Errorf("branch above the winner %+v: want the condition that failed", b)
		}
	}
	if first := ex.Branches[0]; !strings.HasPrefix(first.Why, "incident_closed") {
		t.Errorf("first branch Why = %q, want the incident_closed condition", first.Why)
	}
	whys := map[string]string{}
	for _, b := range ex.Branches {
		whys[b.Head] = b.Why
	}
	if why := whys["else := acted_decision if {"]; why != "count(acted_on_incident) > 0  (0 > 0)" {
		t.Errorf("acted branch Why = %q, want the condition with its values", why)
	}
	if why := whys["else := failed_verification_decision if {"]; !strings.Contains(why, "verification_failed") {
		t.Errorf("failed-verification branch Why = %q, want its condition", why)
	}
	titles, helpers := map[string]string{}, map[string]bool{}
	for _, s := range ex.Steps {
		titles[s.Rule], helpers[s.Rule] = s.Title, s.Helper
	}
	if titles["decision"] != "Decision" || titles["diagnosis"] != "Diagnosis" {
		t.Errorf("titles of decision and diagnosis = %q, %q; want their METADATA titles", titles["decision"], titles["diagnosis"])
	}
	if !helpers["min_rising_minutes"] || helpers["regression"] || helpers["decision"] {
		t.Errorf("helpers: min_rising_minutes %v, regression %v, decision %v; want only the constant marked", helpers["min_rising_minutes"], helpers["regression"], helpers["decision"])
	}
}
