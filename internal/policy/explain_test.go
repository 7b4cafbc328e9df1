package policy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/policy"
)

func TestExplainNamesTheRulesThatHeld(t *testing.T) {
	regressed := input(func(in *policy.Input) {
		s := &in.Signals
		s.ServingRevisionAgeMinutes, s.MemoryBeforeServing = 40, 0.41
		s.MemorySlopePerHour, s.RisingMinutes, s.MemoryNow = 0.6, 38, 0.9
		s.GrowthPerHour, s.GrowthMinutes = 0.6, 38
	})
	e := bundled(t)
	d, steps, err := e.Explain(context.Background(), regressed)
	if err != nil {
		t.Fatalf("Explain() = %v", err)
	}
	want, err := e.Decide(context.Background(), regressed)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != decision.Rollback || d.Action != want.Action {
		t.Errorf("Explain().Action = %q, Decide().Action = %q, want both rollback", d.Action, want.Action)
	}
	byRule := map[string]policy.Step{}
	for _, s := range steps {
		if s.File != "oom.rego" || s.Line <= 0 || s.Head == "" {
			t.Errorf("step %+v: want a line of oom.rego and its head", s)
		}
		if _, ok := byRule[s.Rule]; !ok {
			byRule[s.Rule] = s
		}
	}
	for _, rule := range []string{"regression", "young_revision", "memory_rising", "normal_before_serving", "decision", "diagnosis"} {
		if _, ok := byRule[rule]; !ok {
			t.Errorf("Explain() steps lack %s; got %v", rule, steps)
		}
	}
	for _, rule := range []string{"gradual_growth", "insufficient_memory", "over_budget", "incident_closed"} {
		if s, ok := byRule[rule]; ok {
			t.Errorf("Explain() step %v: %s did not hold", s, rule)
		}
	}
	if s := byRule["diagnosis"]; s.Value != `"regression"` || !strings.HasPrefix(s.Head, "else := \"regression\"") {
		t.Errorf("diagnosis step = %+v, want the regression branch with value \"regression\"", s)
	}
	if s := byRule["decision"]; !strings.Contains(s.Value, `"action": "rollback"`) || len(s.Value) > 160 {
		t.Errorf("decision step value = %q, want the rollback object, shortened", s.Value)
	}
	for i := 1; i < len(steps); i++ {
		if steps[i].Line < steps[i-1].Line {
			t.Errorf("steps out of file order at %d: %v then %v", i, steps[i-1], steps[i])
		}
	}
	t.Logf("%d steps, e.g. %s", len(steps), byRule["regression"])
}
