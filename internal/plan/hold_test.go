package plan_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/plan"
)

// TestHold: once a freeze holds a raise, every step of the ladder is unconditional and says why.
func TestHold(t *testing.T) {
	const facts = "insufficient_memory, memory at 93% of 2Gi"
	p, err := plan.Build(testSnapshot(), testSignals(), raise("4Gi", ""), testDefaults())
	if err != nil {
		t.Fatal(err)
	}
	got := plan.Hold(p, testSnapshot(), testSignals(), testDefaults(), "freeze")
	want := []plan.Notification{
		{To: "backend-lead@aiprod.ai", After: "5m", Reason: "raise_memory held by the freeze: " + facts},
		{To: "service-lead", After: "15m", Reason: "raise_memory held by the freeze: " + facts},
		{To: "engineering-manager", After: "30m", Reason: "raise_memory held by the freeze: " + facts},
	}
	if diff := cmp.Diff(want, got.Notifications); diff != "" {
		t.Errorf("Hold notifications (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(p.Changes, got.Changes); diff != "" {
		t.Errorf("Hold changed the changes (-want +got):\n%s", diff)
	}
}
