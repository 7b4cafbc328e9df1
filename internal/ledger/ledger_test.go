package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"

	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

var (
	target = snapshot.Target{Project: "aiprod-484120", Location: "us-central1", Service: "backend"}
	t0     = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
)

func load(t *testing.T, s *ledger.Store, legacy string) ledger.Entry {
	t.Helper()
	e, err := s.Load(context.Background(), target, legacy, t0)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return e
}

func action(incident, step string, at time.Time) snapshot.Action {
	return snapshot.Action{Incident: incident, Action: step, At: at, Outcome: state.OutcomeApplied,
		Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}}
}

func TestRecordThenLoad(t *testing.T) {
	s := firestoretest.Shared(t).Store(t).WithClock(func() time.Time { return t0 })
	ctx := context.Background()
	e := load(t, s, "")
	if e.Version != 0 || len(e.State.Actions) != 0 || !e.State.Durable {
		t.Fatalf("empty ledger = %+v", e)
	}
	after := e.State.Record(action("0.a", "raise_memory", t0)).
		Watch(state.Watch{Incident: "0.a", StartedAt: t0, Severity: "Critical", Labels: map[string]string{"remediation": "manual"}}).
		MarkEscalated("0.a", "lead@5m", "lead", t0).
		MarkDelivered(state.Delivery{Incident: "0.a", Key: "page@5m|lead|pagerduty", At: t0})
	after.Pending = &state.Verification{Incident: "0.a", Action: "raise_memory", AppliedAt: t0, VerifyAt: t0.Add(10 * time.Minute)}
	if err := s.Record(ctx, target, e.State, after); err != nil {
		t.Fatal(err)
	}
	got := load(t, s, "")
	if got.Version != 1 {
		t.Errorf("version = %d, want 1", got.Version)
	}
	if !got.State.Done("0.a", "raise_memory") || got.State.Pending == nil || got.State.Pending.Incident != "0.a" {
		t.Errorf("state = %+v, want the action and its pending verification", got.State)
	}
	if len(got.State.Watching) != 1 || got.State.Watching[0].Labels["remediation"] != "manual" {
		t.Errorf("watching = %+v, want 0.a with its labels", got.State.Watching)
	}
	if !got.State.EscalationSent("0.a", "lead@5m") || !got.State.Delivered("0.a", "page@5m|lead|pagerduty") {
		t.Errorf("escalations %+v deliveries %+v", got.State.Escalations, got.State.Deliveries)
	}
	// Nothing changed: nothing written.
	if err := s.Record(ctx, target, got.State, got.State); err != nil {
		t.Fatal(err)
	}
	if v := load(t, s, "").Version; v != 1 {
		t.Errorf("version after an empty record = %d, want 1", v)
	}
	// Unwatch deletes the watch.
	if err := s.Record(ctx, target, got.State, got.State.Unwatch("0.a")); err != nil {
		t.Fatal(err)
	}
	if w := load(t, s, "").State.Watching; len(w) != 0 {
		t.Errorf("after Unwatch, watching = %+v", w)
	}
}

func TestManyIncidentsAllKept(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	e := load(t, s, "")
	st := e.State
	for i := range 300 {
		st = st.Watch(state.Watch{Incident: fmt.Sprintf("forged-%03d-%s", i, strings.Repeat("x", 200)), StartedAt: t0.Add(time.Duration(i) * time.Second)})
	}
	st = st.Watch(state.Watch{Incident: "real", StartedAt: t0.Add(-time.Hour)})
	st = st.Record(action("real", "raise_memory", t0))
	if err := s.Record(context.Background(), target, e.State, st); err != nil {
		t.Fatal(err)
	}
	got := load(t, s, "")
	if len(got.State.Watching) != 301 {
		t.Fatalf("watching %d incidents, want 301", len(got.State.Watching))
	}
	if got.State.Watching[300].Incident != "real" || !got.State.Done("real", "raise_memory") {
		t.Errorf("the real incident was lost: oldest watch %q", got.State.Watching[300].Incident)
	}
}

