package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/remediate"
)

// tickFleet is how many services the tick benchmark manages, and tickOpen how many of them have
// open work (an incident watched, a raise awaiting verification).
const (
	tickFleet = 500
	tickOpen  = 3
)

// BenchmarkTick measures one verify tick over a fleet of 500 allowlisted services, 3 of which
// have open work, against the Cloud Run and Monitoring fakes and the Firestore emulator. It
// reports the tick's wall time and what it asked for: GetService calls, Monitoring
// ListTimeSeries requests and Firestore documents read. "steady" is a process that already knows
// every idle service's legacy annotation imported; "restart" is a new process's first tick, which
// also checks one batch of idle services against the ledger; "discovered" manages the same
// services through one "*" rule, each opted in with its mode label, found by discovery.
func BenchmarkTick(b *testing.B) {
	f := newFleet(b, fleetOptions{services: tickFleet, quiet: true})
	for i, svc := range f.services[:tickOpen] {
		if st, err := f.deliver(svc, "tick-open", fmt.Sprintf("tick-%d", i)); err != nil || !acked(st) {
			b.Fatalf("deliver to %s: %d, %v", svc, st, err)
		}
	}
	ctx := context.Background()
	gets := func() int { return f.run.Calls("GetService") }
	// Warm up: the ticks after a start check the idle services for a legacy annotation, a batch
	// at a time, until a tick reads no more than the open services.
	for range 2 * tickFleet / remediate.ImportBatch {
		before := gets()
		if _, err := f.r.Tick(ctx); err != nil {
			b.Fatalf("warm-up tick: %v", err)
		}
		if gets()-before <= 2*tickOpen {
			break
		}
	}
	fresh := func() *remediate.Remediator {
		r := f.r
		return &remediate.Remediator{
			Policy: r.Policy, Config: r.Config, Observer: r.Observer, Applier: r.Applier, Metrics: r.Metrics,
			Audit: r.Audit, Notify: r.Notify, Log: r.Log, Now: r.Now, Ledger: r.Ledger,
		}
	}
	discovered := discoveredFleet(b, f)
	for _, c := range []struct {
		name string
		r    func() *remediate.Remediator
	}{
		{"steady", func() *remediate.Remediator { return f.r }},
		{"restart", fresh},
		{"discovered", func() *remediate.Remediator { return discovered }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var calls, lists, monitoring, reads int
			var wall time.Duration
			for b.Loop() {
				b.StopTimer()
				r := c.r()
				g, l, m := gets(), f.run.Calls("ListServices"), len(f.mon.Requests())
				f.wire.cost()
				b.StartTimer()
				start := time.Now()
				if _, err := r.Tick(ctx); err != nil {
					b.Fatalf("tick: %v", err)
				}
				wall += time.Since(start)
				b.StopTimer()
				rd, _, _ := f.wire.cost()
				calls, monitoring, reads = calls+gets()-g, monitoring+len(f.mon.Requests())-m, reads+rd
				lists += f.run.Calls("ListServices") - l
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(wall.Microseconds())/1000/n, "ms/tick")
			b.ReportMetric(float64(calls)/n, "GetService/tick")
			b.ReportMetric(float64(lists)/n, "ListServices/tick")
			b.ReportMetric(float64(monitoring)/n, "ListTimeSeries/tick")
			b.ReportMetric(float64(reads)/n, "firestore-reads/tick")
		})
	}
}

// discoveredFleet is a process managing f's services through one "*" rule instead of the
// allowlist: each service is labelled to opt in, and discovery lists them. It is warmed up
// until it knows every service checked.
func discoveredFleet(b *testing.B, f *fleet) *remediate.Remediator {
	b.Helper()
	for _, svc := range f.services {
		if err := f.run.Modify(f.name(svc), func(s *runpb.Service) {
			if s.Labels == nil {
				s.Labels = map[string]string{}
			}
			s.Labels[config.ModeLabel] = config.ModeEnforce
		}); err != nil {
			b.Fatal(err)
		}
	}
	cfg := f.r.Config
	t := f.target(f.services[0])
	cfg.Services = []config.ServiceRule{{Project: t.Project, Location: t.Location, Service: config.AnyService}}
	run := f.r.Observer.(*cloudrun.Client)
	r := &remediate.Remediator{
		Policy: f.r.Policy, Config: cfg, Observer: run, Applier: run, Metrics: f.r.Metrics,
		Audit: f.r.Audit, Notify: f.r.Notify, Log: f.r.Log, Now: f.r.Now, Ledger: f.r.Ledger,
		Fleet: &discover.Discoverer{Config: cfg, Lister: run},
	}
	if members, err := r.Fleet.Services(context.Background(), time.Now()); err != nil || len(members) != tickFleet {
		b.Fatalf("discovery found %d services (%v), want %d", len(members), err, tickFleet)
	}
	for range tickFleet/remediate.ImportBatch + 1 {
		if _, err := r.Tick(context.Background()); err != nil {
			b.Fatalf("warm-up tick: %v", err)
		}
	}
	return r
}
