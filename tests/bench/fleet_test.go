package bench

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"

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
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
	"github.com/runmedic/runmedic/policies"
)

// The fleet is the insufficient-memory scenario copied onto many services: every first alert
// on a service plans and applies one memory raise.
const (
	project         = "aiprod-484120"
	scenarioDir     = "insufficient-memory"
	scenarioService = "aiprod-api"
	scenarioInc     = "0.nrwotmyokd9n"
)

// fixture is the scenario's snapshot and notification, read once.
var fixture = sync.OnceValues(func() (fixtureFiles, error) {
	dir := filepath.Join("..", "scenarios", scenarioDir)
	snap, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		return fixtureFiles{}, err
	}
	inc, err := os.ReadFile(filepath.Join(dir, "incident.json"))
	return fixtureFiles{snapshot: string(snap), incident: string(inc)}, err
})

type fixtureFiles struct{ snapshot, incident string }

var fleetSeq atomic.Int64

// fleet is one deployment of the function: n services in the Cloud Run and Monitoring fakes,
// all on the allowlist, and a handler served under the fleet's own alert topic.
type fleet struct {
	tb       testing.TB
	run      *cloudruntest.Server
	mon      *monitoringtest.Server
	r        *remediate.Remediator
	ledger   *ledger.Store
	project  string // the ledger's project in the emulator: every process of the fleet shares it
	clock    func() time.Time
	wire     *ledgerWire // counts and fails the ledger's Firestore calls
	handler  *function.Handler
	audit    *sink
	notify   *sink
	updates  *updateLog
	log      *lockedBuffer
	topic    string
	services []string
	incident map[string]string // service -> its notification, shifted to now
	client   *http.Client
}

// fleetOptions shape a fleet. Zero values are a small fleet that keeps every audit event and log
// line.
type fleetOptions struct {
	services  int  // how many services (default 1)
	countOnly bool // the audit sink counts events instead of keeping them (the soak)
	quiet     bool // log lines are discarded
	// wait makes every apply wait for its rollout inside the delivery; by default a delivery
	// issues the change and returns, as the function does (Remediator.Rollouts).
	wait bool
	// clock is the fleet's time (runmedic's and the fake Cloud Run's); nil is the wall clock.
	clock *clock
	// noCoalesce makes every delivery run the runbook itself (Remediator.NoCoalesce).
	noCoalesce bool
}

// clock is the wall clock moved on by a settable offset, so a benchmark can let minutes pass.
type clock struct{ offset atomic.Int64 }

// Now is the wall time plus the offset.
func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock on by d.
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// newFleet deploys a fleet. Every time in the fixture moves so that it was captured this minute.
func newFleet(tb testing.TB, o fleetOptions) *fleet {
	tb.Helper()
	if o.services == 0 {
		o.services = 1
	}
	ctx := context.Background()
	fx, err := fixture()
	if err != nil {
		tb.Fatal(err)
	}
	f := &fleet{
		tb: tb, run: cloudruntest.New(tb), mon: monitoringtest.New(tb),
		audit: &sink{keep: !o.countOnly}, notify: &sink{keep: !o.countOnly},
		updates:  &updateLog{first: map[string]time.Time{}},
		log:      &lockedBuffer{},
		topic:    fmt.Sprintf("bench-%d", fleetSeq.Add(1)),
		incident: map[string]string{},
		client: &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{
			MaxIdleConns: 64, MaxIdleConnsPerHost: 64,
		}},
	}
	tb.Cleanup(f.client.CloseIdleConnections)
	base, err := config.Default()
	if err != nil {
		tb.Fatal(err)
	}
	cfg := base
	cfg.Services = nil
	now := time.Now().UTC().Truncate(time.Minute)
	for i := range o.services {
		name := fmt.Sprintf("svc-%03d", i)
		snap, err := snapshot.Load([]byte(strings.ReplaceAll(fx.snapshot, scenarioService, name)))
		if err != nil {
			tb.Fatal(err)
		}
		shift := now.Sub(snap.CapturedAt)
		snap = snap.Shifted(shift)
		if err := f.run.SeedFromSnapshot(snap); err != nil {
			tb.Fatal(err)
		}
		f.mon.SeedFromSnapshot(snap)
		cfg.Services = append(cfg.Services, config.ServiceRule{Project: snap.Target.Project, Location: snap.Target.Location, Service: name})
		inc, err := shiftStart(strings.ReplaceAll(fx.incident, scenarioService, name), shift)
		if err != nil {
			tb.Fatal(err)
		}
		f.incident[name] = inc
		f.services = append(f.services, name)
	}
	if !o.wait {
		// Changes issued without waiting stay rollouts in progress until a later run reads them:
		// every service of the fleet may have one.
		cfg.Fleet.MaxConcurrentRollouts = max(cfg.Fleet.MaxConcurrentRollouts, 2*o.services)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	eng, err := policy.New(ctx, policies.FS, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	runClient, monClient := f.clients(f.run, f.mon)
	tb.Cleanup(func() { runClient.Close(); monClient.Close() })

	var w io.Writer = f.log
	if o.quiet {
		w = io.Discard
	}
	log := audit.NewLogger(w)
	f.wire = &ledgerWire{}
	f.project = firestoretest.Project(tb)
	f.ledger = firestoretest.Shared(tb).StoreIn(tb, f.project, f.wire.options()...)
	clockNow := time.Now
	if o.clock != nil {
		clockNow = o.clock.Now
	}
	f.clock = clockNow
	f.r = &remediate.Remediator{
		Policy: eng, Config: cfg,
		Observer: runClient, Applier: runClient, Metrics: monClient,
		Audit: f.audit, Notify: f.notify, Log: log, Now: clockNow, Ledger: f.ledger,
		NoCoalesce: o.noCoalesce,
	}
	if !o.wait {
		f.r.Rollouts = runClient
	}
	f.handler = &function.Handler{
		Remediator: f.r, Log: log, MaxEventAge: cfg.Defaults.MaxEventAge.Duration,
		Project: project, Now: clockNow,
	}
	routes.Store(f.source(), f.handler)
	tb.Cleanup(func() { routes.Delete(f.source()) })
	return f
}

// source is the CloudEvent source of the fleet's alerts: its topic.
func (f *fleet) source() string {
	return "//pubsub.googleapis.com/projects/" + project + "/topics/" + f.topic
}

// clients connects real Cloud Run and Monitoring clients to the fakes; the caller closes them.
func (f *fleet) clients(run *cloudruntest.Server, mon *monitoringtest.Server) (*cloudrun.Client, *monitoring.Client) {
	ctx := context.Background()
	opts := append(run.ClientOptions(), option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(f.updates.intercept)))
	runClient, err := cloudrun.New(ctx, opts...)
	if err != nil {
		f.tb.Fatal(err)
	}
	monClient, err := monitoring.New(ctx, mon.ClientOptions()...)
	if err != nil {
		runClient.Close()
		f.tb.Fatal(err)
	}
	return runClient, monClient
}

