package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/alert"
)

// soakHeapBound is the live heap, after GC, that the soak may end with: the compiled policy, the
// gRPC clients and the fakes (in the same process) fit well inside it, and nothing may grow
// with the number of deliveries.
const soakHeapBound = 64.0 // MiB

// soakSize is 50,000 deliveries when RUNMEDIC_SOAK=1 (tests/bench/run.sh), 150 otherwise.
func soakSize() int {
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
		if (i+1)%sample == 0 {
			h := liveHeapMiB()
			if early == 0 {
				early = h
			}
			peak = max(peak, h)
		}
	}
	final := liveHeapMiB()
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
