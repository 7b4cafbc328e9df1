package remediate_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// actionable are the scenarios whose notification reaches the remediator: the others (a test
// notification, another resource type, labels aggregated away) are rejected when decoded.
func actionable(t *testing.T) []scenario.Scenario {
	t.Helper()
	scs, err := scenario.LoadAll(scenarioRoot)
	if err != nil {
		t.Fatal(err)
	}
	var out []scenario.Scenario
	for _, sc := range scs {
		if _, err := sc.Alert(); err == nil {
			out = append(out, sc)
		}
	}
	if len(out) < 10 {
		t.Fatalf("only %d actionable scenarios under %s", len(out), scenarioRoot)
	}
	return out
}

// TestHandleMatchesOfflinePlan delivers every actionable scenario's alert to a live remediator
// whose fakes are seeded from the scenario's snapshot, and checks that the service ends exactly
// as the offline plan (`runmedic plan` on the same snapshot) predicted: an applyable plan's
// changes are all there and nothing else moved; any other plan leaves template and traffic
// alone and creates no revision. The state annotation and the published event agree.
func TestHandleMatchesOfflinePlan(t *testing.T) {
	for _, sc := range actionable(t) {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			want := offline(t, sc)
			if want.Err != nil {
				t.Fatalf("offline plan: %v", want.Err)
			}
			e := newEnv(t, sc.Name, nil)
			p := want.Outcome.Plan
			if e.snap.Logs != nil && e.decidesOtherwiseWithoutLogs(p) {
				t.Skip("the decision rests on OOM-kill logs, which this harness's fakes do not serve")
			}

			// The live decision on the shifted snapshot is the offline one.
			eng, cfg := engine(t, sc.Config)
			shifted, err := remediate.Decide(e.ctx, eng, e.snap, cfg, e.t0)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "plan changes on the shifted snapshot", p.Changes, shifted.Plan.Changes)
			if shifted.Plan.Applyable != p.Applyable {
				t.Errorf("shifted plan applyable = %t, offline %t", shifted.Plan.Applyable, p.Applyable)
			}

			before := viewOf(e.service())
			revsBefore := len(e.run.Revisions(e.name()))
			histBefore := len(e.snap.History)

			ev, err := e.handle()
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			svc := e.service()
			got := viewOf(svc)
			st := e.state()

			if _, allowed := e.cfg.Allowed(e.snap.Target); !allowed {
				if ev.Decision != nil {
					t.Errorf("event decision = %+v for a service not on the allowlist, want none (never read)", ev.Decision)
				}
			} else if ev.Decision == nil || ev.Decision.Action != p.Decision.Action {
				t.Errorf("event decision = %+v, want action %s", ev.Decision, p.Decision.Action)
			}
			if !p.Applyable {
				if diff := cmp.Diff(before, got); diff != "" {
					t.Errorf("plan is not applyable but the service changed (-before +after):\n%s", diff)
				}
				if n := len(e.run.Revisions(e.name())); n != revsBefore {
					t.Errorf("revisions: %d, want %d (none created)", n, revsBefore)
				}
				if len(st.Actions) != histBefore {
					t.Errorf("state records %d actions, want the %d seeded", len(st.Actions), histBefore)
				}
				wantOutcomes := []audit.Outcome{audit.NoChange, audit.Duplicate, audit.Escalated}
				switch {
				case len(p.Changes) > 0 && !p.Guard.Allowed:
					wantOutcomes = []audit.Outcome{audit.Refused}
				case len(p.Changes) > 0:
					wantOutcomes = []audit.Outcome{audit.Shadow}
				}
				if ev.Applied || !slices.Contains(wantOutcomes, ev.Outcome) {
					t.Errorf("event applied=%t outcome %s, want one of %v", ev.Applied, ev.Outcome, wantOutcomes)
				}
			} else {
				if diff := cmp.Diff(withChanges(t, before, p.Changes), got); diff != "" {
					t.Errorf("service is not what the plan predicted (-plan +fake):\n%s", diff)
				}
				wantRevs := revsBefore
				if changesTemplate(p.Changes) {
					wantRevs++
				}
				if n := len(e.run.Revisions(e.name())); n != wantRevs {
					t.Errorf("revisions: %d, want %d", n, wantRevs)
				}
				if !ev.Applied || ev.Outcome != audit.Applied || ev.Result == nil || !ev.Result.Ready {
					t.Errorf("event applied=%t outcome %s result %+v, want applied and ready", ev.Applied, ev.Outcome, ev.Result)
				}
				sameJSON(t, "event changes", p.Changes, ev.Changes)
				acts := actionsFor(st, e.alert.Incident.ID)
				if len(acts) != 1 || acts[0].Action != string(p.Decision.Action) || acts[0].Outcome != state.OutcomeApplied {
					t.Fatalf("state actions of the incident = %+v, want one %s applied", acts, p.Decision.Action)
				}
				sameJSON(t, "recorded changes", p.Changes, acts[0].Changes)
				if st.Pending == nil || st.Pending.Incident != e.alert.Incident.ID || !st.Pending.VerifyAt.Equal(e.t0.Add(10*time.Minute)) {
					t.Errorf("pending = %+v, want verification of %s at t0+10m", st.Pending, e.alert.Incident.ID)
				}
				if len(st.Unpublished) != 0 {
					t.Errorf("unpublished = %v after a successful publish, want none", st.Unpublished)
				}
			}
			if published := e.audit.Events(); len(published) == 0 || published[len(published)-1].ID != ev.ID {
				t.Errorf("the returned event %s is not the last one published (%d published)", ev.ID, len(published))
			}
			checkNotifications(t, e, p)
		})
	}
}

