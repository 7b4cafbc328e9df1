package remediate_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// TestSecondDeliveryChangesNothing delivers the alert of every scenario whose plan applies a
// second time, as Pub/Sub may: the second run finds the work done, creates no revision, moves
// neither template nor traffic, sends no notification twice, and says duplicate or no_change.
func TestSecondDeliveryChangesNothing(t *testing.T) {
	for _, sc := range actionable(t) {
		res := offline(t, sc)
		if res.Err != nil || !res.Outcome.Plan.Applyable {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, sc.Name, nil)
			if _, err := e.handle(); err != nil {
				t.Fatalf("first Handle: %v", err)
			}
			after1, revs1, sent1 := viewOf(e.service()), len(e.run.Revisions(e.name())), e.notify.steps()

			ev, err := e.handle()
			if err != nil {
				t.Fatalf("second Handle: %v", err)
			}
			if diff := cmp.Diff(after1, viewOf(e.service())); diff != "" {
				t.Errorf("second delivery changed the service (-first +second):\n%s", diff)
			}
			if n := len(e.run.Revisions(e.name())); n != revs1 {
				t.Errorf("revisions after the second delivery: %d, want %d", n, revs1)
			}
			if ev.Applied || (ev.Outcome != audit.Duplicate && ev.Outcome != audit.NoChange) {
				t.Errorf("second event applied=%t outcome %s, want duplicate or no_change", ev.Applied, ev.Outcome)
			}
			if got := e.notify.steps(); !slices.Equal(got, sent1) {
				t.Errorf("notifications after the second delivery %v, want still %v", got, sent1)
			}
			if acts := actionsFor(e.state(), e.alert.Incident.ID); len(acts) != 1 {
				t.Errorf("state records %d actions for the incident, want 1", len(acts))
			}
		})
	}
}

// modifyOnce is an Observer that lets another writer change the service right after the first
// observation, the race the etag guards against.
type modifyOnce struct {
	remediate.Observer
	once   sync.Once
	modify func()
}

func (o *modifyOnce) Observe(ctx context.Context, target snapshot.Target) (cloudrun.Observation, error) {
	obs, err := o.Observer.Observe(ctx, target)
	o.once.Do(o.modify)
	return obs, err
}

// addLabel is an out-of-band edit that creates no revision.
func addLabel(svc *runpb.Service) {
	if svc.Labels == nil {
		svc.Labels = map[string]string{}
	}
	svc.Labels["team"] = "payments"
}

// TestConflictBetweenObserveAndApply checks the etag path: an Execute whose service moved since
// Prepare applies nothing and says ErrConflict; Handle in the same race re-observes, re-plans
// on the new service and applies once, keeping the other writer's edit.
func TestConflictBetweenObserveAndApply(t *testing.T) {
	t.Run("Execute after a modification", func(t *testing.T) {
		e := newEnv(t, "insufficient-memory", nil)
		run, err := e.r.Prepare(e.ctx, e.alert)
		if err != nil {
			t.Fatal(err)
		}
		if !run.Outcome.Plan.Applyable {
			t.Fatalf("plan not applyable: %+v", run.Outcome.Plan.Guard)
		}
		if err := e.run.Modify(e.name(), addLabel); err != nil {
			t.Fatal(err)
		}
		modified := e.service()
		_, err = e.r.Execute(e.ctx, run)
		if !errors.Is(err, cloudrun.ErrConflict) {
			t.Fatalf("Execute: %v, want ErrConflict", err)
		}
		if n := e.run.UpdateCount(e.name()); n != 0 {
			t.Errorf("UpdateCount = %d, want 0", n)
		}
		if diff := cmp.Diff(viewOf(modified), viewOf(e.service())); diff != "" {
			t.Errorf("service changed after the conflict (-modified +now):\n%s", diff)
		}
		if e.service().GetEtag() != modified.GetEtag() {
			t.Error("etag moved: something was written after the conflict")
		}
		if evs := e.audit.eventsWith(audit.Applied); len(evs) != 0 {
			t.Errorf("published %d applied events, want none", len(evs))
		}
	})
	t.Run("Handle re-plans", func(t *testing.T) {
		e := newEnv(t, "insufficient-memory", nil)
		before := viewOf(e.service())
		revs := len(e.run.Revisions(e.name()))
		e.r.Observer = &modifyOnce{Observer: e.r.Observer, modify: func() {
			if err := e.run.Modify(e.name(), addLabel); err != nil {
				t.Error(err)
			}
		}}
		ev, err := e.handle()
		if err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if ev.Outcome != audit.Applied {
			t.Errorf("outcome %s, want applied", ev.Outcome)
		}
		want := before
		want.Memory = "4Gi"
		svc := e.service()
		if diff := cmp.Diff(want, viewOf(svc)); diff != "" {
			t.Errorf("service (-want +got):\n%s", diff)
		}
		if svc.GetLabels()["team"] != "payments" {
			t.Errorf("labels %v: the other writer's edit was lost", svc.GetLabels())
		}
		if n := len(e.run.Revisions(e.name())); n != revs+1 {
			t.Errorf("revisions %d, want %d (one new)", n, revs+1)
		}
		if acts := actionsFor(e.state(), e.alert.Incident.ID); len(acts) != 1 {
			t.Errorf("state records %d actions for the incident, want 1", len(acts))
		}
		if n := len(e.audit.eventsWith(audit.Applied)); n != 1 {
			t.Errorf("published %d applied events, want 1", n)
		}
	})
}

