package remediate_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/remediate"
)

// handleAll delivers the scenario's alert n times at once, each with its own message id, and
// returns the errors in delivery order.
func (e *env) handleAll(n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		a := e.alert
		a.Delivery.MessageID = fmt.Sprintf("burst-%02d", i)
		wg.Go(func() { _, errs[i] = e.r.Handle(e.ctx, a) })
	}
	wg.Wait()
	return errs
}

// TestCoalescedBurst: deliveries of one incident at once make one change; each still gets its
// own audit event, and only the run that made the change says it applied.
func TestCoalescedBurst(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	seeded := len(e.run.Revisions(e.name()))
	const n = 12
	for i, err := range e.handleAll(n) {
		if err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
	}
	if got := len(e.run.Revisions(e.name())) - seeded; got != 1 {
		t.Errorf("%d new revisions, want 1", got)
	}
	byDelivery := map[string]int{}
	for _, ev := range e.audit.Events() {
		byDelivery[ev.Delivery]++
	}
	for i := range n {
		if id := fmt.Sprintf("burst-%02d", i); byDelivery[id] == 0 {
			t.Errorf("delivery %s has no audit event", id)
		}
	}
	if got := len(e.audit.eventsWith(audit.Applied)); got != 1 {
		t.Errorf("%d applied events, want 1", got)
	}
}

// TestMemoHoldsUntilVerification: after a change, a duplicate takes the memo without reading
// anything; once verify_after has passed the next delivery runs the runbook again and verifies.
func TestMemoHoldsUntilVerification(t *testing.T) {
	e := raised(t, nil)
	e.at(time.Minute)
	ev, err := e.handle() // a run: it finds the change made
	if err != nil || ev.Outcome != audit.Duplicate {
		t.Fatalf("first duplicate: outcome %s, %v", ev.Outcome, err)
	}
	reads := len(e.mon.Requests())
	e.at(2 * time.Minute)
	ev, err = e.handle()
	if err != nil || ev.Outcome != audit.Duplicate {
		t.Fatalf("memoised duplicate: outcome %s, %v", ev.Outcome, err)
	}
	if got := len(e.mon.Requests()); got != reads {
		t.Errorf("memoised duplicate read the metrics (%d requests, was %d)", got, reads)
	}
	e.memoryUntil(e.t0.Add(11*time.Minute), 0.5)
	e.at(11 * time.Minute)
	if _, err := e.handle(); err != nil {
		t.Fatalf("after verify_after: %v", err)
	}
	if got := len(e.mon.Requests()); got == reads {
		t.Errorf("the delivery after verify_after read nothing: the memo outlived the verification")
	}
	if len(e.audit.eventsWith(audit.Verified)) != 1 {
		t.Errorf("verified events %v, want one", e.audit.steps())
	}
}

// TestCoalescedSameRetryClass: deliveries that join a run that must be retried are retried too,
// and the failure is not remembered: the redelivery runs.
func TestCoalescedSameRetryClass(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	e.run.FailNext("GetService", codes.Aborted, 1)
	failed := 0
	for i, err := range e.handleAll(6) {
		if err != nil {
			failed++
		}
		if err != nil && remediate.IsPermanent(err) {
			t.Errorf("delivery %d: permanent %v, want a retry", i, err)
		}
	}
	if failed == 0 {
		t.Fatal("no delivery failed: the fault did not fire")
	}
	ev, err := e.handle()
	if err != nil {
		t.Fatalf("redelivery: %v", err)
	}
	if applied := len(e.audit.eventsWith(audit.Applied)); applied != 1 {
		t.Errorf("%d applied events after the redelivery (last %s), want 1", applied, ev.Outcome)
	}
}

