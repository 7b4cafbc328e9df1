package fleet_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc"

	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/fleet"
	"github.com/runmedic/runmedic/internal/fleettest"
	"github.com/runmedic/runmedic/internal/golden"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/report"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
	"github.com/runmedic/runmedic/internal/status"
)

// writeCounter counts the Firestore calls of a client that could write: commits and the
// transactions they belong to.
type writeCounter struct{ n atomic.Int64 }

func (w *writeCounter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	switch method {
	case "/google.firestore.v1.Firestore/Commit", "/google.firestore.v1.Firestore/BeginTransaction",
		"/google.firestore.v1.Firestore/BatchWrite", "/google.firestore.v1.Firestore/Rollback":
		w.n.Add(1)
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// ledgerFleet moves runmedic's record of aiprod-api and aiprod-worker from their annotations
// into a ledger on the emulator, as the function keeps it now; aiprod-web keeps its legacy
// annotation, never imported. It returns a reader of that ledger, whose writes are counted, and
// a second client of the same ledger.
func ledgerFleet(t *testing.T, f *fleettest.Fleet) (fleet.Reader, *writeCounter, *ledger.Store) {
	t.Helper()
	ctx := context.Background()
	project := firestoretest.Project(t)
	seed := firestoretest.Shared(t).StoreIn(t, project)
	for _, tg := range []snapshot.Target{fleettest.API, fleettest.Worker} {
		name := tg.Name()
		st, err := state.Decode(f.Run.Service(name).GetAnnotations()[state.Annotation])
		if err != nil {
			t.Fatal(err)
		}
		if err := seed.Record(ctx, tg, state.State{Version: state.Version, Durable: true}, st); err != nil {
			t.Fatal(err)
		}
		if err := f.Run.Modify(name, func(s *runpb.Service) { delete(s.Annotations, state.Annotation) }); err != nil {
			t.Fatal(err)
		}
	}
	w := &writeCounter{}
	r := reader(t, f)
	r.Records = fleet.Ledger{Store: firestoretest.Shared(t).StoreIn(t, project, grpc.WithChainUnaryInterceptor(w.unary))}
	return r, w, seed
}

// TestStatusReadsTheLedger: status of the three services, two of whose records are in the
// ledger only, is what it was from the annotations, and reading wrote nothing: not even the
// import of aiprod-web's legacy annotation.
func TestStatusReadsTheLedger(t *testing.T) {
	f := fleettest.Start(t, now)
	r, writes, seed := ledgerFleet(t, f)
	if old, err := reader(t, f).Row(context.Background(), fleettest.API, now); err != nil || old.State() != "ok" {
		t.Fatalf("aiprod-api from its annotation = %q, %v; want ok: its record must be in the ledger only", old.State(), err)
	}
	got := rows(t, r)
	states := map[string]string{}
	for _, row := range got {
		if row.Error != "" {
			t.Fatalf("row %s: %s", row.Service, row.Error)
		}
		states[row.Name()] = row.State()
	}
	if states["aiprod-web"] != "ok" || states["aiprod-api"] != "verifying" || states["aiprod-worker"] != "pinned" {
		t.Errorf("states = %v, want web ok, api verifying, worker pinned", states)
	}
	golden.Check(t, "testdata/status.txt", status.Text(got, now))
	if n := writes.n.Load(); n != 0 {
		t.Errorf("status made %d Firestore write calls, want none", n)
	}
	left, err := seed.Unimported(context.Background(), []snapshot.Target{fleettest.Web})
	if err != nil || len(left) != 1 {
		t.Errorf("aiprod-web unimported after status = %v, %v; want still unimported", left, err)
	}
}

// TestIncidentReportFromTheLedger writes up the incident on aiprod-api recorded in the ledger,
// as it was written up from the annotation, without writing.
func TestIncidentReportFromTheLedger(t *testing.T) {
	f := fleettest.Start(t, now)
	r, writes, _ := ledgerFleet(t, f)
	in, err := r.Incident(context.Background(), fleettest.API, fleettest.Incident, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Changes) != 1 || in.Changes[0].Revision != fleettest.APIRaised || in.Verification == nil || in.Verification.Outcome != "pending" {
		t.Errorf("changes %+v, verification %+v; want the raise to %s, verification pending", in.Changes, in.Verification, fleettest.APIRaised)
	}
	golden.Check(t, "testdata/incident.md", report.Markdown(in))
	if ok, err := r.Has(context.Background(), fleettest.Worker, fleettest.Rollback); err != nil || !ok {
		t.Errorf("aiprod-worker has %s = %v, %v; want its rollback found in the ledger", fleettest.Rollback, ok, err)
	}
	if _, err := r.Incident(context.Background(), fleettest.Web, fleettest.Incident, nil, now); err == nil || !strings.Contains(err.Error(), "no record of the incident") {
		t.Errorf("Incident on a service without it = %v, want no record", err)
	}
	if n := writes.n.Load(); n != 0 {
		t.Errorf("report made %d Firestore write calls, want none", n)
	}
}
