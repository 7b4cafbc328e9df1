package signals

import (
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestVerification checks recovery before the alert and the verdict on earlier changes for the
// incident.
func TestVerification(t *testing.T) {
	change := func(incident string, outcome snapshot.Outcome, at time.Duration) snapshot.Action {
		return snapshot.Action{Incident: incident, Action: "raise_memory", At: t0.Add(at), Outcome: outcome,
			Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}}
	}
	high, low := repeat(0.9, 120), repeat(0.6, 30)
	tests := []struct {
		name                         string
		vals                         []float64
		state                        string
		history                      []snapshot.Action
		below                        int
		recovered, acted, failedVerd bool
	}{
		{name: "high to the end", vals: high},
		{name: "below for 30 minutes", vals: join(high, low), below: 30, recovered: true},
		{name: "below for 8 minutes is too short", vals: join(high, repeat(0.6, 8)), below: 8},
		{name: "closed incidents are not early recoveries", vals: join(high, low), state: snapshot.StateClosed, below: 30},
		{
			// A leak just OOM-killed is low for a while and climbs straight back.
			name: "low and climbing after a restart is no recovery", vals: join(ramp(0.5, 1, 120), ramp(0.4, 0.7, 30)), below: 30,
		},
		{name: "a change inside its window: acted", vals: high, history: []snapshot.Action{change("0.test", "applied", 115*time.Minute)}, acted: true},
		{name: "window passed, memory still high: failed", vals: high, history: []snapshot.Action{change("0.test", "applied", 60*time.Minute)}, failedVerd: true},
		{name: "window passed, memory below since: acted", vals: join(high, low), history: []snapshot.Action{change("0.test", "applied", 121*time.Minute)}, below: 30, recovered: true, acted: true},
		{name: "recorded failed", vals: high, history: []snapshot.Action{change("0.test", "failed", 100*time.Minute)}, failedVerd: true},
		{name: "another incident's change is not this one's", vals: high, history: []snapshot.Action{change("0.other", "applied", 60*time.Minute)}},
		{name: "an escalation changed nothing", vals: high, history: []snapshot.Action{{Incident: "0.test", Action: "escalate", At: t0, Outcome: "applied"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(series(t0, tt.vals...))
			if tt.state != "" {
				s.Incident.State = tt.state
			}
			s.History = tt.history
			sig, err := Compute(s, testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			v := sig.Verification
			if v.MinutesBelowVerify != tt.below || v.RecoveredEarly != tt.recovered || v.AlreadyActed != tt.acted || v.VerificationFailed != tt.failedVerd {
				t.Errorf("verification = %+v, want below %d recovered %t acted %t failed %t", v, tt.below, tt.recovered, tt.acted, tt.failedVerd)
			}
		})
	}
}
