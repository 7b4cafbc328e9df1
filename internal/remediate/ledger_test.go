package remediate_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// incident is the scenario's alert for another incident id.
func (e *env) incident(id string) alert.Alert {
	a := e.alert
	a.Incident.ID = id
	a.Delivery.MessageID = "delivery-" + id
	return a
}

// deliver hands a to r as Pub/Sub would: a retryable error is redelivered (up to a bound),
// a permanent one is acked.
func deliver(t *testing.T, r *remediate.Remediator, a alert.Alert) (audit.Event, error) {
	t.Helper()
	for i := 0; ; i++ {
		ev, err := r.Handle(context.Background(), a)
		if err == nil || remediate.IsPermanent(err) || i == 40 {
			return ev, err
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// instance is a second remediator: its own clients, locks and ledger client, the same fakes,
// ledger, policy and clock.
func (e *env) instance(dial ...grpc.DialOption) *remediate.Remediator {
	e.t.Helper()
	crc, err := cloudrun.New(e.ctx, e.run.ClientOptions()...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { crc.Close() })
	mc, err := monitoring.New(e.ctx, e.mon.ClientOptions()...)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { mc.Close() })
	return &remediate.Remediator{
		Policy: e.r.Policy, Config: e.r.Config, Observer: crc, Applier: crc, Metrics: mc,
		Audit: e.audit, Notify: e.notify, Now: e.clock.Now,
		Ledger: firestoretest.Shared(e.t).StoreIn(e.t, e.ledgerProject, dial...).WithClock(e.clock.Now),
	}
}

// TestForgedIncidentsDoNotEvictTheReal: after the real incident's raise, 300 forged incidents on
// the same service, each started after it (the newest are the ones a bounded list would keep),
// are refused by the cooldown and watched; the real one is still watched, and when its raise did
// not help, the tick judges it failed and escalates it.
func TestForgedIncidentsDoNotEvictTheReal(t *testing.T) {
	e := raised(t, nil)
	updates := e.run.UpdateCount(e.name())
	var wg sync.WaitGroup
	ids := make(chan int)
	for range 4 {
		wg.Go(func() {
			for i := range ids {
				a := e.incident(fmt.Sprintf("forged-%03d", i))
				a.Incident.StartedAt = e.alert.Incident.StartedAt.Add(time.Duration(i+1) * time.Second)
				if ev, err := deliver(t, e.r, a); err != nil || ev.Applied {
					t.Errorf("forged %d: applied %t, %v", i, ev.Applied, err)
				}
			}
		})
	}
	for i := range 300 {
		ids <- i
	}
	close(ids)
	wg.Wait()
	if n := e.run.UpdateCount(e.name()); n != updates {
		t.Fatalf("%d updates after the forged incidents, want %d", n, updates)
	}
	st := e.state()
	if !slices.ContainsFunc(st.Watching, func(w state.Watch) bool { return w.Incident == e.alert.Incident.ID }) {
		t.Fatalf("the real incident is no longer watched among %d", len(st.Watching))
	}
	e.tick(11*time.Minute, 0.95)
	acts := actionsFor(e.state(), e.alert.Incident.ID)
	if len(acts) != 1 || acts[0].Outcome != state.OutcomeFailed {
		t.Errorf("the real raise = %+v, want it judged failed", acts)
	}
	if !slices.ContainsFunc(e.notify.Notifications(), func(n audit.Notification) bool { return n.Incident == e.alert.Incident.ID }) {
		t.Errorf("the real incident's failed raise escalated to nobody (sent %v)", e.notify.steps())
	}
}

// TestFutureDatedActionDoesNotBlock: a change dated 2999 in the ledger is ignored; the cooldown
// (which counts a change in the future as just made) does not see it and the raise is applied.
func TestFutureDatedActionDoesNotBlock(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	before := e.state()
	forged := before.Record(snapshot.Action{Incident: "0.forged", Action: "raise_memory", Outcome: state.OutcomeApplied,
		At:      time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC),
		Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}})
	if err := e.ledger.Record(e.ctx, e.snap.Target, before, forged); err != nil {
		t.Fatal(err)
	}
	if ev, err := e.handle(); err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("delivery: %s, %v; want applied", ev.Outcome, err)
	}
	if got := viewOf(e.service()).Memory; got != "4Gi" {
		t.Errorf("memory %s, want 4Gi", got)
	}
}

