package state

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/runmedic/runmedic/internal/snapshot"
)

var t0 = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

func action(incident, act string, at time.Time) snapshot.Action {
	return snapshot.Action{
		Incident: incident,
		Action:   act,
		At:       at,
		Changes:  []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}},
		Outcome:  OutcomeApplied,
	}
}

func TestRecordKeepsNewestFirstAndBounded(t *testing.T) {
	var s State
	for i := range MaxActions + 5 {
		s = s.Record(action(fmt.Sprintf("inc-%02d", i), "raise_memory", t0.Add(time.Duration(i)*time.Minute)))
	}
	if got := len(s.Actions); got != MaxActions {
		t.Fatalf("len(Actions) = %d, want %d", got, MaxActions)
	}
	for i, a := range s.Actions {
		want := fmt.Sprintf("inc-%02d", MaxActions+4-i)
		if a.Incident != want {
			t.Errorf("Actions[%d].Incident = %q, want %q", i, a.Incident, want)
		}
	}
	// Only keys of actions still recorded stay unpublished.
	if got := len(s.Unpublished); got != MaxActions {
		t.Errorf("len(Unpublished) = %d, want %d", got, MaxActions)
	}
	if s.Done("inc-00", "raise_memory") {
		t.Errorf("Done(inc-00) = true after it was trimmed away")
	}
	if !s.Done("inc-24", "raise_memory") || s.Done("inc-24", "rollback") {
		t.Errorf("Done(inc-24, raise_memory/rollback) = %v/%v, want true/false",
			s.Done("inc-24", "raise_memory"), s.Done("inc-24", "rollback"))
	}
}

func TestMethodsNeverMutateReceiver(t *testing.T) {
	base := State{Version: Version, Actions: make([]snapshot.Action, 1, 8)} // spare capacity invites aliasing
	base.Actions[0] = action("inc-a", "rollback", t0)
	base.Pending = &Verification{Incident: "inc-a", Action: "rollback", AppliedAt: t0,
		Changes: []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TextValue("x"), After: snapshot.TextValue("y")}}}
	base.Escalations = make([]Escalation, 0, 8)
	base.Unpublished = make([]string, 0, 8)
	want := base.clone()

	b1 := base.Record(action("inc-b", "raise_memory", t0.Add(time.Minute)))
	b2 := base.Record(action("inc-c", "restart", t0.Add(2*time.Minute)))
	_ = base.MarkEscalated("inc-a", "step0", "lead", t0)
	_ = base.MarkPublished(Key("inc-a", "rollback"))
	r := base.Resolve(OutcomeVerified)
	r.Actions[0].Changes[0].After = snapshot.TextValue("mutated")
	h := base.History()
	h[0].Changes[0].After = snapshot.TextValue("mutated")
	if _, err := Encode(base); err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(want, base); diff != "" {
		t.Errorf("receiver changed (-want +got):\n%s", diff)
	}
	if b1.Actions[0].Incident != "inc-b" || b2.Actions[0].Incident != "inc-c" {
		t.Errorf("Record branches alias: b1[0]=%q b2[0]=%q, want inc-b, inc-c",
			b1.Actions[0].Incident, b2.Actions[0].Incident)
	}
}

func TestResolve(t *testing.T) {
	s := State{}.Record(action("inc-a", "raise_memory", t0))
	s = s.Record(action("inc-b", "rollback", t0.Add(time.Hour)))
	s.Pending = &Verification{Incident: "inc-a", Action: "raise_memory", AppliedAt: t0, VerifyAt: t0.Add(10 * time.Minute)}

	got := s.Resolve(OutcomeVerified)
	if got.Pending != nil {
		t.Errorf("Resolve left Pending = %+v, want nil", got.Pending)
	}
	outcomes := []snapshot.Outcome{got.Actions[0].Outcome, got.Actions[1].Outcome}
	if diff := cmp.Diff([]snapshot.Outcome{OutcomeApplied, OutcomeVerified}, outcomes); diff != "" {
		t.Errorf("outcomes after Resolve (-want +got):\n%s", diff)
	}
	if again := got.Resolve(OutcomeFailed); !cmp.Equal(got, again) {
		t.Errorf("Resolve without Pending changed the state")
	}
}