// TestMemoOutlivesAnotherIncidentsRefusal: a run for another incident on the service that changes
// nothing a decision is made from (refused: the service's last change is in its cooldown) leaves
// the memo standing; one that fails, and may have changed anything, ends it.
func TestMemoOutlivesAnotherIncidentsRefusal(t *testing.T) {
	e := raised(t, nil)
	e.at(time.Minute)
	if ev, err := e.handle(); err != nil || ev.Outcome != audit.Duplicate {
		t.Fatalf("first duplicate: outcome %s, %v", ev.Outcome, err)
	}
	other := e.alert
	other.Incident.ID = "0.another"
	other.Delivery.MessageID = "another-1"
	e.at(2 * time.Minute)
	if ev, err := e.r.Handle(e.ctx, other); err != nil || ev.Outcome != audit.Refused {
		t.Fatalf("another incident: outcome %s, %v; want refused", ev.Outcome, err)
	}
	reads := len(e.mon.Requests())
	e.at(3 * time.Minute)
	if ev, err := e.handle(); err != nil || ev.Outcome != audit.Duplicate {
		t.Fatalf("duplicate after the refusal: outcome %s, %v", ev.Outcome, err)
	}
	if got := len(e.mon.Requests()); got != reads {
		t.Errorf("duplicate after another incident's refusal read the metrics (%d requests, was %d): the memo ended", got, reads)
	}
	other.Incident.ID, other.Delivery.MessageID = "0.failing", "failing-1"
	e.run.FailNext("GetService", codes.Unavailable, 3)
	if _, err := e.r.Handle(e.ctx, other); err == nil {
		t.Fatal("another incident's run under UNAVAILABLE succeeded: the fault did not fire")
	}
	reads = len(e.mon.Requests())
	e.at(4 * time.Minute)
	if _, err := e.handle(); err != nil {
		t.Fatalf("duplicate after the failed run: %v", err)
	}
	if got := len(e.mon.Requests()); got == reads {
		t.Errorf("duplicate after another incident's failed run read nothing: the memo outlived a run that may have changed the service")
	}
}

// TestMemoEndsWithCooldown: a refusal because the service is in its cooldown is remembered no
// longer than the cooldown: the first delivery after it runs the runbook again and acts.
func TestMemoEndsWithCooldown(t *testing.T) {
	e := raised(t, []byte("defaults:\n  escalation: []\n")) // nothing else due: the refusal is memoised
	if e.tick(11*time.Minute, 0.5); len(e.audit.eventsWith(audit.Verified)) != 1 {
		t.Fatalf("tick at t0+11m: events %v, want the raise verified", e.audit.steps())
	}
	e.memoryUntil(e.t0.Add(16*time.Minute), 0.97)
	other := e.incident("0.another")
	e.at(12 * time.Minute)
	ev, err := e.r.Handle(e.ctx, other)
	if err != nil || ev.Outcome != audit.Refused || ev.Guard == nil || len(ev.Guard.Refusals) != 1 || ev.Guard.Refusals[0].Rule != "cooldown" {
		t.Fatalf("another incident inside the cooldown: outcome %s, %v, guard %+v; want refused by the cooldown", ev.Outcome, err, ev.Guard)
	}
	e.at(16 * time.Minute) // the cooldown (15m) ended at t0+15m
	other.Delivery.MessageID = "delivery-0.another-2"
	if ev, err = e.r.Handle(e.ctx, other); err != nil || ev.Outcome != audit.Applied {
		t.Errorf("the incident's next delivery after the cooldown: outcome %s, %v; want applied (the memo of the refusal outlived the cooldown)", ev.Outcome, err)
	}
}

// panicking is a publisher whose first Publish panics, as a bug in the pipeline would.
type panicking struct {
	remediate.Publisher
	once sync.Once
}

func (p *panicking) Publish(ctx context.Context, payload any, attrs map[string]string) (string, error) {
	p.once.Do(func() { panic("publisher bug") })
	return p.Publisher.Publish(ctx, payload, attrs)
}

// TestPanickedRunNotMemoised: a run that panics leaves no memo behind: the next delivery runs
// the runbook again and reports what it finds, rather than taking an empty outcome.
func TestPanickedRunNotMemoised(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	e.r.Audit = &panicking{Publisher: e.audit}
	func() {
		defer func() {
			if p := recover(); p == nil {
				t.Fatal("the first delivery did not panic: the fault did not fire")
			}
		}()
		e.handle()
	}()
	e.at(time.Minute)
	ev, err := e.handle()
	if err != nil || ev.Outcome != audit.Duplicate {
		t.Errorf("delivery after the panicked run: outcome %q, %v; want duplicate (the change is made)", ev.Outcome, err)
	}
}
