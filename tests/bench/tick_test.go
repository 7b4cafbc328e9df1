package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

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
// also checks one batch of idle services against the ledger.
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
	for _, c := range []struct {
		name string
		r    func() *remediate.Remediator
	}{
		{"steady", func() *remediate.Remediator { return f.r }},
		{"restart", fresh},
	} {
		b.Run(c.name, func(b *testing.B) {
			var calls, monitoring, reads int
			var wall time.Duration
			for b.Loop() {
				b.StopTimer()
				r := c.r()
				g, m := gets(), len(f.mon.Requests())
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
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(wall.Microseconds())/1000/n, "ms/tick")
			b.ReportMetric(float64(calls)/n, "GetService/tick")
			b.ReportMetric(float64(monitoring)/n, "ListTimeSeries/tick")
			b.ReportMetric(float64(reads)/n, "firestore-reads/tick")
		})
	}
}
