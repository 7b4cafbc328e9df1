package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/cloudevents/sdk-go/v2/event"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/remediate"
)

// crashCase is a row of the fault matrix where the process serving the first delivery dies at a
// point of its run: the call at that point never returns to it, it answers nothing, and the
// redelivery is served by a new process.
type crashCase struct {
	component, call, fault string
	// firestore puts the crash point on the process's Firestore client, else on its Cloud Run
	// client.
	firestore bool
	// at reports whether a call of method with req is the crash point, and whether the call is
	// sent (and lands) before the process dies, rather than never sent. It is called for every
	// call of the process, in order.
	at func(method string, req any) (hit, sent bool)
}

// crashCases are the crash points, in the order of a run: after the claim (its first Commit),
// after the UpdateService, after the audit event (before the record, its second Commit). Each
// case runs once, so a counter in it counts that run's calls.
func crashCases() []crashCase {
	var commits atomic.Int32
	return []crashCase{
		{"runmedic", "claim → UpdateService", "process killed after the claim, before the update is sent", false,
			func(method string, req any) (bool, bool) {
				_, ok := req.(*runpb.UpdateServiceRequest) // the first is the validate_only call
				return ok, false
			}},
		{"runmedic", "UpdateService → record", "process killed once the update landed, before anything is recorded or published", false,
			func(method string, req any) (bool, bool) {
				r, ok := req.(*runpb.UpdateServiceRequest)
				return ok && !r.GetValidateOnly(), true
			}},
		{"runmedic", "audit → Commit (record)", "process killed after the audit event, before the record's commit is sent", true,
			func(method string, req any) (bool, bool) {
				if method != "/google.firestore.v1.Firestore/Commit" {
					return false, false
				}
				return commits.Add(1) == 2, false // the first commit is the claim, the second the record
			}},
	}
}

// Redeliveries after a crash come when Pub/Sub gives up waiting for the answer; the fleet's clock
// moves on by redeliveryAfter before each.
const redeliveryAfter = time.Minute

// runCrash runs one crash case on a fresh one-service fleet: the first delivery is served by a
// process that dies at the crash point, every redelivery of the same message by a new process
// that shares with it only the fakes, the ledger's database, the audit topic and the clock.
// Redeliveries go on, a minute apart, until one is acked (at most five).
func runCrash(t *testing.T, c crashCase) faultRow {
	t.Helper()
	clk := &clock{}
	f := newFleet(t, fleetOptions{wait: true, clock: clk})
	svc := f.services[0]
	seeded := len(f.run.Revisions(f.name(svc)))
	var row faultRow

	dying := f.process(t, c)
	routes.Store(f.source(), dying)
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan error, 1)
	go func() {
		st, err := f.deliverCtx(ctx, svc, "inc-1", "msg-1")
		if err == nil {
			err = fmt.Errorf("answered HTTP %d", st)
		}
		answered <- err
	}()
	select {
	case <-dying.crashed:
	case err := <-answered:
		t.Fatalf("%s: the first delivery never reached the crash point: %v", c.fault, err)
	case <-time.After(time.Minute):
		t.Fatalf("%s: the first delivery never reached the crash point", c.fault)
	}
	dying.die()
	cancel() // the connection drops with the process
	if err := <-answered; !errors.Is(err, context.Canceled) {
		t.Fatalf("%s: the first delivery ended with %v, want no answer", c.fault, err)
	}
	row.first = "crash (no answer)"
	row.logged = summarize(f.log.take())
	dying.wait(t)

	var seen []string
	for i := 1; ; i++ {
		clk.Advance(redeliveryAfter)
		routes.Store(f.source(), f.process(t, crashCase{}))
		st, err := f.deliver(svc, "inc-1", "msg-1")
		if err != nil {
			t.Fatal(err)
		}
		lines := f.log.take()
		seen = append(seen, fmt.Sprintf("+%dm %s %s%s", int(time.Duration(clk.offset.Load())/time.Minute), ackOrRetry(st), outcomes(lines), settled(lines)))
		if acked(st) || i == 5 {
			break
		}
	}
	row.second = strings.Join(seen, "; ")

	row.revisions = len(f.run.Revisions(f.name(svc))) - seeded
	row.applied = appliedEvents(f)
	row.consistent = consistency(f, svc)
	if row.revisions != 1 || row.applied != 1 {
		t.Errorf("%s: %d new revisions, %d applied events; want the raise landed once, nothing lost", c.fault, row.revisions, row.applied)
	}
	return row
}

// settlements are what a run says, in its log, of a claim it found unsettled.
var settlements = []struct {
	re   *regexp.Regexp
	says string
}{
	{regexp.MustCompile(`in flight`), "claim in flight"},
	{regexp.MustCompile(`never landed .* released`), "claim released after its lease"},
	{regexp.MustCompile(`recorded now from the service's marker`), "recorded from the claim's marker"},
}

