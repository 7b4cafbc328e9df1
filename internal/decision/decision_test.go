package decision

import "testing"

// TestLadderUnconditional pins which decisions page the whole ladder whatever memory does.
func TestLadderUnconditional(t *testing.T) {
	tests := []struct {
		action    Action
		diagnosis Diagnosis
		want      bool
	}{
		{Escalate, InsufficientMemory, true},
		{Restart, GradualGrowth, true},
		{RaiseMemory, GradualGrowth, true},       // a stopgap, not the fix
		{None, GradualGrowth, false},             // already acted on: the remedy's verification decides
		{Restart, Regression, true},              // nothing to roll back to: the leak path
		{RaiseMemory, Regression, true},          // idem, instances already restart
		{Rollback, Regression, false},            // the bad code is gone; verification decides
		{None, Regression, false},                // waiting on a rollback's verification
		{RaiseMemory, InsufficientMemory, false}, // memory was what was missing
		{LowerConcurrency, RequestSpike, false},
		{None, Recovered, false},
	}
	for _, tt := range tests {
		d := Decision{Action: tt.action, Diagnosis: tt.diagnosis}
		if got := d.LadderUnconditional(); got != tt.want {
			t.Errorf("Decision{%s, %s}.LadderUnconditional() = %t, want %t", tt.action, tt.diagnosis, got, tt.want)
		}
	}
}

// TestPagesNobody: only a recovery pages nobody.
func TestPagesNobody(t *testing.T) {
	for _, d := range []Decision{
		{Action: None, Diagnosis: GradualGrowth},
		{Action: Escalate, Diagnosis: Recovered},
		{Action: None, Diagnosis: InsufficientMemory},
	} {
		if d.PagesNobody() {
			t.Errorf("%+v.PagesNobody() = true, want false", d)
		}
	}
	if !(Decision{Action: None, Diagnosis: Recovered}).PagesNobody() {
		t.Error("a recovery pages somebody")
	}
}