// shiftStart moves the notification's started_at by d.
func shiftStart(raw string, d time.Duration) (string, error) {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var n map[string]any
	if err := dec.Decode(&n); err != nil {
		return "", err
	}
	inc := n["incident"].(map[string]any)
	sec, err := inc["started_at"].(json.Number).Int64()
	if err != nil {
		return "", err
	}
	inc["started_at"] = sec + int64(d/time.Second)
	b, err := json.Marshal(n)
	return string(b), err
}

// name is the full resource name of the short service name svc.
func (f *fleet) name(svc string) string {
	return "projects/" + project + "/locations/europe-west1/services/" + svc
}

// target is the short service name svc as a target.
func (f *fleet) target(svc string) snapshot.Target {
	return snapshot.Target{Project: project, Location: "europe-west1", Service: svc}
}

// pushBody is the Pub/Sub push body that carries incident on svc as message msgID, published now.
func (f *fleet) pushBody(svc, incident, msgID string) []byte {
	data := strings.ReplaceAll(f.incident[svc], scenarioInc, incident)
	body, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"data":        base64.StdEncoding.EncodeToString([]byte(data)),
			"messageId":   msgID,
			"publishTime": time.Now().UTC().Format(time.RFC3339Nano),
			"attributes":  map[string]string{},
		},
		"subscription": "projects/" + project + "/subscriptions/" + f.topic + "-push",
	})
	if err != nil {
		f.tb.Fatal(err)
	}
	return body
}

// deliver POSTs one alert as the Pub/Sub push subscription would and returns the HTTP status:
// 2xx acks, anything else makes Pub/Sub redeliver.
func (f *fleet) deliver(svc, incident, msgID string) (int, error) {
	return f.deliverCtx(context.Background(), svc, incident, msgID)
}

// deliverCtx is deliver, abandoned (no answer) when ctx ends.
func (f *fleet) deliverCtx(ctx context.Context, svc, incident, msgID string) (int, error) {
	url := baseURL + "/projects/" + project + "/topics/" + f.topic
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(f.pushBody(svc, incident, msgID)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// acked reports whether an HTTP status acknowledges the push.
func acked(status int) bool { return status >= 200 && status < 300 }

// service is the fake's stored service.
func (f *fleet) service(svc string) *runpb.Service { return f.run.Service(f.name(svc)) }

// state is runmedic's memory of svc, as the ledger holds it.
func (f *fleet) state(svc string) (state.State, error) {
	e, err := f.ledger.Load(context.Background(), f.target(svc), "", time.Now())
	return e.State, err
}

// memory is the serving container's memory limit on svc.
func (f *fleet) memory(svc string) string {
	for _, c := range f.service(svc).GetTemplate().GetContainers() {
		if len(c.GetPorts()) > 0 {
			return c.GetResources().GetLimits()["memory"]
		}
	}
	return ""
}

// sink is an in-memory audit or notification topic.
type sink struct {
	mu     sync.Mutex
	keep   bool
	fail   error
	n      int
	events []audit.Event
	notes  []audit.Notification
}

func (s *sink) Publish(_ context.Context, payload any, _ map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return "", s.fail
	}
	s.n++
	if s.keep {
		switch p := payload.(type) {
		case audit.Event:
			s.events = append(s.events, p)
		case audit.Notification:
			s.notes = append(s.notes, p)
		}
	}
	return fmt.Sprint(s.n), nil
}

// setFail makes every later publish fail with err (nil: succeed again).
func (s *sink) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *sink) all() []audit.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]audit.Event(nil), s.events...)
}

// updateLog notes, client side, when the first real (not validate_only) UpdateService call for
// each service was issued.
type updateLog struct {
	mu    sync.Mutex
	first map[string]time.Time
}

func (u *updateLog) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if r, ok := req.(*runpb.UpdateServiceRequest); ok && !r.GetValidateOnly() {
		at := time.Now()
		u.mu.Lock()
		if _, seen := u.first[r.GetService().GetName()]; !seen {
			u.first[r.GetService().GetName()] = at
		}
		u.mu.Unlock()
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// issued is when the first UpdateService for the full name was issued.
func (u *updateLog) issued(name string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	at, ok := u.first[name]
	return at, ok
}

// lockedBuffer collects log lines from concurrent writers.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the lines written so far and empties the buffer.
func (b *lockedBuffer) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSpace(b.buf.String())
	b.buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
