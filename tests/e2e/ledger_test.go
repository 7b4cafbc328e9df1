package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
)

// TestRedeployDropsAnnotations: a declarative redeploy of the same spec replaces the service's
// annotations, runmedic's included. The next re-notification of the incident finds the raise in
// the ledger and does not raise again.
func TestRedeployDropsAnnotations(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	w.publish(w.incident)
	w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	w.checkOneAction(t, "raise_memory")
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Fatalf("memory after the first delivery = %s, want 4Gi", got)
	}
	if w.run.Service(w.service()).GetAnnotations()[cloudrun.ClaimAnnotation] == "" {
		t.Errorf("the change carries no %s marker", cloudrun.ClaimAnnotation)
	}
	// gcloud run services replace with the spec as it is in source control: no runmedic annotations.
	if err := w.run.Modify(w.service(), func(s *runpb.Service) { s.Annotations = map[string]string{} }); err != nil {
		t.Fatal(err)
	}
	updates := w.run.UpdateCount(w.service())

	w.publish(w.incident) // Monitoring re-notifies the open incident
	evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
	if len(evs) != 1 || evs[0].Applied || evs[0].Outcome == audit.Failed {
		t.Fatalf("audit events after the redeploy = %v, want one that changes nothing", outcomes(evs))
	}
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Errorf("memory after the re-notification = %s, want 4Gi: raised once", got)
	}
	if n := w.run.UpdateCount(w.service()); n != updates {
		t.Errorf("%d updates after the re-notification, want %d", n, updates)
	}
	w.checkOneAction(t, "raise_memory")
}

// TestCorruptLedgerEntryFailsClosed: an entry of the service's ledger that cannot be decoded
// changes nothing, is logged at ERROR and escalated, and the delivery is acked.
func TestCorruptLedgerEntryFailsClosed(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	ctx := context.Background()
	notifySub := topicID(t) + "-notify-sub"
	if err := emu.CreatePullSubscription(ctx, notifySub, topicID(t)+"-notify"); err != nil {
		t.Fatal(err)
	}
	raw, err := firestore.NewClientWithDatabase(ctx, w.ledgerProject, ledger.DefaultDatabase, ledger.EmulatorOptions(firestoretest.Shared(t).Host())...)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tg := w.snap.Target
	doc := raw.Collection("services").Doc(tg.Project + ":" + tg.Location + ":" + tg.Service).Collection("actions").Doc("corrupt")
	if _, err := doc.Set(ctx, map[string]any{"key": "x/raise_memory", "data": "{not json", "landed": true, "at": time.Now()}); err != nil {
		t.Fatal(err)
	}

	w.publish(w.incident)
	ds := w.waitDeliveries(1)
	if ds[0].Err != nil {
		t.Errorf("delivery = %v, want acked", ds[0].Err)
	}
	evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
	if len(evs) != 1 || evs[0].Outcome != audit.Failed || evs[0].Applied || !strings.Contains(evs[0].Error, "ledger entry unreadable") {
		t.Fatalf("audit events = %+v, want one failed, naming the unreadable entry", evs)
	}
	if got := memoryOf(w.run.Service(w.service())); got != "2Gi" {
		t.Errorf("memory = %s, want 2Gi: nothing changed", got)
	}
	if n := w.run.UpdateCount(w.service()); n != 0 {
		t.Errorf("%d updates, want 0", n)
	}
	if lines := w.errorLines(); len(lines) != 1 || !strings.Contains(lines[0], doc.Path) {
		t.Errorf("ERROR lines = %q, want one naming %s", lines, doc.Path)
	}
	msgs, err := emu.Pull(ctx, notifySub, 10, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d notifications, want 1 escalation", len(msgs))
	}
	var n audit.Notification
	if err := json.Unmarshal(msgs[0].Data, &n); err != nil {
		t.Fatal(err)
	}
	if n.Action != "escalate" || n.To != "backend-lead@aiprod.ai" || !strings.Contains(n.Reason, "cannot read its ledger") {
		t.Errorf("notification = %+v, want the ledger escalated to the first recipient", n)
	}
	if q := w.quiet(2 * time.Second); len(q) != 1 {
		t.Errorf("%d deliveries, want 1: acked, never redelivered", len(q))
	}
}
