package plan_test

import (
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestBuildShowsWhatFollows(t *testing.T) {
	terraform := func(s *snapshot.Snapshot) { s.Service.Labels = map[string]string{plan.TerraformLabel: "true"} }
	tests := []struct {
		name         string
		snap         snapshot.Snapshot
		d            decision.Decision
		wantVerify   bool
		wantWarnings int
	}{
		{"raise on a plain service", testSnapshot(), raise("4Gi", ""), true, 0},
		{"raise on a Terraform service", testSnapshot(terraform), raise("4Gi", ""), true, 1},
		{"escalate on a Terraform service", testSnapshot(terraform), act(decision.Escalate, decision.Params{}), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := plan.Build(tt.snap, testSignals(), tt.d, testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Verification != nil; got != tt.wantVerify {
				t.Errorf("Verification present = %v, want %v", got, tt.wantVerify)
			}
			if p.Verification != nil && (p.Verification.After != "10m" || p.Verification.Below != 0.8) {
				t.Errorf("Verification = %+v, want after 10m below 0.8", *p.Verification)
			}
			if got := len(p.Warnings); got != tt.wantWarnings {
				t.Fatalf("Warnings = %q, want %d", p.Warnings, tt.wantWarnings)
			}
			if tt.wantWarnings > 0 && !strings.Contains(p.Warnings[0], "template.memory") {
				t.Errorf("Warnings[0] = %q, want it to name template.memory", p.Warnings[0])
			}
		})
	}
}
