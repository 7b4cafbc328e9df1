package e2e

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// memoryOf is the memory limit of the service's serving container.
func memoryOf(svc *runpb.Service) string {
	return svc.GetTemplate().GetContainers()[0].GetResources().GetLimits()["memory"]
}

// count returns how many events have outcome o.
func count(evs []audit.Event, o audit.Outcome) int {
	n := 0
	for _, e := range evs {
		if e.Outcome == o {
			n++
		}
	}
	return n
}

func outcomes(evs []audit.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, string(e.Outcome))
	}
	return out
}

func TestMemoryRaise(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	before := w.run.Service(w.service())
	id := w.publish(w.incident)

	evs := w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	if len(evs) != 1 {
		t.Fatalf("audit events = %v, want one", outcomes(evs))
	}
	ev := evs[0]
	after := w.run.Service(w.service())
	if got := memoryOf(after); got != "4Gi" {
		t.Errorf("memory after = %q, want 4Gi", got)
	}
	w.checkOneAction(t, "raise_memory")
	if after.GetLatestReadyRevision() == before.GetLatestReadyRevision() {
		t.Errorf("latest ready revision still %s, want a new one", after.GetLatestReadyRevision())
	}
	revs := w.run.Revisions(w.service())
	if revs[0].GetName() != after.GetLatestReadyRevision() || memoryOf(&runpb.Service{Template: &runpb.RevisionTemplate{Containers: revs[0].GetContainers()}}) != "4Gi" {
		t.Errorf("newest revision %s, want %s with 4Gi", revs[0].GetName(), after.GetLatestReadyRevision())
	}
	// Only memory changed: the image, CPU and concurrency stay.
	b, a := before.GetTemplate(), after.GetTemplate()
	if b.GetContainers()[0].GetImage() != a.GetContainers()[0].GetImage() ||
		b.GetContainers()[0].GetResources().GetLimits()["cpu"] != a.GetContainers()[0].GetResources().GetLimits()["cpu"] ||
		b.GetMaxInstanceRequestConcurrency() != a.GetMaxInstanceRequestConcurrency() {
		t.Errorf("template before %v, after %v: want only memory changed", b, a)
	}

	if ev.Delivery != id || ev.Step != "raise_memory" || !ev.Applied || ev.Result == nil || !ev.Result.Ready ||
		ev.Target != w.service() || ev.Incident != "0.nrwotmyokd9n" {
		t.Errorf("audit event = %+v, want raise_memory applied for delivery %s", ev, id)
	}
	if ev.Result != nil && !strings.HasSuffix(after.GetLatestReadyRevision(), "/revisions/"+ev.Result.Revision) && ev.Result.Revision != after.GetLatestReadyRevision() {
		t.Errorf("audit result revision %q, fake serves %s", ev.Result.Revision, after.GetLatestReadyRevision())
	}
	if want := (audit.Event{}).WithID(); ev.ID == "" || ev.ID == want.ID {
		t.Errorf("audit event id %q, want the id of its effect", ev.ID)
	}
	if ds := w.route.Deliveries(); len(ds) != 1 || ds[0].ID != id || ds[0].Err != nil {
		t.Errorf("deliveries = %+v, want one acked delivery of %s", ds, id)
	}
}

func TestRollback(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "regression-rollback")
	w.publish(w.incident)

	evs := w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	if count(evs, audit.Applied) != 1 {
		t.Fatalf("audit events = %v, want one applied", outcomes(evs))
	}
	svc := w.run.Service(w.service())
	want := []*runpb.TrafficTarget{{
		Type:     runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
		Revision: "aiprod-api-00042-abc",
		Percent:  100,
	}}
	if diff := cmp.Diff(want, svc.GetTraffic(), protocmp.Transform()); diff != "" {
		t.Errorf("traffic (-want +got):\n%s", diff)
	}
	w.checkOneAction(t, "rollback")
	if got, want := len(w.run.Revisions(w.service())), len(w.snap.Revisions); got != want {
		t.Errorf("%d revisions, want %d: a rollback creates none", got, want)
	}
	if ev := evs[0]; ev.Step != "rollback" || ev.Decision == nil || ev.Decision.Action != "rollback" {
		t.Errorf("audit event = %+v, want step rollback", ev)
	}
}

