package bench

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// latencyPool is how many fresh services one fleet offers the latency benchmark: each sample
// needs a service that has not changed yet, or the cooldown would refuse the change.
const latencyPool = 64

// BenchmarkAlertToUpdate measures, one delivery at a time, from the push POSTed to the
// functions framework to the UpdateService call (not the validate_only one before it) leaving
// the Cloud Run client: decode, observe (service, revisions, three metric series), decide,
// plan, guard, validate. It reports the median and the 99th percentile.
func BenchmarkAlertToUpdate(b *testing.B) {
	var samples []time.Duration
	var f *fleet
	next := latencyPool
	for b.Loop() {
		if next == latencyPool {
			b.StopTimer()
			f = newFleet(b, fleetOptions{services: latencyPool, quiet: true})
			next = 0
			b.StartTimer()
		}
		svc := f.services[next]
		next++
		start := time.Now()
		status, err := f.deliver(svc, "latency", fmt.Sprintf("latency-%d", len(samples)))
		if err != nil || !acked(status) {
			b.Fatalf("deliver to %s: status %d, %v", svc, status, err)
		}
		at, ok := f.updates.issued(f.name(svc))
		if !ok {
			b.Fatalf("%s: no UpdateService issued", svc)
		}
		samples = append(samples, at.Sub(start))
	}
	p50, p99 := percentiles(samples)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}

// percentiles returns the median and the 99th percentile (nearest rank) of ds.
func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return rank(0.50), rank(0.99)
}