// checkNotifications: whatever was sent is a due step of the plan, recorded once; steps due at
// once (after 0) are always sent; a decision to escalate sends every due step; nobody gets two
// messages from one run (two steps due together for one recipient are one message); a closed
// incident notifies nobody.
func checkNotifications(t *testing.T, e *env, p plan.Plan) {
	t.Helper()
	var sent []string
	for _, esc := range e.state().Escalations {
		if esc.Incident == e.alert.Incident.ID {
			sent = append(sent, esc.Step)
		}
	}
	told := map[string]bool{}
	for _, n := range e.notify.Notifications() {
		if told[n.To] {
			t.Errorf("%s got two messages from one run", n.To)
		}
		told[n.To] = true
	}
	if e.alert.Incident.State == snapshot.StateClosed {
		if len(sent) > 0 {
			t.Errorf("closed incident notified %v", sent)
		}
		return
	}
	var due, immediate []string
	for _, n := range p.Notifications {
		after, err := time.ParseDuration(n.After)
		if err != nil {
			t.Fatal(err)
		}
		if e.alert.Incident.StartedAt.Add(after).After(e.clock.Now()) {
			continue
		}
		due = append(due, state.StepKey(n.To, n.After))
		if after == 0 {
			immediate = append(immediate, state.StepKey(n.To, n.After))
		}
	}
	seen := map[string]bool{}
	for _, s := range sent {
		if seen[s] || !slices.Contains(due, s) {
			t.Errorf("sent %v, due %v: %s is a repeat or not due", sent, due, s)
		}
		seen[s] = true
	}
	want := immediate
	if p.Decision.Action == decision.Escalate {
		want = due
	}
	for _, s := range want {
		if !seen[s] {
			t.Errorf("sent %v, want %s among them (due %v)", sent, s, due)
		}
	}
}

// changesTemplate reports whether changes create a revision.
func changesTemplate(changes []snapshot.Change) bool {
	for _, c := range changes {
		if c.Path != snapshot.PathTraffic {
			return true
		}
	}
	return false
}

// TestNotAllowlistedIsNeverRead checks that a service outside the allowlist is refused without
// being read: the fake is primed to fail the next GetService, and that failure is still pending
// after Handle.
func TestNotAllowlistedIsNeverRead(t *testing.T) {
	e := newEnv(t, "not-allowlisted", nil)
	before := e.service()
	e.run.FailNext("GetService", codes.PermissionDenied, 1)

	ev, err := e.handle()
	if err != nil {
		t.Fatalf("Handle: %v, want nil (refused and acked)", err)
	}
	if ev.Outcome != audit.Refused || ev.Applied || ev.Guard == nil || len(ev.Guard.Refusals) != 1 || ev.Guard.Refusals[0].Rule != guard.RuleAllowlist {
		t.Errorf("event outcome %s guard %+v, want refused by %s", ev.Outcome, ev.Guard, guard.RuleAllowlist)
	}
	if n := e.run.UpdateCount(e.name()); n != 0 {
		t.Errorf("UpdateCount = %d, want 0", n)
	}
	if len(e.notify.Notifications()) != 0 {
		t.Errorf("notified %v about a service runmedic may not touch", e.notify.steps())
	}
	// The primed failure is still there: Handle never called GetService.
	crc, err := cloudrun.New(context.Background(), e.run.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer crc.Close()
	if _, err := crc.Observe(e.ctx, e.snap.Target); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Observe after Handle: %v, want the primed PermissionDenied (the service was read)", err)
	}
	if diff := cmp.Diff(viewOf(before), viewOf(e.service())); diff != "" {
		t.Errorf("service changed (-before +after):\n%s", diff)
	}
	if got, want := e.service().GetGeneration(), before.GetGeneration(); got != want {
		t.Errorf("generation %d, want %d", got, want)
	}
}

// decidesOtherwiseWithoutLogs reports whether the scenario's plan changes when its OOM-kill log
// evidence is dropped: what the live remediator sees when no Logging reader is wired.
func (e *env) decidesOtherwiseWithoutLogs(p plan.Plan) bool {
	e.t.Helper()
	eng, cfg := engine(e.t, e.sc.Config)
	blind := e.snap
	blind.Logs = nil
	out, err := remediate.Decide(e.ctx, eng, blind, cfg, e.t0)
	if err != nil {
		e.t.Fatal(err)
	}
	return jsonText(e.t, out.Plan.Changes) != jsonText(e.t, p.Changes)
}