// TestDuplicateDeliveries publishes one incident 50 times: each publish is a new message id,
// as Monitoring's re-notifications and Pub/Sub's redeliveries of a republished alert are.
func TestDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	before := w.run.Service(w.service())
	const n = 50
	ids := map[string]bool{}
	for range n {
		ids[w.publish(w.incident)] = true
	}
	if len(ids) != n {
		t.Fatalf("%d distinct message ids, want %d", len(ids), n)
	}
	// And one message delivered over and over, as a push endpoint sees Pub/Sub's at-least-once
	// redeliveries: the same raw push body, the same message id, posted concurrently.
	const same = 20
	body := fmt.Sprintf(`{"message":{"data":%q,"messageId":"dup-1","message_id":"dup-1","publishTime":%q,"attributes":{}},"subscription":%q}`,
		base64.StdEncoding.EncodeToString(w.incident), time.Now().UTC().Format(time.RFC3339Nano), emu.SubscriptionName("direct"))
	var wg sync.WaitGroup
	for range same {
		wg.Go(func() {
			resp, err := http.Post(baseURL+"/"+emu.TopicName(w.alertTopic), "application/json", strings.NewReader(body))
			if err != nil {
				t.Errorf("post push body: %v", err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("post push body: status %d, want 200", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	ds := w.waitDeliveries(n + same)
	for _, d := range ds {
		if d.Err != nil {
			t.Errorf("delivery %s = %v, want ack", d.ID, d.Err)
		}
	}
	evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) >= n+same })
	if got := count(evs, audit.Applied); got != 1 {
		t.Errorf("%d applied events, want exactly 1; outcomes %v", got, outcomes(evs))
	}
	for _, e := range evs {
		if e.Outcome != audit.Applied && e.Applied {
			t.Errorf("event %+v applied with outcome %s", e, e.Outcome)
		}
	}
	w.checkOneAction(t, "raise_memory")
	if got, want := len(w.run.Revisions(w.service())), len(w.snap.Revisions)+1; got != want {
		t.Errorf("%d revisions, want %d: one new revision", got, want)
	}
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" || memoryOf(before) != "2Gi" {
		t.Errorf("memory %s -> %s, want 2Gi -> 4Gi", memoryOf(before), got)
	}
}

func TestOpenThenClosed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	w.publish(w.incident)
	w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	raised := w.run.Service(w.service())

	w.publish(withState(t, w.incident, "closed", time.Now()))
	evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
	if len(evs) != 1 {
		t.Fatalf("audit events after close = %v, want one", outcomes(evs))
	}
	if ev := evs[0]; ev.IncidentState != "closed" || ev.Applied || ev.Outcome == audit.Failed {
		t.Errorf("audit event after close = %+v, want closed, not applied, not failed", ev)
	}
	after := w.run.Service(w.service())
	if got := memoryOf(after); got != "4Gi" {
		t.Errorf("memory after close = %s, want the raise kept", got)
	}
	w.checkOneAction(t, "raise_memory")
	// Closing may record the recovery in runmedic's state, never change the spec or traffic.
	if diff := cmp.Diff(raised.GetTemplate(), after.GetTemplate(), protocmp.Transform()); diff != "" {
		t.Errorf("template changed by the close (-raised +after):\n%s", diff)
	}
	if diff := cmp.Diff(raised.GetTraffic(), after.GetTraffic(), protocmp.Transform()); diff != "" {
		t.Errorf("traffic changed by the close (-raised +after):\n%s", diff)
	}
}