func TestClaimOnceUnderContention(t *testing.T) {
	emu := firestoretest.Shared(t)
	project := firestoretest.Project(t)
	const n = 8
	stores := make([]*ledger.Store, n)
	for i := range stores {
		stores[i] = emu.StoreIn(t, project) // separate clients, one ledger
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := action("0.a", "raise_memory", t0)
			errs[i] = stores[i].Claim(context.Background(), target, 0, ledger.NewClaim(target, a, nil, nil, t0.Add(time.Duration(i))), ledger.Limits{})
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, ledger.ErrClaimed) || errors.Is(err, ledger.ErrStale):
		default:
			t.Errorf("claim %d: %v", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d claims won, want exactly 1 (%v)", won, errs)
	}
	e := load(t, stores[0], "")
	if len(e.Claims) != 1 || len(e.State.Actions) != 0 || e.Version != 1 {
		t.Fatalf("after the claim: claims %+v actions %+v version %d", e.Claims, e.State.Actions, e.Version)
	}
	// A claim against a version that moved is stale.
	err := stores[0].Claim(context.Background(), target, 0, ledger.NewClaim(target, action("0.b", "raise_memory", t0), nil, nil, t0), ledger.Limits{})
	if !errors.Is(err, ledger.ErrStale) {
		t.Errorf("claim at an old version = %v, want ErrStale", err)
	}
	// Recording it lands it.
	c := e.Claims[0]
	after := e.State.Record(c.Action)
	if err := stores[1].Record(context.Background(), target, e.State, after); err != nil {
		t.Fatal(err)
	}
	e = load(t, stores[0], "")
	if len(e.Claims) != 0 || !e.State.Done("0.a", "raise_memory") {
		t.Fatalf("after the record: claims %+v actions %+v", e.Claims, e.State.Actions)
	}
}

func TestReleaseFreesTheStep(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	ctx := context.Background()
	c := ledger.NewClaim(target, action("0.a", "raise_memory", t0), nil, nil, t0)
	if err := s.Claim(ctx, target, 0, c, ledger.Limits{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, target, c); err != nil {
		t.Fatal(err)
	}
	e := load(t, s, "")
	if len(e.Claims) != 0 {
		t.Fatalf("claims after release = %+v", e.Claims)
	}
	if err := s.Claim(ctx, target, e.Version, ledger.NewClaim(target, action("0.a", "raise_memory", t0), nil, nil, t0.Add(time.Minute)), ledger.Limits{}); err != nil {
		t.Errorf("claim after release: %v", err)
	}
}

func TestFleetLimits(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	ctx := context.Background()
	svc := func(i int) snapshot.Target { tg := target; tg.Service = fmt.Sprintf("svc-%d", i); return tg }
	lim := ledger.Limits{MaxChangesPerHour: 3, MaxConcurrentRollouts: 2}
	claim := func(i int, at time.Time) error {
		tg := svc(i)
		e, err := s.Load(ctx, tg, "", at)
		if err != nil {
			return err
		}
		return s.Claim(ctx, tg, e.Version, ledger.NewClaim(tg, action("0.a", "raise_memory", at), nil, nil, at), lim)
	}
	for i := range 2 {
		if err := claim(i, t0); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	if err := claim(2, t0); !errors.Is(err, ledger.ErrFleetLimit) || !strings.Contains(err.Error(), "max_concurrent_rollouts") {
		t.Fatalf("third concurrent rollout = %v, want the rollout limit", err)
	}
	// The rollouts end after their lease; the hourly budget still counts them.
	later := t0.Add(ledger.RolloutLease + time.Minute)
	if err := claim(3, later); err != nil {
		t.Fatalf("claim after the rollouts' lease: %v", err)
	}
	if err := claim(4, later); !errors.Is(err, ledger.ErrFleetLimit) || !strings.Contains(err.Error(), "max_changes_per_hour") {
		t.Fatalf("fourth change in the hour = %v, want the hourly limit", err)
	}
	if err := claim(5, t0.Add(time.Hour+time.Minute)); err != nil {
		t.Errorf("claim an hour later: %v", err)
	}
}

func TestCorruptEntryFailsTheRead(t *testing.T) {
	emu := firestoretest.Shared(t)
	project := firestoretest.Project(t)
	s := emu.StoreIn(t, project)
	e := load(t, s, "")
	if err := s.Record(context.Background(), target, e.State, e.State.Record(action("0.a", "raise_memory", t0))); err != nil {
		t.Fatal(err)
	}
	raw := rawClient(t, emu, project)
	docs, err := raw.Collection("services").Doc(target.Project + ":" + target.Location + ":" + target.Service).Collection("actions").Documents(context.Background()).GetAll()
	if err != nil || len(docs) != 1 {
		t.Fatalf("actions: %v %d", err, len(docs))
	}
	if _, err := docs[0].Ref.Update(context.Background(), []firestore.Update{{Path: "data", Value: "{not json"}}); err != nil {
		t.Fatal(err)
	}
	_, err = s.Load(context.Background(), target, "", t0)
	if !errors.Is(err, ledger.ErrUnreadable) || !strings.Contains(err.Error(), docs[0].Ref.Path) {
		t.Fatalf("Load of a corrupt entry = %v, want ErrUnreadable naming %s", err, docs[0].Ref.Path)
	}
}

func TestFutureActionIgnored(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	e := load(t, s, "")
	st := e.State.Record(action("0.a", "raise_memory", time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC))).
		Record(action("0.b", "raise_memory", t0.Add(ledger.FutureSkew-time.Second)))
	if err := s.Record(context.Background(), target, e.State, st); err != nil {
		t.Fatal(err)
	}
	got := load(t, s, "")
	if got.State.Done("0.a", "raise_memory") || !got.State.Done("0.b", "raise_memory") {
		t.Errorf("actions = %+v, want only 0.b", got.State.Actions)
	}
	if len(got.Warnings) != 1 || !strings.Contains(got.Warnings[0], "2999-01-01") {
		t.Errorf("warnings = %q, want one naming 2999", got.Warnings)
	}
}

func TestLegacyAnnotationImportedOnce(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	old := state.State{Version: state.Version}.Record(action("0.a", "raise_memory", t0.Add(-time.Hour))).
		Watch(state.Watch{Incident: "0.a", StartedAt: t0.Add(-2 * time.Hour)}).
		MarkEscalated("0.a", "lead@5m", "lead", t0.Add(-time.Hour))
	old.Pin = &state.Pin{Revision: "backend-00002", Since: t0.Add(-time.Hour), Incident: "0.a"}
	legacy, err := state.Encode(old)
	if err != nil {
		t.Fatal(err)
	}
	e := load(t, s, legacy)
	if !e.Imported || !e.State.Done("0.a", "raise_memory") || e.State.Pin == nil || !e.State.EscalationSent("0.a", "lead@5m") || len(e.State.Watching) != 1 {
		t.Fatalf("import = %+v", e)
	}
	// Once: a later change to the annotation (or its loss) changes nothing.
	e2 := load(t, s, `{"v":1,"actions":[]}`)
	if e2.Imported || !e2.State.Done("0.a", "raise_memory") || e2.State.Pin == nil {
		t.Fatalf("second load = %+v", e2)
	}
	if e3 := load(t, s, ""); !e3.State.Done("0.a", "raise_memory") {
		t.Fatalf("without the annotation = %+v", e3)
	}
}

func TestOpenListsServicesWithWork(t *testing.T) {
	s := firestoretest.Shared(t).Store(t)
	ctx := context.Background()
	other := target
	other.Service = "frontend"
	e := load(t, s, "")
	if err := s.Record(ctx, target, e.State, e.State.Watch(state.Watch{Incident: "0.a", StartedAt: t0})); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, other, e.State, e.State.Record(action("0.b", "raise_memory", t0))); err != nil {
		t.Fatal(err)
	}
	got, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != target {
		t.Errorf("Open = %+v, want only %s (the other has nothing open)", got, target.Name())
	}
}

