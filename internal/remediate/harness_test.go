package remediate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/logs"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
	"github.com/runmedic/runmedic/policies"
)

// scenarioRoot holds the scenario folders shared with `runmedic test`.
var scenarioRoot = filepath.Join("..", "..", "tests", "scenarios")

// clock is the remediator's injected clock; tests move it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// recorder is an in-memory Publisher that keeps every payload it accepted.
type recorder struct {
	mu       sync.Mutex
	fail     error
	payloads []any
}

func (r *recorder) Publish(_ context.Context, payload any, _ map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return "", r.fail
	}
	r.payloads = append(r.payloads, payload)
	return strconv.Itoa(len(r.payloads)), nil
}

// Fail makes every later publish fail with err (nil: succeed again).
func (r *recorder) Fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

func (r *recorder) Events() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, p := range r.payloads {
		if ev, ok := p.(audit.Event); ok {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) Notifications() []audit.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Notification
	for _, p := range r.payloads {
		if n, ok := p.(audit.Notification); ok {
			out = append(out, n)
		}
	}
	return out
}

// steps are the To@After of the notifications sent, in order.
func (r *recorder) steps() []string {
	var out []string
	for _, n := range r.Notifications() {
		out = append(out, state.StepKey(n.To, n.After))
	}
	return out
}

// eventsWith returns the published events with outcome o.
func (r *recorder) eventsWith(o audit.Outcome) []audit.Event {
	var out []audit.Event
	for _, ev := range r.Events() {
		if ev.Outcome == o {
			out = append(out, ev)
		}
	}
	return out
}

var (
	runnerMu sync.Mutex
	runner   *scenario.Runner
)

// engine compiles (once per overlay) the bundled policies with the default config merged with
// overlay, exactly as scenario.Runner does for `runmedic plan`.
func engine(t *testing.T, overlay []byte) (*policy.Engine, config.Config) {
	t.Helper()
	runnerMu.Lock()
	defer runnerMu.Unlock()
	if runner == nil {
		base, err := config.Default()
		if err != nil {
			t.Fatal(err)
		}
		runner = scenario.NewRunner(policies.FS, base)
	}
	eng, cfg, err := runner.Engine(context.Background(), overlay)
	if err != nil {
		t.Fatal(err)
	}
	return eng, cfg
}

// offline decides sc the way `runmedic plan --snapshot` does, at the snapshot's capture time.
func offline(t *testing.T, sc scenario.Scenario) scenario.Result {
	t.Helper()
	engine(t, nil)
	runnerMu.Lock()
	defer runnerMu.Unlock()
	return runner.Run(context.Background(), sc)
}

// env is one Remediator wired with real clients to fresh fakes seeded from a scenario, with the
// clock at the scenario's "now".
type env struct {
	t      *testing.T
	ctx    context.Context
	run    *cloudruntest.Server
	mon    *monitoringtest.Server
	log    *loggingtest.Server
	clock  *clock
	audit  *recorder
	notify *recorder
	r      *remediate.Remediator
	cfg    config.Config
	ledger *ledger.Store // runmedic's memory, in a Firestore emulator project of this test's own
	// ledgerProject is the ledger's project: a second instance shares the ledger through it.
	ledgerProject string

	sc     scenario.Scenario
	alert  alert.Alert       // the scenario's alert, shifted to the clock
	snap   snapshot.Snapshot // the scenario's snapshot, shifted to the clock, as seeded
	t0     time.Time         // the clock at the start: the snapshot's capture time, shifted
	memory []snapshot.Point  // the memory series the monitoring fake serves
}

