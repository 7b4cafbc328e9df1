package bench

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// recycleEvery is how often the soak replaces the Cloud Run and Monitoring fakes (and the
// clients to them) under the same remediator: the fakes keep every request and operation they
// served, which would otherwise be counted as the remediator's memory.
const recycleEvery = 2_500

// soakHeapBound is the live heap, after GC, that the soak may end with: the compiled policy, the
// gRPC clients and the fakes (in the same process) fit well inside it, and nothing may grow
// with the number of deliveries.
const soakHeapBound = 64.0 // MiB

// soakSize is 50,000 deliveries when RUNMEDIC_SOAK=1 (tests/bench/run.sh), 150 otherwise;
// RUNMEDIC_SOAK_DELIVERIES=N overrides both.
func soakSize() int {
	if n, err := strconv.Atoi(os.Getenv("RUNMEDIC_SOAK_DELIVERIES")); err == nil && n > 0 {
		return n
	}
	if os.Getenv("RUNMEDIC_SOAK") == "1" {
		return 50_000
	}
	return 150
}

// TestSoak hands deliveries straight to function.Handler.Event in-process: ten services, a new
// incident every 25 deliveries, each incident delivered again and again, every fifth delivery a
// Pub/Sub redelivery of the message before. The live heap after GC must stay under
// soakHeapBound, and grow by less than 8 MiB between the first tenth and the end.
func TestSoak(t *testing.T) {
	n := soakSize()
	f := newFleet(t, fleetOptions{services: stormServices, countOnly: true, quiet: true})
	// Recycled fakes and clients are closed by the next recycle or here, and referenced by no
	// cleanup in between, so that nothing keeps them alive.
	t.Cleanup(func() {
		if c, ok := f.r.Metrics.(interface{ Close() error }); ok {
			c.Close()
		}
		f.run.Close()
		f.mon.Close()
	})
	ctx := context.Background()
	var early, peak float64
	sample := max(n/10, 1)
	for i := range n {
		svc := f.services[i%stormServices]
		incident := fmt.Sprintf("soak-%d", i/25)
		msg := fmt.Sprintf("soak-msg-%d", i)
		if i%5 == 4 {
			msg = fmt.Sprintf("soak-msg-%d", i-1)
		}
		if err := f.handler.Event(ctx, f.cloudEvent(svc, incident, msg)); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if (i+1)%recycleEvery == 0 {
			f.recycle()
		}
		if (i+1)%sample == 0 {
			h := liveHeapMiB()
			if early == 0 {
				early = h
			}
			peak = max(peak, h)
		}
	}
	final := liveHeapMiB()
	if path := os.Getenv("RUNMEDIC_SOAK_HEAPPROFILE"); path != "" {
		writeHeapProfile(t, path) // what holds the heap, before the fleet is torn down
	}
	t.Logf("soak: %d deliveries, live heap after GC: %.1f MiB after the first tenth, %.1f MiB peak, %.1f MiB at the end; %d audit events",
		n, early, peak, final, f.audit.count())
	if final > soakHeapBound {
		t.Errorf("live heap after %d deliveries: %.1f MiB, want at most %.0f MiB", n, final, soakHeapBound)
	}
	if final-early > 8 {
		t.Errorf("live heap grew from %.1f to %.1f MiB over %d deliveries, want less than 8 MiB", early, final, n)
	}
	if got := f.audit.count(); got < n {
		t.Errorf("%d audit events for %d deliveries, want at least one each", got, n)
	}
}

// cloudEvent is the CloudEvent the functions framework makes of a push: a messagePublished
// event whose data is the Pub/Sub message.
func (f *fleet) cloudEvent(svc, incident, msgID string) event.Event {
	e := event.New()
	e.SetID(msgID)
	e.SetSource("//pubsub.googleapis.com/projects/" + project + "/topics/" + f.topic)
	e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	e.SetTime(time.Now())
	data := strings.ReplaceAll(f.incident[svc], scenarioInc, incident)
	err := e.SetData(event.ApplicationJSON, alert.MessagePublishedData{
		Message: alert.Message{Data: []byte(data), MessageID: msgID, PublishTime: time.Now()},
	})
	if err != nil {
		f.tb.Fatal(err)
	}
	return e
}

func writeHeapProfile(t *testing.T, path string) {
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := pprof.WriteHeapProfile(out); err != nil {
		t.Fatal(err)
	}
}

// recycle replaces the fleet's fakes with fresh ones seeded from the fixture and points the
// remediator at them through new clients. The remediator, its policy and its locks stay.
func (f *fleet) recycle() {
	oldRun, oldMon := f.r.Observer, f.r.Metrics
	run, err := cloudruntest.Start()
	if err != nil {
		f.tb.Fatal(err)
	}
	mon, err := monitoringtest.Start()
	if err != nil {
		f.tb.Fatal(err)
	}
	fx, err := fixture()
	if err != nil {
		f.tb.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	for _, name := range f.services {
		snap, err := snapshot.Load([]byte(strings.ReplaceAll(fx.snapshot, scenarioService, name)))
		if err != nil {
			f.tb.Fatal(err)
		}
		snap = snap.Shifted(now.Sub(snap.CapturedAt))
		if err := run.SeedFromSnapshot(snap); err != nil {
			f.tb.Fatal(err)
		}
		mon.SeedFromSnapshot(snap)
	}
	runClient, monClient := f.clients(run, mon)
	f.r.Observer, f.r.Applier, f.r.Metrics = runClient, runClient, monClient
	for _, old := range []any{oldRun, oldMon} {
		if c, ok := old.(interface{ Close() error }); ok {
			c.Close()
		}
	}
	f.run.Close()
	f.mon.Close()
	f.run, f.mon = run, mon
}
