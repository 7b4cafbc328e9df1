package snapshot

import "testing"

func TestAlreadyActed(t *testing.T) {
	raise := []Change{{Path: PathMemory, Before: TextValue("2Gi"), After: TextValue("4Gi")}}
	tests := []struct {
		name           string
		history        []Action
		incident, step string
		want           bool
	}{
		{"applied", []Action{{Incident: "i", Action: "raise_memory", Changes: raise, Outcome: OutcomeApplied}}, "i", "", true},
		{"verified, same step", []Action{{Incident: "i", Action: "raise_memory", Changes: raise, Outcome: OutcomeVerified}}, "i", "raise_memory", true},
		{"failed", []Action{{Incident: "i", Action: "raise_memory", Changes: raise, Outcome: OutcomeFailed}}, "i", "", false},
		{"another incident", []Action{{Incident: "j", Action: "raise_memory", Changes: raise, Outcome: OutcomeApplied}}, "i", "", false},
		{"another step", []Action{{Incident: "i", Action: "raise_memory", Changes: raise, Outcome: OutcomeApplied}}, "i", "restart", false},
		{"no change", []Action{{Incident: "i", Action: "escalate", Outcome: OutcomeApplied}}, "i", "", false},
		{"failed then applied", []Action{
			{Incident: "i", Action: "restart", Changes: raise, Outcome: OutcomeApplied},
			{Incident: "i", Action: "raise_memory", Changes: raise, Outcome: OutcomeFailed},
		}, "i", "", true},
	}
	for _, tt := range tests {
		if _, got := AlreadyActed(tt.history, tt.incident, tt.step); got != tt.want {
			t.Errorf("%s: AlreadyActed(%q, %q) = %v, want %v", tt.name, tt.incident, tt.step, got, tt.want)
		}
	}
}