// TestUnactionableAckedOnce checks that what runmedic can never act on is acked at the first
// delivery, logged once, and not delivered again.
func TestUnactionableAckedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scenario string
		data     func(w *world) []byte
		wantLog  string
	}{
		{"malformed JSON", "insufficient-memory", func(*world) []byte { return []byte(`{"incident": {"incident_id": `) }, "acked"},
		{"test notification", "test-notification", func(w *world) []byte { return w.incident }, "test notification"},
		{"wrong resource type", "wrong-resource-type", func(w *world) []byte { return w.incident }, "unsupported resource"},
		{"not base64 JSON at all", "insufficient-memory", func(*world) []byte { return []byte(base64.StdEncoding.EncodeToString([]byte("x"))) }, "acked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, tt.scenario)
			id := w.publish(tt.data(w))
			w.waitDeliveries(1)
			// Longer than the subscription's maximum backoff: a nack would have come back.
			ds := w.quiet(4 * time.Second)
			if len(ds) != 1 || ds[0].ID != id || ds[0].Err != nil {
				t.Errorf("deliveries = %+v, want one acked delivery of %s", ds, id)
			}
			lines := w.log.lines()
			if len(lines) != 1 || !strings.Contains(lines[0], tt.wantLog) || !strings.Contains(lines[0], `"severity":"WARNING"`) {
				t.Errorf("log = %q, want one WARNING line containing %q", lines, tt.wantLog)
			}
			if got := w.run.UpdateCount(w.service()); got != 0 {
				t.Errorf("UpdateCount = %d, want 0", got)
			}
		})
	}
}

// TestUnavailableRetried makes Cloud Run refuse the update twice with UNAVAILABLE: the function
// returns an error, the emulator redelivers the same message, and the third delivery applies.
func TestUnavailableRetried(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	w.run.FailNext("UpdateService", codes.Unavailable, 2)
	id := w.publish(w.incident)

	evs := w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	ds := w.quiet(500 * time.Millisecond)
	var errs int
	for i, d := range ds {
		if d.ID != id {
			t.Errorf("delivery %d is message %s, want a redelivery of %s", i, d.ID, id)
		}
		if d.Err != nil {
			errs++
		}
	}
	if len(ds) != 3 || errs != 2 || ds[2].Err != nil {
		t.Errorf("deliveries = %+v, want two failures then one ack", ds)
	}
	if got := count(evs, audit.Applied); got != 1 {
		t.Errorf("applied events = %d, want 1; outcomes %v", got, outcomes(evs))
	}
	w.checkOneAction(t, "raise_memory")
	if got, want := len(w.run.Revisions(w.service())), len(w.snap.Revisions)+1; got != want {
		t.Errorf("%d revisions, want %d: one new revision", got, want)
	}
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Errorf("memory = %s, want 4Gi", got)
	}
}

// TestNotAllowlisted sends an alert about a service outside the allowlist: it is refused
// without being read, and stays exactly as it was.
func TestNotAllowlisted(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "not-allowlisted")
	before := w.run.Service(w.service())
	w.publish(w.incident)

	evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
	if len(evs) != 1 {
		t.Fatalf("audit events = %v, want one", outcomes(evs))
	}
	ev := evs[0]
	if ev.Outcome != audit.Refused || ev.Applied || ev.Guard == nil || len(ev.Guard.Refusals) != 1 || ev.Guard.Refusals[0].Rule != "allowlist" {
		t.Errorf("audit event = %+v, want refused by the allowlist", ev)
	}
	if ev.Target != w.service() {
		t.Errorf("audit target = %s, want %s", ev.Target, w.service())
	}
	if diff := cmp.Diff(before, w.run.Service(w.service()), protocmp.Transform()); diff != "" {
		t.Errorf("service changed (-before +after):\n%s", diff)
	}
	if got := w.run.UpdateCount(w.service()); got != 0 {
		t.Errorf("UpdateCount = %d, want 0", got)
	}
	if ds := w.quiet(time.Second); len(ds) != 1 || ds[0].Err != nil {
		t.Errorf("deliveries = %+v, want one ack", ds)
	}
}

// checkOneAction asserts that runmedic's record of the service in the ledger holds exactly one
// action: action, for the scenario's incident.
func (w *world) checkOneAction(t *testing.T, action string) {
	t.Helper()
	// The record of a run is written with its change and completed right after its audit event
	// is published: wait until it has settled.
	var got []snapshot.Action
	deadline := time.Now().Add(deliveryWait)
	for {
		st, err := w.state()
		if err != nil {
			t.Fatalf("ledger: %v", err)
		}
		got = st.History()
		if len(got) == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 1 || got[0].Action != action || got[0].Incident != w.snap.Incident.ID || got[0].Outcome != state.OutcomeApplied {
		t.Errorf("recorded actions = %+v, want one %s applied for %s", got, action, w.snap.Incident.ID)
	}
}