// newEnv seeds fresh fakes from scenario name. overlay, when not nil, replaces the scenario's
// own config.yaml.
//
// Every time in the scenario is shifted so that captured_at becomes the whole minute one to
// two minutes before the wall clock: revisions the Cloud Run fake creates carry wall-clock
// times, so they come after everything in the scenario and after the start of the clock, as
// they would in production.
func newEnv(t *testing.T, name string, overlay []byte) *env {
	t.Helper()
	sc, err := scenario.Load(filepath.Join(scenarioRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	if overlay == nil {
		overlay = sc.Config
	}
	eng, cfg := engine(t, overlay)
	fixture, err := sc.Prepare()
	if err != nil {
		t.Fatalf("scenario %s: %v", name, err)
	}
	a, err := sc.Alert()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	shift := t0.Sub(fixture.CapturedAt)
	snap := fixture.Shifted(shift)
	a.Incident = snap.Incident
	a.Delivery.MessageID = "delivery-1"

	ctx := context.Background()
	e := &env{
		t: t, ctx: ctx,
		run: cloudruntest.New(t), mon: monitoringtest.New(t), log: loggingtest.New(t),
		clock: &clock{now: t0}, audit: &recorder{}, notify: &recorder{},
		cfg: cfg, sc: sc, alert: a, snap: snap, t0: t0,
	}
	e.seed()
	crc, err := cloudrun.New(ctx, e.run.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { crc.Close() })
	mc, err := monitoring.New(ctx, e.mon.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mc.Close() })
	lr, err := logs.New(ctx, e.log.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lr.Close() })
	e.ledgerProject = firestoretest.Project(t)
	e.ledger = firestoretest.Shared(t).StoreIn(t, e.ledgerProject).WithClock(e.clock.Now)
	e.r = &remediate.Remediator{
		Policy: eng, Config: cfg,
		Observer: crc, Applier: crc, Metrics: mc, Logs: lr,
		Audit: e.audit, Notify: e.notify, Ledger: e.ledger,
		Now: e.clock.Now,
	}
	return e
}

// seed puts the snapshot into the fakes: the service and revisions, runmedic's history as its
// legacy state annotation (with the traffic pin an earlier rollback left), which the first run
// imports into the ledger, the metrics (per revision too) and the OOM kills in the logs.
func (e *env) seed() {
	e.t.Helper()
	s := e.snap
	if len(s.History) > 0 {
		st := state.State{Version: state.Version, Actions: s.History}
		for _, h := range s.History {
			tr := s.Service.Traffic
			if h.Action == "rollback" && len(tr) == 1 && tr[0].Type == snapshot.TrafficRevision {
				st.Pin = &state.Pin{Revision: tr[0].Revision, Since: h.At, Incident: h.Incident}
				break
			}
		}
		ann, err := state.Encode(st)
		if err != nil {
			e.t.Fatal(err)
		}
		s.Service.Annotations = map[string]string{state.Annotation: ann}
		for k, v := range e.snap.Service.Annotations {
			s.Service.Annotations[k] = v
		}
	}
	if err := e.run.SeedFromSnapshot(s); err != nil {
		e.t.Fatal(err)
	}
	e.memory = slices.Clone(s.Metrics.MemoryUtilization)
	e.mon.SetSeries(monitoring.MetricMemory, s.Target, e.memory, nil)
	e.mon.SetSeries(monitoring.MetricRequestCount, s.Target, s.Metrics.RequestCount, nil)
	e.mon.SetSeries(monitoring.MetricInstanceCount, s.Target, s.Metrics.InstanceCount, nil)
	for rev, points := range s.Metrics.MemoryByRevision {
		e.mon.Set(monitoringtest.Series{Metric: monitoring.MetricMemory, Target: s.Target, Revision: rev, Points: points})
	}
	e.log.SeedFromSnapshot(s)
}

// memoryUntil extends the memory series with one point a minute at value up to and including
// until.
func (e *env) memoryUntil(until time.Time, value float64) {
	last := e.t0
	if n := len(e.memory); n > 0 {
		last = e.memory[n-1].At
	}
	for at := last.Add(time.Minute); !at.After(until); at = at.Add(time.Minute) {
		e.memory = append(e.memory, snapshot.Point{At: at, Value: value})
	}
	e.mon.SetSeries(monitoring.MetricMemory, e.snap.Target, e.memory, nil)
}

// at moves the clock to t0+d.
func (e *env) at(d time.Duration) { e.clock.Set(e.t0.Add(d)) }

func (e *env) name() string { return e.snap.Target.Name() }

func (e *env) service() *runpb.Service {
	e.t.Helper()
	svc := e.run.Service(e.name())
	if svc == nil {
		e.t.Fatalf("service %s is not in the fake", e.name())
	}
	return svc
}

