package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
	"github.com/runmedic/runmedic/internal/topic"
	"github.com/runmedic/runmedic/policies"
)

// deliveryWait bounds every wait for the emulator to deliver and the function to act.
const deliveryWait = 30 * time.Second

// world is one test's deployment: fakes seeded from a scenario, its own topics in the shared
// emulator, and its own handler behind the shared framework server.
type world struct {
	t             *testing.T
	run           *cloudruntest.Server
	mon           *monitoringtest.Server
	snap          snapshot.Snapshot // the scenario's snapshot, shifted so that it was captured now
	shift         time.Duration     // how far the scenario's times were moved
	incident      []byte            // the scenario's notification, shifted the same way
	route         *route
	log           *syncBuffer   // the function's log lines
	ledger        *ledger.Store // runmedic's memory, in a Firestore emulator project of the test's own
	ledgerProject string

	alertTopic, auditSub string
}

// newWorld deploys scenario name (a folder under tests/scenarios) for t.
func newWorld(t *testing.T, name string) *world {
	t.Helper()
	ctx := context.Background()
	sc, err := scenario.Load(filepath.Join("..", "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Load(sc.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, run: cloudruntest.New(t), mon: monitoringtest.New(t), log: &syncBuffer{}}
	// The live clock meets the fixture's "now": every age and window stays what it was.
	w.shift = time.Now().UTC().Truncate(time.Minute).Sub(snap.CapturedAt)
	if w.incident, err = scenario.ShiftIncident(sc.Incident, w.shift); err != nil {
		t.Fatal(err)
	}
	w.snap = snap.Shifted(w.shift)
	// The scenario's target may differ from the snapshot's (one snapshot, many alerts).
	if a, err := sc.Alert(); err == nil {
		w.snap.Target = a.Target
	}
	if err := w.run.SeedFromSnapshot(w.snap); err != nil {
		t.Fatal(err)
	}
	w.mon.SeedFromSnapshot(w.snap)

	cfg, err := config.ForPolicies(policies.FS, sc.Config, scenario.ConfigFile)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := policy.New(ctx, policies.FS, cfg)
	if err != nil {
		t.Fatal(err)
	}
	runClient, err := cloudrun.New(ctx, w.run.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runClient.Close() })
	monClient, err := monitoring.New(ctx, w.mon.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { monClient.Close() })

	id := topicID(t)
	w.alertTopic, w.auditSub = id+"-alerts", id+"-audit"
	// Everything a test creates in the shared emulator is deleted when it ends, so the same test
	// can run again in one process (go test -count=2).
	for _, topic := range []string{w.alertTopic, id + "-audit", id + "-notify"} {
		if err := emu.CreateTopic(ctx, topic); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteOrLog(t, "topic", emu.DeleteTopic(context.Background(), topic)) })
	}
	if err := emu.CreatePullSubscription(ctx, w.auditSub, id+"-audit"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteOrLog(t, "subscription", emu.DeleteSubscription(context.Background(), w.auditSub)) })
	auditPub, err := topic.NewPublisher(ctx, project, emu.TopicName(id+"-audit"), emu.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auditPub.Close() })
	notifyPub, err := topic.NewPublisher(ctx, project, emu.TopicName(id+"-notify"), emu.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { notifyPub.Close() })

	log := audit.NewLogger(w.log)
	w.ledgerProject = firestoretest.Project(t)
	w.ledger = firestoretest.Shared(t).StoreIn(t, w.ledgerProject)
	w.route = &route{handler: &function.Handler{
		Remediator: &remediate.Remediator{
			Policy: eng, Config: cfg,
			Observer: runClient, Applier: runClient, Metrics: monClient,
			Audit: auditPub, Notify: notifyPub, Ledger: w.ledger,
			Log: log, Now: time.Now,
		},
		Log:         log,
		MaxEventAge: cfg.Defaults.MaxEventAge.Duration,
		Project:     project,
		Now:         time.Now,
	}}
	source := "//pubsub.googleapis.com/" + emu.TopicName(w.alertTopic)
	routes.Store(source, w.route)
	t.Cleanup(func() { routes.Delete(source) })

	// The push endpoint carries the topic in its path, as the framework expects of a raw push.
	sub := emu.SubscriptionName(id + "-push")
	_, err = emu.Client().SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               sub,
		Topic:              emu.TopicName(w.alertTopic),
		PushConfig:         &pubsubpb.PushConfig{PushEndpoint: baseURL + "/" + emu.TopicName(w.alertTopic)},
		AckDeadlineSeconds: 10,
		RetryPolicy: &pubsubpb.RetryPolicy{
			MinimumBackoff: durationpb.New(time.Second),
			MaximumBackoff: durationpb.New(2 * time.Second),
		},
	})
	if err != nil {
		t.Fatalf("create push subscription: %v", err)
	}
	t.Cleanup(func() {
		// Stop the pushes before the route goes: nothing may reach a finished test.
		deleteOrLog(t, "subscription", emu.DeleteSubscription(context.Background(), id+"-push"))
		if t.Failed() {
			t.Logf("function log (last lines):\n%s", w.log.tail(10))
		}
	})
	return w
}

