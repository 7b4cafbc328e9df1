package signals

import (
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestComputeActions(t *testing.T) {
	memChange := []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}
	// now is the snapshot's captured_at.
	now := t0.Add(time.Minute)
	at := func(ago time.Duration, outcome snapshot.Outcome) snapshot.Action {
		return snapshot.Action{Incident: "0.x", Action: "raise_memory", At: now.Add(-ago), Changes: memChange, Outcome: outcome}
	}
	escalation := snapshot.Action{Incident: "0.x", Action: "escalate", At: now.Add(-time.Minute), Outcome: "applied"}

	tests := []struct {
		name      string
		history   []snapshot.Action
		wantCount int
		wantSince int
	}{
		{"no history", nil, 0, -1},
		{"one verified change", []snapshot.Action{at(30*time.Minute, "verified")}, 1, 30},
		{"applied and reverted changes count", []snapshot.Action{at(10*time.Minute, "reverted"), at(2*time.Hour, "applied")}, 2, 10},
		{"a change that failed verification landed, and counts", []snapshot.Action{at(5*time.Minute, "failed"), at(3*time.Hour, "verified")}, 2, 5},
		{"escalation changes nothing", []snapshot.Action{escalation}, 0, -1},
		{"older than a day counts only for the cooldown", []snapshot.Action{at(25*time.Hour, "verified")}, 0, 1500},
		{"exactly a day ago is outside the window", []snapshot.Action{at(24*time.Hour, "verified")}, 0, 1440},
		{"just inside the day", []snapshot.Action{at(24*time.Hour-time.Second, "verified")}, 1, 1439},
		{"partial minutes are truncated", []snapshot.Action{at(90*time.Second, "verified")}, 1, 1},
		{"stamped in the future counts as now", []snapshot.Action{at(-2*time.Minute, "applied")}, 1, 0},
		{
			name:      "history out of order uses the newest",
			history:   []snapshot.Action{at(5*time.Hour, "verified"), at(20*time.Minute, "verified"), at(23*time.Hour, "verified"), at(30*time.Hour, "verified")},
			wantCount: 3,
			wantSince: 20,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(series(t0, 0.5)) // captured at t0+1m
			s.History = tt.history
			got, err := Compute(s, testDefaults())
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if got.ActionsLast24h != tt.wantCount || got.MinutesSinceLastAction != tt.wantSince {
				t.Errorf("actions_last_24h, minutes_since_last_action = %d, %d, want %d, %d",
					got.ActionsLast24h, got.MinutesSinceLastAction, tt.wantCount, tt.wantSince)
			}
		})
	}
}