// settled renders what the log lines say of unsettled claims, " (…)" or "".
func settled(lines []string) string {
	var says []string
	for _, l := range lines {
		for _, s := range settlements {
			if s.re.MatchString(l) && !slices.Contains(says, s.says) {
				says = append(says, s.says)
			}
		}
	}
	if len(says) == 0 {
		return ""
	}
	return " (" + strings.Join(says, ", ") + ")"
}

// errKilled is what a dead process's calls return: nothing of them is sent.
var errKilled = status.Error(codes.Canceled, "process killed")

// process is one instance of the function serving a fleet: its own clients to the fakes and the
// ledger, its own Remediator and Handler, as after a cold start. What it shares with the fleet's
// other processes is what instances share in production: the services, the ledger's database,
// the audit and notification topics, and time. A process with a crash point dies there: the call
// never returns to it; once killed, nothing it sends, publishes or logs gets out.
type process struct {
	handler *function.Handler
	at      func(method string, req any) (hit, sent bool)
	once    sync.Once
	crashed chan struct{} // closed when a call reaches the crash point
	killed  chan struct{} // closed by die
	dead    atomic.Bool
	running sync.WaitGroup
}

// process starts a new process of the fleet, with c's crash point (none for a zero c).
func (f *fleet) process(t *testing.T, c crashCase) *process {
	t.Helper()
	ctx := context.Background()
	p := &process{crashed: make(chan struct{}), killed: make(chan struct{})}
	var runDial, ledgerDial []grpc.DialOption
	if c.at != nil {
		p.at = c.at
		if c.firestore {
			ledgerDial = p.dial()
		} else {
			runDial = p.dial()
		}
	}
	dial := func(opts []option.ClientOption, extra []grpc.DialOption) []option.ClientOption {
		opts = append(opts, option.WithGRPCDialOption(grpc.WithChainUnaryInterceptor(p.gate)))
		for _, d := range extra {
			opts = append(opts, option.WithGRPCDialOption(d))
		}
		return opts
	}
	runClient, err := cloudrun.New(ctx, dial(f.run.ClientOptions(), runDial)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runClient.Close() })
	monClient, err := monitoring.New(ctx, dial(f.mon.ClientOptions(), nil)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { monClient.Close() })
	store := firestoretest.Shared(t).StoreIn(t, f.project, append(ledgerDial,
		grpc.WithChainUnaryInterceptor(p.gate), grpc.WithChainStreamInterceptor(p.gateStream))...).WithClock(f.clock)
	log := audit.NewLogger(p.writer(f.log))
	r := &remediate.Remediator{
		Policy: f.r.Policy, Config: f.r.Config,
		Observer: runClient, Applier: runClient, Metrics: monClient,
		Audit: p.publisher(f.audit), Notify: p.publisher(f.notify), Log: log, Now: f.clock, Ledger: store,
		NoCoalesce: f.r.NoCoalesce,
	}
	if f.r.Rollouts != nil {
		r.Rollouts = runClient
	}
	p.handler = &function.Handler{
		Remediator: r, Log: log, MaxEventAge: f.handler.MaxEventAge, Project: project, Now: f.clock,
	}
	return p
}

// Event serves one delivery.
func (p *process) Event(ctx context.Context, e event.Event) error {
	p.running.Add(1)
	defer p.running.Done()
	return p.handler.Event(ctx, e)
}

// dial puts the crash point on a client.
func (p *process) dial() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		hit, sent := p.at(method, req)
		if !hit {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		if sent {
			if err := invoker(ctx, method, req, reply, cc, opts...); err != nil {
				return err
			}
		}
		p.once.Do(func() { close(p.crashed) })
		<-p.killed // the process dies here: the call never returns to it
		return errKilled
	})}
}

// gate fails every call of a dead process before it is sent.
func (p *process) gate(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if p.dead.Load() {
		return errKilled
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (p *process) gateStream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if p.dead.Load() {
		return nil, errKilled
	}
	return streamer(ctx, desc, cc, method, opts...)
}

// die kills the process: from now on nothing it does gets out, and the call at its crash point
// returns (errKilled) only so that its goroutine can end.
func (p *process) die() {
	p.dead.Store(true)
	close(p.killed)
}

// wait waits for the dead process's deliveries to end, so that its clients close idle.
func (p *process) wait(t *testing.T) {
	done := make(chan struct{})
	go func() { p.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the killed process's delivery did not end")
	}
}

// writer is w while the process lives.
func (p *process) writer(w io.Writer) io.Writer { return processWriter{p, w} }

type processWriter struct {
	p *process
	w io.Writer
}

func (pw processWriter) Write(b []byte) (int, error) {
	if pw.p.dead.Load() {
		return len(b), nil
	}
	return pw.w.Write(b)
}

// publisher is pub while the process lives.
func (p *process) publisher(pub remediate.Publisher) remediate.Publisher {
	return processPublisher{p, pub}
}

type processPublisher struct {
	p   *process
	pub remediate.Publisher
}

func (pp processPublisher) Publish(ctx context.Context, payload any, attrs map[string]string) (string, error) {
	if pp.p.dead.Load() {
		return "", errKilled
	}
	return pp.pub.Publish(ctx, payload, attrs)
}