// state is runmedic's memory of the service as the ledger holds it.
func (e *env) state() state.State {
	e.t.Helper()
	entry, err := e.ledger.Load(e.ctx, e.snap.Target, e.service().GetAnnotations()[state.Annotation], e.clock.Now())
	if err != nil {
		e.t.Fatalf("read the ledger: %v", err)
	}
	return entry.State
}

// handle delivers the scenario's alert once more.
func (e *env) handle() (audit.Event, error) {
	return e.r.Handle(e.ctx, e.alert)
}

// view is what a plan may change on a service, as the fake holds it.
type view struct {
	Memory, CPU, Image, Restart string
	Concurrency                 int
	Traffic                     []snapshot.TrafficTarget
}

func viewOf(svc *runpb.Service) view {
	t := svc.GetTemplate()
	var ctr *runpb.Container
	for _, c := range t.GetContainers() {
		if len(c.GetPorts()) > 0 {
			ctr = c
		}
	}
	if ctr == nil && len(t.GetContainers()) > 0 {
		ctr = t.GetContainers()[0]
	}
	v := view{
		Memory: ctr.GetResources().GetLimits()["memory"], CPU: ctr.GetResources().GetLimits()["cpu"],
		Image: ctr.GetImage(), Restart: t.GetAnnotations()[cloudrun.RestartAnnotation],
		Concurrency: int(t.GetMaxInstanceRequestConcurrency()),
	}
	for _, tt := range svc.GetTraffic() {
		typ := snapshot.TrafficRevision
		if tt.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST {
			typ = snapshot.TrafficLatest
		}
		v.Traffic = append(v.Traffic, snapshot.TrafficTarget{Type: typ, Revision: tt.GetRevision(), Percent: int(tt.GetPercent()), Tag: tt.GetTag()})
	}
	return v
}

// withChanges is v after changes, each After decoded the way JSON carries it.
func withChanges(t *testing.T, v view, changes []snapshot.Change) view {
	t.Helper()
	into := func(after, dst any) {
		b, err := json.Marshal(after)
		if err == nil {
			err = json.Unmarshal(b, dst)
		}
		if err != nil {
			t.Fatalf("change after %v: %v", after, err)
		}
	}
	for _, c := range changes {
		switch c.Path {
		case snapshot.PathMemory:
			into(c.After, &v.Memory)
		case snapshot.PathCPU:
			into(c.After, &v.CPU)
		case snapshot.PathImage:
			into(c.After, &v.Image)
		case snapshot.PathMaxConcurrency:
			into(c.After, &v.Concurrency)
		case snapshot.PathRestart:
			v.Restart = fmt.Sprint(c.After) // as the adapter writes the annotation
		case snapshot.PathTraffic:
			v.Traffic = nil
			into(c.After, &v.Traffic)
		default:
			t.Fatalf("change path %q has no place in the view", c.Path)
		}
	}
	return v
}

// served is the traffic Cloud Run actually serves, by short revision name.
func served(svc *runpb.Service) map[string]int {
	out := map[string]int{}
	for _, st := range svc.GetTrafficStatuses() {
		out[filepath.Base(st.GetRevision())] += int(st.GetPercent())
	}
	return out
}

// jsonText is v as canonical JSON (object keys sorted), to compare typed values with values
// that went through a JSON round trip.
func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	if b, err = json.Marshal(generic); err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameJSON fails unless want and got encode to the same JSON.
func sameJSON(t *testing.T, what string, want, got any) {
	t.Helper()
	if diff := cmp.Diff(jsonText(t, want), jsonText(t, got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", what, diff)
	}
}

// actionsFor are the recorded actions of incident, newest first.
func actionsFor(st state.State, incident string) []snapshot.Action {
	var out []snapshot.Action
	for _, a := range st.Actions {
		if a.Incident == incident {
			out = append(out, a)
		}
	}
	return out
}

// notPermanent fails unless err is a retryable error.
func notPermanent(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil || remediate.IsPermanent(err) {
		t.Fatalf("%s: error %v, want a retryable error", what, err)
	}
}

var errPublish = errors.New("pubsub: topic unavailable")
