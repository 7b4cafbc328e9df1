package audit

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestID(t *testing.T) {
	base := ID(target, "0.a", "raise_memory", Applied)
	if len(base) != 32 {
		t.Fatalf("ID = %q, want 32 hex digits", base)
	}
	if again := ID(target, "0.a", "raise_memory", Applied); again != base {
		t.Errorf("ID twice = %q then %q, want equal", base, again)
	}
	tests := []struct {
		name                   string
		target, incident, step string
		outcome                Outcome
	}{
		{"other target", target + "-2", "0.a", "raise_memory", Applied},
		{"other incident", target, "0.b", "raise_memory", Applied},
		{"other step", target, "0.a", "rollback", Applied},
		{"other outcome", target, "0.a", "raise_memory", Duplicate},
		{"boundary moved", target, "0.ar", "aise_memory", Applied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ID(tt.target, tt.incident, tt.step, tt.outcome); got == base {
				t.Errorf("ID(%q, %q, %q, %q) = %q, same as the base tuple", tt.target, tt.incident, tt.step, tt.outcome, got)
			}
		})
	}
}

func TestEventJSON(t *testing.T) {
	events := []Event{appliedEvent(), refusedEvent(), Event{
		Incident: "0.x", IncidentState: "open", Target: target, Step: "decode",
		Delivery: "9", Outcome: Failed, Error: "decode incident: missing resource labels",
	}.WithID()}
	got, err := json.MarshalIndent(events, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "events.json.golden", append(got, '\n'))
}

func TestNotificationAttributes(t *testing.T) {
	n := Notification{Incident: "0.a", Target: target, Severity: "Critical", To: "backend-lead@aiprod.ai", After: "5m"}.WithID()
	if want := ID(target, "0.a", "notify:backend-lead@aiprod.ai@5m", Escalated); n.ID != want {
		t.Errorf("Notification.WithID().ID = %q, want %q", n.ID, want)
	}
	got := n.Attributes()
	want := map[string]string{"id": n.ID, "incident": "0.a", "severity": "critical", "notify": "backend-lead@aiprod.ai"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Attributes (-want +got):\n%s", diff)
	}
}