// TestUnavailableIsRetriedByRedelivery: Cloud Run answering UNAVAILABLE to the update makes
// Handle return a retryable error, twice; the third delivery applies, once.
func TestUnavailableIsRetriedByRedelivery(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	before := viewOf(e.service())
	revs := len(e.run.Revisions(e.name()))
	// The adapter validates (validate_only) before it updates: each delivery fails at its
	// first UpdateService call, before anything is changed.
	e.run.FailNext("UpdateService", codes.Unavailable, 2)
	for i := 1; i <= 2; i++ {
		_, err := e.handle()
		notPermanent(t, "delivery", err)
		if !cloudrun.IsRetryable(err) {
			t.Errorf("delivery %d: %v, want cloudrun.IsRetryable", i, err)
		}
		if n := e.run.UpdateCount(e.name()); n != 0 {
			t.Fatalf("delivery %d: UpdateCount %d, want 0", i, n)
		}
	}
	ev, err := e.handle()
	if err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("third delivery: outcome %s, %v; want applied", ev.Outcome, err)
	}
	want := before
	want.Memory = "4Gi"
	if diff := cmp.Diff(want, viewOf(e.service())); diff != "" {
		t.Errorf("service (-want +got):\n%s", diff)
	}
	if n := len(e.run.Revisions(e.name())); n != revs+1 {
		t.Errorf("revisions %d, want %d", n, revs+1)
	}
	if acts := actionsFor(e.state(), e.alert.Incident.ID); len(acts) != 1 {
		t.Errorf("state records %d actions, want 1", len(acts))
	}
}

// TestRevisionNeverReady: the update lands but its revision never becomes Ready. The run says
// failed (not hidden) with a permanent error, the state records the action as failed, traffic
// stays on the old revision, and the on-call lead is told.
func TestRevisionNeverReady(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	old := e.service()
	e.run.SetRevisionReadyFailure(e.name())

	ev, err := e.handle()
	if !errors.Is(err, cloudrun.ErrRevisionNotReady) {
		t.Errorf("Handle error = %v, want it to wrap cloudrun.ErrRevisionNotReady", err)
	}
	if !remediate.IsPermanent(err) {
		t.Fatalf("Handle: %v, want a permanent error: retrying the same change fails the same way", err)
	}
	if ev.Outcome != audit.Failed || !ev.Applied || ev.Result == nil || ev.Result.Ready || ev.Result.Revision == "" {
		t.Errorf("event outcome %s applied %t result %+v, want failed with the unready revision", ev.Outcome, ev.Applied, ev.Result)
	}
	if evs := e.audit.eventsWith(audit.Failed); len(evs) != 1 {
		t.Errorf("published %d failed events, want 1", len(evs))
	}
	if evs := e.audit.eventsWith(audit.Applied); len(evs) != 0 {
		t.Errorf("published %d applied events for a revision that never became ready, want 0: %+v", len(evs), evs)
	}
	svc := e.service()
	if got, want := served(svc), served(old); !cmp.Equal(want, got) {
		t.Errorf("served traffic %v, want still %v", got, want)
	}
	if svc.GetLatestReadyRevision() != old.GetLatestReadyRevision() {
		t.Errorf("latest ready %s, want still %s", svc.GetLatestReadyRevision(), old.GetLatestReadyRevision())
	}
	st := e.state()
	acts := actionsFor(st, e.alert.Incident.ID)
	if len(acts) != 1 || acts[0].Outcome != state.OutcomeFailed {
		t.Errorf("state actions %+v, want one failed", acts)
	}
	if st.Pending != nil {
		t.Errorf("pending %+v, want none: a failed change is not verified", st.Pending)
	}
	sent := e.notify.Notifications()
	if len(sent) == 0 {
		t.Fatal("no escalation sent")
	}
	if sent[0].To != e.cfg.Defaults.Escalation[0].Notify {
		t.Errorf("escalated to %s, want %s", sent[0].To, e.cfg.Defaults.Escalation[0].Notify)
	}
	for _, n := range sent {
		if !st.EscalationSent(e.alert.Incident.ID, state.StepKey(n.To, n.After)) {
			t.Errorf("state does not record the escalation %s@%s", n.To, n.After)
		}
	}
}