// deleteOrLog reports a clean-up that failed; the test's own result stands.
func deleteOrLog(t *testing.T, what string, err error) {
	if err != nil {
		t.Errorf("delete %s: %v", what, err)
	}
}

// publish publishes data to the test's alert topic and returns the message id.
func (w *world) publish(data []byte) string {
	w.t.Helper()
	id, err := emu.Publish(context.Background(), w.alertTopic, data, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return id
}

// state is runmedic's memory of the scenario's service, as the ledger holds it.
func (w *world) state() (state.State, error) {
	e, err := w.ledger.Load(context.Background(), w.snap.Target, "", time.Now())
	return e.State, err
}

// service is the fake's stored service of the scenario's target.
func (w *world) service() string { return w.snap.Target.Name() }

// waitDeliveries waits until the handler has seen at least n deliveries and returns them all.
func (w *world) waitDeliveries(n int) []delivery {
	w.t.Helper()
	deadline := time.Now().Add(deliveryWait)
	for {
		ds := w.route.Deliveries()
		if len(ds) >= n {
			return ds
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("handler saw %d deliveries within %s, want %d", len(ds), deliveryWait, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// quiet waits for d and returns the deliveries seen by then: what a redelivery loop would add.
func (w *world) quiet(d time.Duration) []delivery {
	time.Sleep(d)
	return w.route.Deliveries()
}

// auditEvents pulls audit events until want reports it has what it needs, or the wait ends.
func (w *world) auditEvents(want func([]audit.Event) bool) []audit.Event {
	w.t.Helper()
	var got []audit.Event
	deadline := time.Now().Add(deliveryWait)
	for !want(got) && time.Now().Before(deadline) {
		msgs, err := emu.Pull(context.Background(), w.auditSub, 100, 500*time.Millisecond)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, m := range msgs {
			var e audit.Event
			if err := json.Unmarshal(m.Data, &e); err != nil {
				w.t.Fatalf("audit message %s: %v", m.Data, err)
			}
			got = append(got, e)
		}
	}
	return got
}

// withState returns a notification with the incident's state set, and ended_at set to at for a
// closed one, as Monitoring sends when an incident closes.
func withState(t *testing.T, raw []byte, state string, at time.Time) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var n map[string]any
	if err := dec.Decode(&n); err != nil {
		t.Fatal(err)
	}
	inc := n["incident"].(map[string]any)
	inc["state"] = state
	if state == snapshot.StateClosed {
		inc["ended_at"] = at.Unix()
	}
	b, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var nonName = regexp.MustCompile(`[^a-z0-9-]+`)

// topicID is a Pub/Sub id unique to the test: letters first, lowercase, at most 200 bytes.
func topicID(t *testing.T) string {
	id := "t-" + strings.Trim(nonName.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(id) > 200 {
		id = id[:200]
	}
	return id
}

// syncBuffer is a bytes.Buffer safe for the function's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lines are the log lines written so far.
func (s *syncBuffer) lines() []string {
	return strings.Split(strings.TrimSuffix(s.String(), "\n"), "\n")
}

// tail is the last n log lines.
func (s *syncBuffer) tail(n int) string {
	l := s.lines()
	return strings.Join(l[max(len(l)-n, 0):], "\n")
}