// rawClient is a plain Firestore client on project, to write what runmedic never would.
func rawClient(t *testing.T, emu *firestoretest.Emulator, project string) *firestore.Client {
	t.Helper()
	c, err := firestore.NewClientWithDatabase(context.Background(), project, ledger.DefaultDatabase, append(emu.ClientOptions(), option.WithoutAuthentication())...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRolloutCountsUntilRead: a change recorded while Cloud Run still rolls it out keeps its
// place among the rollouts in progress until a record says the rollout is done.
func TestRolloutCountsUntilRead(t *testing.T) {
	s := firestoretest.Shared(t).Store(t).WithClock(func() time.Time { return t0 })
	ctx := context.Background()
	other := target
	other.Service = "frontend"
	lim := ledger.Limits{MaxConcurrentRollouts: 1}
	e := load(t, s, "")
	a := action("0.a", "raise_memory", t0)
	if err := s.Claim(ctx, target, e.Version, ledger.NewClaim(target, a, nil, nil, t0), lim); err != nil {
		t.Fatal(err)
	}
	rolling := e.State.Record(a)
	rolling.Rollout = &state.Rollout{Incident: "0.a", Action: "raise_memory", Operation: "op-1", Since: t0}
	if err := s.Record(ctx, target, e.State, rolling); err != nil {
		t.Fatal(err)
	}
	claimOther := func() error {
		eo, err := s.Load(ctx, other, "", t0)
		if err != nil {
			return err
		}
		return s.Claim(ctx, other, eo.Version, ledger.NewClaim(other, action("0.b", "raise_memory", t0), nil, nil, t0), lim)
	}
	if err := claimOther(); !errors.Is(err, ledger.ErrFleetLimit) {
		t.Fatalf("claim while %s rolls out = %v, want ErrFleetLimit", target.Service, err)
	}
	got := load(t, s, "")
	if got.State.Rollout == nil || got.State.Rollout.Operation != "op-1" {
		t.Fatalf("rollout = %+v, want op-1", got.State.Rollout)
	}
	done := got.State
	done.Rollout = nil
	if err := s.Record(ctx, target, got.State, done); err != nil {
		t.Fatal(err)
	}
	if err := claimOther(); err != nil {
		t.Errorf("claim once the rollout is read: %v", err)
	}
}
