package remediate_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// raised delivers insufficient-memory (2Gi -> 4Gi) at t0 and checks it applied.
func raised(t *testing.T, overlay []byte) *env {
	t.Helper()
	e := newEnv(t, "insufficient-memory", overlay)
	if ev, err := e.handle(); err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("raise: outcome %s, %v", ev.Outcome, err)
	}
	return e
}

// tick runs one verify tick at t0+d with memory at value since the last point, and returns the
// audit events it published.
func (e *env) tick(d time.Duration, memory float64) []audit.Event {
	e.t.Helper()
	e.memoryUntil(e.t0.Add(d), memory)
	e.at(d)
	before := len(e.audit.Events())
	if _, err := e.r.Tick(e.ctx); err != nil {
		e.t.Fatalf("tick at t0+%s: %v", d, err)
	}
	return e.audit.Events()[before:]
}

// only returns the single event with outcome o among evs, failing on none or several.
func only(t *testing.T, evs []audit.Event, o audit.Outcome) audit.Event {
	t.Helper()
	var got []audit.Event
	for _, ev := range evs {
		if ev.Outcome == o {
			got = append(got, ev)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%d %s events, want 1", len(got), o)
	}
	return got[0]
}

// checkJudged: the raise's recorded outcome, no pending verification, and whether the incident
// is still watched.
func checkJudged(t *testing.T, e *env, outcome snapshot.Outcome, watched bool) {
	t.Helper()
	st := e.state()
	acts := actionsFor(st, e.alert.Incident.ID)
	if len(acts) == 0 || acts[len(acts)-1].Action != "raise_memory" || acts[len(acts)-1].Outcome != outcome {
		t.Errorf("recorded actions %+v, want the raise %s", acts, outcome)
	}
	if st.Pending != nil {
		t.Errorf("pending %+v, want none once judged", st.Pending)
	}
	isWatched := slices.ContainsFunc(st.Watching, func(w state.Watch) bool { return w.Incident == e.alert.Incident.ID })
	if isWatched != watched {
		t.Errorf("incident watched = %t, want %t", isWatched, watched)
	}
}

// TestVerifyHealthy: memory below verify_below since the raise; the first tick after
// verify_after says verified, and the incident is no longer watched.
func TestVerifyHealthy(t *testing.T) {
	e := raised(t, nil)
	if e.tick(5*time.Minute, 0.55); len(e.audit.eventsWith(audit.Verified)) != 0 {
		t.Fatal("verified inside the verification window")
	}
	evs := e.tick(11*time.Minute, 0.55)
	ev := only(t, evs, audit.Verified)
	if ev.Step != "verify raise_memory" || ev.Incident != e.alert.Incident.ID {
		t.Errorf("verified event step %q incident %s", ev.Step, ev.Incident)
	}
	checkJudged(t, e, state.OutcomeVerified, false)
	if n := len(e.audit.eventsWith(audit.Verified)); n != 1 {
		t.Errorf("%d verified events published, want 1", n)
	}
	if got := e.tick(16*time.Minute, 0.55); len(got) != 0 {
		t.Errorf("a tick after the verdict handled %d events, want none (nothing watched)", len(got))
	}
	if sent := e.notify.steps(); len(sent) != 0 {
		t.Errorf("notified %v about a remedy that worked", sent)
	}
}

// TestVerifyFailedEscalatesOnce runs duplicate ticks through the runbook's escalation table
// while memory stays high after the raise: verification fails, and each step of the table is
// published exactly once in all.
func TestVerifyFailedEscalatesOnce(t *testing.T) {
	// Who has been told, in order. A recipient with two steps due at once (the decision's T+0
	// notice and the table's T+5m row, both the backend lead) gets one message.
	ladder := []string{"backend-lead@aiprod.ai", "service-lead", "engineering-manager"}

	// At the memory ceiling after the raise, runmedic has nothing left to try, so the table runs
	// on its own clock. The incident starts when the alert arrives (t0): T+5 and T+15 fall
	// inside and after the verification window.
	t.Run("ladder on time", func(t *testing.T) {
		e := newEnv(t, "insufficient-memory", []byte("defaults:\n  memory_ceiling: 4Gi\n"))
		e.alert.Incident.StartedAt = e.t0
		if ev, err := e.handle(); err != nil || ev.Outcome != audit.Applied {
			t.Fatalf("raise: outcome %s, %v", ev.Outcome, err)
		}
		for _, step := range []struct {
			at   time.Duration
			sent []string // the ladder steps sent so far
		}{
			{5 * time.Minute, nil}, // inside verify_after: "if not recovering" cannot be judged yet
			{10 * time.Minute, ladder[:1]},
			{15 * time.Minute, ladder[:2]},
			{30 * time.Minute, ladder[:3]},
			{35 * time.Minute, ladder[:3]},
		} {
			for range 2 { // a duplicate tick at the same time
				e.tick(step.at, 0.93)
			}
			var got []string
			for _, n := range e.notify.Notifications() {
				if !slices.Contains(got, n.To) {
					got = append(got, n.To)
				}
			}
			if diff := cmp.Diff(step.sent, got); diff != "" {
				t.Errorf("ladder steps sent by T+%s (-want +got):\n%s", step.at, diff)
			}
		}
		if n := len(e.audit.eventsWith(audit.VerificationFailed)); n != 1 {
			t.Errorf("%d verification_failed events, want 1", n)
		}
		checkJudged(t, e, state.OutcomeFailed, true)
		checkOnce(t, e)
	})

	// With room to raise again, runmedic does so after the cooldown; the table waits while each
	// remedy is being verified but still sends every step once.
	t.Run("through a second raise", func(t *testing.T) {
		e := raised(t, nil)
		evs := e.tick(10*time.Minute, 0.93)
		only(t, evs, audit.VerificationFailed)
		checkJudged(t, e, state.OutcomeFailed, true)
		for _, m := range []int{10, 15, 15, 24, 24, 30, 30, 35, 35, 40} {
			e.tick(time.Duration(m)*time.Minute, 0.93)
		}
		for _, to := range ladder {
			if !slices.ContainsFunc(e.notify.Notifications(), func(n audit.Notification) bool { return n.To == to }) {
				t.Errorf("%s never told (sent %v)", to, e.notify.steps())
			}
		}
		checkOnce(t, e)
	})
}

// checkOnce fails when a notification was published twice.
func checkOnce(t *testing.T, e *env) {
	t.Helper()
	seen := map[string]bool{}
	for _, n := range e.notify.Notifications() {
		if seen[n.ID] {
			t.Errorf("notification %s@%s published twice", n.To, n.After)
		}
		seen[n.ID] = true
	}
}

// TestVerifyOnClose: Monitoring closes the incident inside the window. With every point since
// the raise healthy it is verified at once; otherwise it stays pending, and the first tick after
// verify_after judges it. A "closed" while live memory is still above verify_below (forged, or
// premature) does not end the watch: the tick judges the raise failed and escalates it.
func TestVerifyOnClose(t *testing.T) {
	closed := func(e *env) (audit.Event, error) {
		a := e.alert
		a.Incident.State = snapshot.StateClosed
		end := e.clock.Now()
		a.Incident.EndedAt = &end
		return e.r.Handle(e.ctx, a)
	}
	t.Run("healthy", func(t *testing.T) {
		e := raised(t, nil)
		e.memoryUntil(e.t0.Add(4*time.Minute), 0.6)
		e.at(4 * time.Minute)
		if _, err := closed(e); err != nil {
			t.Fatal(err)
		}
		ev := only(t, e.audit.Events(), audit.Verified)
		if ev.IncidentState != snapshot.StateClosed {
			t.Errorf("verified event incident_state %s, want closed", ev.IncidentState)
		}
		checkJudged(t, e, state.OutcomeVerified, false)
	})
	t.Run("not yet healthy", func(t *testing.T) {
		e := raised(t, nil)
		e.memoryUntil(e.t0.Add(4*time.Minute), 0.86)
		e.at(4 * time.Minute)
		if _, err := closed(e); err != nil {
			t.Fatal(err)
		}
		if n := len(e.audit.eventsWith(audit.Verified)) + len(e.audit.eventsWith(audit.VerificationFailed)); n != 0 {
			t.Errorf("%d verdicts before verify_after with unhealthy points, want none", n)
		}
		st := e.state()
		if st.Pending == nil || st.Pending.Incident != e.alert.Incident.ID {
			t.Fatalf("pending %+v, want the raise still awaiting its verdict", st.Pending)
		}
		if !slices.ContainsFunc(st.Watching, func(w state.Watch) bool { return w.Incident == e.alert.Incident.ID }) {
			t.Errorf("watching %+v after a closed at memory 0.86, want the incident still watched", st.Watching)
		}
		evs := e.tick(11*time.Minute, 0.86)
		only(t, evs, audit.VerificationFailed)
		checkJudged(t, e, state.OutcomeFailed, true)
		if sent := e.notify.steps(); len(sent) == 0 {
			t.Errorf("nobody notified of the failed raise after a closed that memory contradicts")
		}
		checkOnce(t, e)
	})
}

// TestRevertAfterFailedRaise: with revert_on_failed_verification, a raise (2Gi -> 4Gi) that
// brought no improvement is reverted. The revert is a change like any other and goes through
// the same guard: at verify_after (10m) the 15m cooldown after the raise still refuses it, and
// it lands on the first tick after the cooldown, with no other change in between.
func TestRevertAfterFailedRaise(t *testing.T) {
	e := raised(t, []byte("defaults:\n  revert_on_failed_verification: true\n"))
	raisedView := viewOf(e.service())

	evs := e.tick(10*time.Minute, 0.93)
	only(t, evs, audit.VerificationFailed)
	refused := only(t, evs, audit.Refused)
	if refused.Step != "revert" || refused.Guard == nil || len(refused.Guard.Refusals) == 0 || refused.Guard.Refusals[0].Rule != "cooldown" {
		t.Errorf("at verify_after: step %s guard %+v, want the revert refused by cooldown", refused.Step, refused.Guard)
	}
	if diff := cmp.Diff(raisedView, viewOf(e.service())); diff != "" {
		t.Errorf("service changed inside the cooldown (-raised +now):\n%s", diff)
	}

	evs = e.tick(15*time.Minute, 0.93)
	ev := only(t, evs, audit.Applied)
	if ev.Step != "revert" {
		t.Errorf("applied step %s after the cooldown, want revert", ev.Step)
	}
	want := raisedView
	want.Memory = "2Gi"
	if diff := cmp.Diff(want, viewOf(e.service())); diff != "" {
		t.Errorf("service after the revert (-want +got):\n%s", diff)
	}
	acts := actionsFor(e.state(), e.alert.Incident.ID)
	if len(acts) != 2 || acts[0].Action != "revert" || acts[1].Action != "raise_memory" || acts[1].Outcome != state.OutcomeFailed {
		t.Errorf("recorded actions %+v, want the revert over the failed raise", acts)
	}
	if e.state().Pending != nil {
		t.Errorf("pending %+v after a revert, want none: an undo is not verified", e.state().Pending)
	}

	// Later ticks neither revert twice nor raise again.
	revs := len(e.run.Revisions(e.name()))
	e.tick(20*time.Minute, 0.93)
	e.tick(35*time.Minute, 0.93)
	if n := len(e.run.Revisions(e.name())); n != revs {
		t.Errorf("revisions %d after later ticks, want %d", n, revs)
	}
	if diff := cmp.Diff(want, viewOf(e.service())); diff != "" {
		t.Errorf("later ticks changed the service (-want +got):\n%s", diff)
	}
}