// TestAuditPublishFailsAfterApply: the change lands but its audit event cannot be published.
// Handle asks for a retry; the state on the service holds the action, marked unpublished; the
// next delivery publishes the applied event and clears the mark. The service changed once and
// each notification went out once.
func TestAuditPublishFailsAfterApply(t *testing.T) {
	e := newEnv(t, "regression-rollback", nil)
	e.audit.Fail(errPublish)
	ev, err := e.handle()
	notPermanent(t, "Handle with the audit topic down", err)
	if !errors.Is(err, errPublish) {
		t.Errorf("Handle: %v, want it to wrap the publish error", err)
	}
	if !ev.Applied {
		t.Errorf("event applied = false, want true: the change landed")
	}
	st := e.state()
	acts := actionsFor(st, e.alert.Incident.ID)
	if len(acts) != 1 || acts[0].Outcome != state.OutcomeApplied {
		t.Fatalf("state actions %+v, want the rollback applied", acts)
	}
	key := state.Key(e.alert.Incident.ID, acts[0].Action)
	if !slices.Contains(st.Unpublished, key) {
		t.Errorf("unpublished %v, want %s", st.Unpublished, key)
	}
	sent1 := e.notify.steps()
	if len(sent1) == 0 {
		t.Fatal("the rollback notified nobody; the test needs a notification sent at once")
	}
	for _, step := range sent1 {
		if !st.EscalationSent(e.alert.Incident.ID, step) {
			t.Errorf("state does not record the sent notification %s: a later run would send it again", step)
		}
	}
	afterApply, gen := viewOf(e.service()), e.service().GetGeneration()

	e.audit.Fail(nil)
	if _, err := e.handle(); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	applied := e.audit.eventsWith(audit.Applied)
	if len(applied) != 1 || applied[0].Incident != e.alert.Incident.ID || applied[0].Step != acts[0].Action || applied[0].ID != ev.ID {
		t.Errorf("applied events published %+v, want the one the first run could not publish (id %s)", applied, ev.ID)
	}
	if st := e.state(); len(st.Unpublished) != 0 {
		t.Errorf("unpublished %v after the redelivery, want none", st.Unpublished)
	}
	if diff := cmp.Diff(afterApply, viewOf(e.service())); diff != "" {
		t.Errorf("redelivery changed the service (-first +second):\n%s", diff)
	}
	if e.service().GetGeneration() < gen {
		t.Error("generation went back")
	}
	if acts := actionsFor(e.state(), e.alert.Incident.ID); len(acts) != 1 {
		t.Errorf("state records %d actions, want 1", len(acts))
	}
	steps := e.notify.steps()
	if !slices.Equal(steps, sent1) {
		t.Errorf("notifications after the redelivery %v, want still %v (each step once)", steps, sent1)
	}
}

// TestLandedChangeKeepsItsRecord: the change lands but its revision never becomes ready, and then
// the notification topic fails. The delivery is retried, and the state on the service still says
// the change failed, with its revision, so the redelivery escalates instead of waiting for a
// verification of a change that never served.
func TestLandedChangeKeepsItsRecord(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	e.run.SetRevisionReadyFailure(e.name())
	e.notify.Fail(errors.New("notify topic unavailable"))

	if _, err := e.handle(); err == nil || remediate.IsPermanent(err) {
		t.Fatalf("Handle with the notify topic down = %v, want a retryable error", err)
	}
	st := e.state()
	acts := actionsFor(st, e.alert.Incident.ID)
	if len(acts) != 1 || acts[0].Outcome != state.OutcomeFailed || acts[0].Revision == "" {
		t.Fatalf("state actions %+v, want the raise recorded as failed with its revision", acts)
	}
	if st.Pending != nil {
		t.Errorf("pending %+v, want none: a failed change is not verified", st.Pending)
	}
	if evs := e.audit.eventsWith(audit.Applied); len(evs) != 0 {
		t.Errorf("published %d applied events, want 0", len(evs))
	}

	e.notify.Fail(nil)
	if _, err := e.handle(); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if len(e.notify.Notifications()) == 0 {
		t.Error("the redelivery sent no escalation for the failed change")
	}
	if n := len(e.run.Revisions(e.name())); n != len(e.snap.Revisions)+1 {
		t.Errorf("%d revisions, want one more than the %d seeded: nothing applied twice", n, len(e.snap.Revisions))
	}
}