func TestEscalations(t *testing.T) {
	s := State{}.MarkEscalated("inc-a", "step0", "backend-lead@aiprod.ai", t0)
	s = s.MarkEscalated("inc-a", "step0", "someone-else", t0.Add(time.Minute)) // redelivery: ignored
	s = s.MarkEscalated("inc-a", "step1", "service-lead", t0.Add(10*time.Minute))

	want := []Escalation{
		{Incident: "inc-a", Step: "step1", To: "service-lead", At: t0.Add(10 * time.Minute)},
		{Incident: "inc-a", Step: "step0", To: "backend-lead@aiprod.ai", At: t0},
	}
	if diff := cmp.Diff(want, s.Escalations); diff != "" {
		t.Errorf("Escalations (-want +got):\n%s", diff)
	}
	tests := []struct {
		incident string
		step     string
		want     bool
	}{
		{"inc-a", "step0", true},
		{"inc-a", "step1", true},
		{"inc-a", "step2", false},
		{"inc-b", "step0", false},
	}
	for _, tt := range tests {
		if got := s.EscalationSent(tt.incident, tt.step); got != tt.want {
			t.Errorf("EscalationSent(%q, %q) = %v, want %v", tt.incident, tt.step, got, tt.want)
		}
	}
	for i := range MaxEscalations + 3 {
		s = s.MarkEscalated(fmt.Sprintf("inc-%d", i), "step0", "lead", t0)
	}
	if got := len(s.Escalations); got != MaxEscalations {
		t.Errorf("len(Escalations) = %d, want %d", got, MaxEscalations)
	}
}

func TestUnpublished(t *testing.T) {
	s := State{}.Record(action("inc-a", "raise_memory", t0)).Record(action("inc-b", "rollback", t0))
	if diff := cmp.Diff([]string{"inc-a/raise_memory", "inc-b/rollback"}, s.Unpublished); diff != "" {
		t.Errorf("Unpublished after Record (-want +got):\n%s", diff)
	}
	s = s.MarkPublished(Key("inc-a", "raise_memory"), Key("inc-z", "none"))
	if diff := cmp.Diff([]string{"inc-b/rollback"}, s.Unpublished); diff != "" {
		t.Errorf("Unpublished after MarkPublished (-want +got):\n%s", diff)
	}
	a, ok := s.Find("inc-b", "rollback")
	if !ok || a.Action != "rollback" {
		t.Errorf("Find(inc-b, rollback) = %+v, %v; want the recorded rollback", a, ok)
	}
}

func TestHistory(t *testing.T) {
	if h := (State{}).History(); h == nil || len(h) != 0 {
		t.Errorf("History() of empty state = %#v, want empty non-nil", h)
	}
	s := State{}.Record(action("inc-a", "raise_memory", t0)).Record(action("inc-b", "rollback", t0.Add(time.Hour)))
	got := s.History()
	if diff := cmp.Diff(s.Actions, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("History() (-want +got):\n%s", diff)
	}
}

func TestWatch(t *testing.T) {
	a := Watch{Incident: "inc-a", StartedAt: t0}
	s := State{}.Watch(a).Watch(Watch{Incident: "inc-b", StartedAt: t0}).Watch(a)
	if got, want := len(s.Watching), 2; got != want {
		t.Fatalf("len(Watching) = %d, want %d", got, want)
	}
	if got := s.Watching[0].Incident; got != "inc-b" {
		t.Errorf("Watching[0] = %q, want the newest, inc-b", got)
	}
	base := s
	s = s.Unwatch("inc-b")
	if diff := cmp.Diff([]Watch{a}, s.Watching); diff != "" {
		t.Errorf("after Unwatch (-want +got):\n%s", diff)
	}
	if len(base.Watching) != 2 {
		t.Errorf("Unwatch changed its receiver: %v", base.Watching)
	}
	for i := range MaxWatching + 2 {
		s = s.Watch(Watch{Incident: fmt.Sprintf("w-%d", i)})
	}
	if got := len(s.Watching); got != MaxWatching {
		t.Errorf("len(Watching) = %d, want the bound %d", got, MaxWatching)
	}
}

func TestWithRevision(t *testing.T) {
	s := State{}.Record(snapshot.Action{Incident: "inc-a", Action: "raise_memory", At: t0})
	s.Pending = &Verification{Incident: "inc-a", Action: "raise_memory", AppliedAt: t0}
	got := s.WithRevision("inc-a", "raise_memory", "api-00043-xyz")
	if got.Actions[0].Revision != "api-00043-xyz" || got.Pending.Revision != "api-00043-xyz" {
		t.Errorf("WithRevision: action %q, pending %q; want both api-00043-xyz", got.Actions[0].Revision, got.Pending.Revision)
	}
	if s.Actions[0].Revision != "" || s.Pending.Revision != "" {
		t.Error("WithRevision changed its receiver")
	}
}