// TestTickKeepsLabels: an incident labelled remediation=manual is refused on arrival; the tick
// re-runs it with its labels and refuses it again.
func TestTickKeepsLabels(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	a := e.alert
	a.Incident.Labels = map[string]string{"remediation": "manual"}
	ev, err := e.r.Handle(e.ctx, a)
	if err != nil || ev.Applied {
		t.Fatalf("arrival: %s applied %t, %v; want refused", ev.Outcome, ev.Applied, err)
	}
	st := e.state()
	i := slices.IndexFunc(st.Watching, func(w state.Watch) bool { return w.Incident == a.Incident.ID })
	if i < 0 || st.Watching[i].Labels["remediation"] != "manual" {
		t.Fatalf("watching %+v, want the incident with its labels", st.Watching)
	}
	for _, m := range []time.Duration{5, 10, 20} {
		e.tick(m*time.Minute, 0.95)
	}
	if n := e.run.UpdateCount(e.name()); n != 0 {
		t.Errorf("%d updates after the ticks, want 0: the label holds", n)
	}
	if got := viewOf(e.service()).Memory; got != "2Gi" {
		t.Errorf("memory %s, want 2Gi", got)
	}
}

// TestTwoInstancesOneChange: two remediators (own clients and locks, one ledger, one Cloud Run)
// share a storm of duplicates and distinct incidents on one service: one change.
func TestTwoInstancesOneChange(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	// The rollout takes two polls: an instance that reads the service between another's update
	// and its record sees the change landed and not yet recorded.
	e.run.SetOperationPolls(2)
	rs := []*remediate.Remediator{e.r, e.instance()}
	var wg sync.WaitGroup
	for i := range 40 {
		a := e.alert
		if i%2 == 1 {
			a = e.incident(fmt.Sprintf("other-%02d", i))
		}
		wg.Go(func() {
			if _, err := deliver(t, rs[i%2], a); err != nil {
				t.Errorf("delivery %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := e.run.UpdateCount(e.name()); n != 1 {
		t.Errorf("%d updates, want exactly 1", n)
	}
	if n := len(e.state().Actions); n != 1 {
		t.Errorf("%d recorded actions, want 1", n)
	}
	// The audit trail is at least once: an instance may publish again an event the other one
	// has not yet marked published, under the same id.
	ids := map[string]bool{}
	for _, ev := range e.audit.eventsWith(audit.Applied) {
		ids[ev.ID] = true
	}
	if len(ids) != 1 {
		t.Errorf("%d distinct applied events, want 1", len(ids))
	}
}

// claimed claims the real incident's raise in the ledger as a process would before its
// UpdateService, and returns the claim.
func (e *env) claimed() ledger.Claim {
	e.t.Helper()
	entry, err := e.ledger.Load(e.ctx, e.snap.Target, "", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	act := snapshot.Action{Incident: e.alert.Incident.ID, Action: "raise_memory", At: now, Outcome: state.OutcomeApplied,
		Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}}
	pending := &state.Verification{Incident: act.Incident, Action: act.Action, AppliedAt: now, VerifyAt: now.Add(10 * time.Minute), Changes: act.Changes}
	c := ledger.NewClaim(e.snap.Target, act, pending, nil, now)
	if err := e.ledger.Claim(e.ctx, e.snap.Target, entry.Version, c, ledger.Limits{}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// TestCrashBetweenClaimAndApply: a process claimed the raise and died before its UpdateService.
// Inside the claim's lease the step is in flight (retried, nothing changed); after it, the claim
// is released and the raise applied, once.
func TestCrashBetweenClaimAndApply(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	e.claimed()
	_, err := e.handle()
	notPermanent(t, "delivery inside the lease", err)
	if n := e.run.UpdateCount(e.name()); n != 0 {
		t.Fatalf("%d updates inside the lease, want 0", n)
	}
	e.at(ledger.ClaimLease + time.Minute)
	if ev, err := e.handle(); err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("delivery after the lease: %s, %v; want applied", ev.Outcome, err)
	}
	if n := e.run.UpdateCount(e.name()); n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
	if acts := actionsFor(e.state(), e.alert.Incident.ID); len(acts) != 1 {
		t.Errorf("recorded %+v, want one raise", acts)
	}
}

// TestCrashBetweenApplyAndRecord: a process claimed the raise, applied it with the claim's
// marker and died before recording it. The next delivery finds the marker on the service,
// records the raise (and its pending verification) and changes nothing more.
func TestCrashBetweenApplyAndRecord(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	c := e.claimed()
	crc, err := cloudrun.New(e.ctx, e.run.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer crc.Close()
	if _, err := crc.Apply(e.ctx, e.snap.Target, e.service().GetEtag(), c.Action.Changes, map[string]string{cloudrun.ClaimAnnotation: c.ID}); err != nil {
		t.Fatal(err)
	}
	e.at(time.Minute)
	ev, err := e.handle()
	if err != nil || ev.Applied {
		t.Fatalf("delivery after the crash: %s applied %t, %v; want nothing applied", ev.Outcome, ev.Applied, err)
	}
	if n := e.run.UpdateCount(e.name()); n != 1 {
		t.Errorf("%d updates, want 1: the crashed process's", n)
	}
	st := e.state()
	if acts := actionsFor(st, e.alert.Incident.ID); len(acts) != 1 || acts[0].Outcome != state.OutcomeApplied {
		t.Errorf("recorded %+v, want the raise applied", acts)
	}
	if st.Pending == nil || st.Pending.Incident != e.alert.Incident.ID {
		t.Errorf("pending %+v, want the raise's verification", st.Pending)
	}
	if n := len(e.audit.eventsWith(audit.Applied)); n != 1 {
		t.Errorf("%d applied events, want 1: the raise's, published by the run that recorded it", n)
	}
}

// commitFault fails the nth Commit the Firestore client sends (counting from 1) with code,
// before the server sees it.
type commitFault struct {
	n, code int
	seen    atomic.Int64
}

func (f *commitFault) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method == "/google.firestore.v1.Firestore/Commit" && f.seen.Add(1) == int64(f.n) {
		return status.Error(codes.Code(f.code), "injected")
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// TestLedgerFaults: Firestore failing the claim's commit or the record's commit (UNAVAILABLE,
// DEADLINE_EXCEEDED, ABORTED) never applies twice and never loses the raise: the delivery is
// retried (or the transaction retries itself), and the service ends raised once and recorded.
func TestLedgerFaults(t *testing.T) {
	for _, tt := range []struct {
		name string
		n    int // 1: the claim's commit; 2: the record's
		code codes.Code
	}{
		{"claim unavailable", 1, codes.Unavailable},
		{"claim deadline exceeded", 1, codes.DeadlineExceeded},
		{"claim aborted", 1, codes.Aborted},
		{"record unavailable", 2, codes.Unavailable},
		{"record deadline exceeded", 2, codes.DeadlineExceeded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "insufficient-memory", nil)
			f := &commitFault{n: tt.n, code: int(tt.code)}
			r := e.instance(grpc.WithChainUnaryInterceptor(f.intercept))
			if _, err := deliver(t, r, e.alert); err != nil {
				t.Fatalf("delivery: %v", err)
			}
			if f.seen.Load() < int64(tt.n) {
				t.Fatalf("%d commits, the fault at %d never fired", f.seen.Load(), tt.n)
			}
			if n := e.run.UpdateCount(e.name()); n != 1 {
				t.Errorf("%d updates, want 1", n)
			}
			if got := viewOf(e.service()).Memory; got != "4Gi" {
				t.Errorf("memory %s, want 4Gi", got)
			}
			st := e.state()
			if acts := actionsFor(st, e.alert.Incident.ID); len(acts) != 1 || acts[0].Outcome != state.OutcomeApplied || st.Pending == nil {
				t.Errorf("recorded %+v pending %v, want the raise applied and awaiting verification", acts, st.Pending)
			}
			// A record that failed after the publish publishes the event again, with its ID.
			ids := map[string]bool{}
			for _, ev := range e.audit.eventsWith(audit.Applied) {
				ids[ev.ID] = true
			}
			if len(ids) != 1 {
				t.Errorf("%d distinct applied events, want 1", len(ids))
			}
		})
	}
}

// noWait is a second instance that issues changes without waiting for their rollout.
func (e *env) noWait() *remediate.Remediator {
	e.t.Helper()
	r := e.instance()
	r.Rollouts = r.Applier.(*cloudrun.Client)
	return r
}

// TestApplyDoesNotWaitForRollout: with a rollout that takes three polls, the delivery issues the
// UpdateService, records the change as rolling out and returns; later runs read the rollout and
// record the new revision, changing nothing more.
func TestApplyDoesNotWaitForRollout(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	r := e.noWait()
	e.run.SetOperationPolls(3)
	ev, err := r.Handle(e.ctx, e.alert)
	if err != nil || ev.Outcome != audit.Applied || ev.Result == nil || ev.Result.Ready || ev.Result.Operation == "" {
		t.Fatalf("delivery: %+v, %v; want applied, its operation named, not yet Ready", ev.Result, err)
	}
	st := e.state()
	if st.Rollout == nil || st.Rollout.Operation != ev.Result.Operation || st.Pending == nil {
		t.Fatalf("ledger after the delivery: rollout %+v pending %+v; want the rollout and the verification", st.Rollout, st.Pending)
	}
	for i := 1; e.state().Rollout != nil; i++ {
		if i > 5 {
			t.Fatal("the rollout was never recorded")
		}
		e.at(time.Duration(i) * time.Minute)
		if ev, err := r.Handle(e.ctx, e.alert); err != nil || ev.Applied {
			t.Fatalf("redelivery %d: %s applied %t, %v", i, ev.Outcome, ev.Applied, err)
		}
	}
	if n := e.run.UpdateCount(e.name()); n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
	acts := actionsFor(e.state(), e.alert.Incident.ID)
	latest := e.service().GetLatestReadyRevision()
	if len(acts) != 1 || acts[0].Revision == "" || latest[len(latest)-len(acts[0].Revision):] != acts[0].Revision {
		t.Errorf("recorded %+v, want the raise with the new revision %s", acts, latest)
	}
}

// TestRolloutThatFailsEscalates: a change issued without waiting whose revision never becomes
// Ready is recorded failed by the next run, which escalates.
func TestRolloutThatFailsEscalates(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	r := e.noWait()
	e.run.SetRevisionReadyFailure(e.name())
	if ev, err := r.Handle(e.ctx, e.alert); err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("delivery: %s, %v; want applied", ev.Outcome, err)
	}
	e.at(time.Minute)
	if _, err := r.Handle(e.ctx, e.alert); err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	st := e.state()
	acts := actionsFor(st, e.alert.Incident.ID)
	if st.Rollout != nil || len(acts) != 1 || acts[0].Outcome != state.OutcomeFailed {
		t.Fatalf("ledger: rollout %+v actions %+v; want the raise recorded failed", st.Rollout, acts)
	}
	if len(e.audit.eventsWith(audit.Failed)) == 0 {
		t.Errorf("no failed event for the rollout")
	}
	if len(e.notify.Notifications()) == 0 {
		t.Errorf("nobody told of the failed rollout")
	}
	if n := e.run.UpdateCount(e.name()); n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
}

// TestTickReadsUnwatchedRollout: a rollout whose incident is not watched is read by the tick.
func TestTickReadsUnwatchedRollout(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	r := e.noWait()
	e.run.SetOperationPolls(1)
	if ev, err := r.Handle(e.ctx, e.alert); err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("delivery: %s, %v; want applied", ev.Outcome, err)
	}
	st := e.state()
	if err := e.ledger.Record(e.ctx, e.snap.Target, st, st.Unwatch(e.alert.Incident.ID)); err != nil {
		t.Fatal(err)
	}
	e.at(time.Minute)
	if _, err := r.Tick(e.ctx); err != nil {
		t.Fatalf("tick: %v", err)
	}
	st = e.state()
	if acts := actionsFor(st, e.alert.Incident.ID); st.Rollout != nil || len(acts) != 1 || acts[0].Revision == "" {
		t.Errorf("after the tick: rollout %+v actions %+v; want the rollout read and its revision recorded", st.Rollout, acts)
	}
}
