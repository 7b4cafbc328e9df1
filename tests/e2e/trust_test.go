package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/runmedic/runmedic/internal/audit"
)

// TestForgedLowThresholdDoesNotRaise: a notification claims a threshold of 0.1 while memory sits
// flat below the config's memory_threshold (0.85): at 62 % (the scenario, already below
// verify_below), and at 82 % (above verify_below, so only the threshold tells it is not high).
// The config's threshold decides, so the healthy service is not raised, and the evidence shows
// the alert's claim beside the threshold that decided.
func TestForgedLowThresholdDoesNotRaise(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		lift float64 // added to every memory point of the scenario
	}{
		{"at 62 %", 0},
		{"at 82 %", 0.2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, "forged-low-threshold")
			if tt.lift != 0 {
				points := slices.Clone(w.snap.Metrics.MemoryUtilization)
				for i := range points {
					points[i].Value += tt.lift
				}
				w.mon.SetSeries("run.googleapis.com/container/memory/utilizations", w.snap.Target, points, nil)
			}
			w.publish(w.incident)

			evs := w.auditEvents(func(evs []audit.Event) bool { return len(evs) > 0 })
			if len(evs) != 1 {
				t.Fatalf("audit events = %v, want one", outcomes(evs))
			}
			ev := evs[0]
			if ev.Applied || ev.Decision == nil || ev.Decision.Action == "raise_memory" {
				t.Errorf("audit event = %+v, want no raise", ev)
			}
			if ev.Decision != nil && (len(ev.Decision.Evidence) == 0 || !strings.Contains(ev.Decision.Evidence[0], "(threshold 0.85; the alert said 0.1)")) {
				t.Errorf("evidence = %q, want the config's 0.85 and the alert's 0.1", ev.Decision.Evidence)
			}
			if got := w.run.UpdateCount(w.service()); got != 0 {
				t.Errorf("UpdateCount = %d, want 0", got)
			}
			if got := memoryOf(w.run.Service(w.service())); got != "2Gi" {
				t.Errorf("memory = %s, want 2Gi untouched", got)
			}
		})
	}
}

// TestForgedIncidentURLDropped: an incident URL pointing at another project is dropped with a
// warning on the audit event and the log line; the incident itself is still remediated.
func TestForgedIncidentURLDropped(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	forged := bytes.Replace(w.incident, []byte("project=aiprod-484120"), []byte("project=attacker"), 1)
	if bytes.Equal(forged, w.incident) {
		t.Fatal("the fixture's incident URL names no project=aiprod-484120")
	}
	w.publish(forged)

	evs := w.auditEvents(func(evs []audit.Event) bool { return count(evs, audit.Applied) > 0 })
	if len(evs) != 1 || evs[0].Outcome != audit.Applied {
		t.Fatalf("audit events = %v, want one applied", outcomes(evs))
	}
	if ws := evs[0].Warnings; len(ws) != 1 || !strings.HasPrefix(ws[0], "incident.url dropped: ") {
		t.Errorf("audit warnings = %q, want the dropped URL", ws)
	}
	if got := memoryOf(w.run.Service(w.service())); got != "4Gi" {
		t.Errorf("memory = %s, want 4Gi", got)
	}
	lines := w.log.lines()
	if len(lines) != 1 || !strings.Contains(lines[0], "incident.url dropped") {
		t.Errorf("log = %q, want one line naming the dropped URL", lines)
	}
}

// TestOversizedMessagesAckedOnce publishes eight messages at Pub/Sub's 10 MB maximum through the
// emulator's push subscription, each the scenario's notification (which, decoded, raises memory)
// with its summary padded to fill it: each is acked at its first delivery with one log line,
// never decoded, and nothing reaches Cloud Run.
func TestOversizedMessagesAckedOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "insufficient-memory")
	// The receiver turns each 13 MB push body into a CloudEvent before the handler sees it, which
	// takes seconds a message under the race detector on a loaded machine. Give the push the
	// ack deadline Eventarc's subscriptions have (600 s), so a slow ack is not redelivered.
	_, err := emu.Client().SubscriptionAdminClient.UpdateSubscription(context.Background(), &pubsubpb.UpdateSubscriptionRequest{
		Subscription: &pubsubpb.Subscription{Name: emu.SubscriptionName(topicID(t) + "-push"), AckDeadlineSeconds: 600},
		UpdateMask:   &fieldmaskpb.FieldMask{Paths: []string{"ack_deadline_seconds"}},
	})
	if err != nil {
		t.Fatalf("raise the push ack deadline: %v", err)
	}
	const n = 8
	data := padded(t, w.incident, 10_000_000-1024)
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() { ids[i] = w.publish(data) })
	}
	wg.Wait()
	for deadline := time.Now().Add(3 * time.Minute); len(w.route.Deliveries()) < n && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	// Longer than the subscription's maximum backoff: a nack would have come back.
	ds := w.quiet(4 * time.Second)
	seen := map[string]int{}
	for _, d := range ds {
		seen[d.ID]++
		if d.Err != nil {
			t.Errorf("delivery of %s = %v, want an ack", d.ID, d.Err)
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Errorf("message %s delivered %d times, want once", id, seen[id])
		}
	}
	if len(ds) != n {
		t.Errorf("%d deliveries, want %d", len(ds), n)
	}
	lines := w.log.lines()
	capped := 0
	for _, l := range lines {
		if strings.Contains(l, "over the") && strings.Contains(l, "acked without decoding") && strings.Contains(l, `"severity":"WARNING"`) {
			capped++
		}
	}
	if len(lines) != n || capped != n {
		t.Errorf("%d log lines, %d of them caps, want %d of each:\n%s", len(lines), capped, n, fmt.Sprint(w.log.tail(3)))
	}
	if got := w.run.UpdateCount(w.service()); got != 0 {
		t.Errorf("UpdateCount = %d, want 0", got)
	}
}

// padded is the notification raw with its summary padded so that it is size bytes long.
func padded(t *testing.T, raw []byte, size int) []byte {
	t.Helper()
	var n map[string]any
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	inc := n["incident"].(map[string]any)
	inc["summary"] = ""
	base, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	inc["summary"] = strings.Repeat("x", size-len(base))
	out, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != size {
		t.Fatalf("padded notification is %d bytes, want %d", len(out), size)
	}
	return out
}
