package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
)

// stormServices is how many services the storm's incidents spread over.
const stormServices = 10

// concurrency is how many pushes are in flight at once, at most.
const concurrency = 8

// delivery is one push of the storm.
type delivery struct{ svc, incident, msgID string }

// stormPlan is storm deliveries of one incident on svc-000 interleaved (in a fixed shuffled
// order) with others incidents spread over every service, one delivery each.
func stormPlan(storm, others int) []delivery {
	var ds []delivery
	for i := range storm {
		ds = append(ds, delivery{"svc-000", "storm", fmt.Sprintf("storm-%04d", i)})
	}
	for i := range others {
		svc := fmt.Sprintf("svc-%03d", i%stormServices)
		ds = append(ds, delivery{svc, fmt.Sprintf("other-%03d", i), fmt.Sprintf("other-%03d", i)})
	}
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	return ds
}

// stormResult is what a storm did.
type stormResult struct {
	elapsed  time.Duration
	statuses map[int]int // HTTP status -> count
	errs     []error
	heapMiB  float64         // live heap after the storm, after GC
	done     []time.Duration // when each push was answered, in answer order
}

// mostDone is when 99 % of the pushes had been answered: the storm's throughput without its
// slowest stragglers.
func (r stormResult) mostDone() time.Duration {
	if len(r.done) == 0 {
		return 0
	}
	return r.done[(len(r.done)*99-1)/100]
}

// runStorm pushes ds with at most concurrency requests in flight.
func runStorm(f *fleet, ds []delivery) stormResult {
	res := stormResult{statuses: map[int]int{}}
	var mu sync.Mutex
	work := make(chan delivery)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for d := range work {
				status, err := f.deliver(d.svc, d.incident, d.msgID)
				mu.Lock()
				res.done = append(res.done, time.Since(start))
				res.statuses[status]++
				if err != nil {
					res.errs = append(res.errs, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, d := range ds {
		work <- d
	}
	close(work)
	wg.Wait()
	res.elapsed = time.Since(start)
	res.heapMiB = liveHeapMiB()
	return res
}

// liveHeapMiB is the heap in use after a full collection.
func liveHeapMiB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// checkStorm asserts the storm's correctness: every push acked, exactly one change (one new
// revision, one recorded action) per service, one audit event per delivery, one applied event
// per service.
func checkStorm(tb testing.TB, f *fleet, ds []delivery, res stormResult, seededRevisions map[string]int) {
	tb.Helper()
	if len(res.errs) > 0 {
		tb.Fatalf("%d pushes failed, first: %v (99 %% of %d answered in %s)", len(res.errs), res.errs[0], len(ds), res.mostDone().Round(time.Millisecond))
	}
	if res.statuses[200] != len(ds) {
		tb.Errorf("HTTP statuses %v, want %d × 200 (every delivery acked)", res.statuses, len(ds))
	}
	for _, svc := range f.services {
		if got := len(f.run.Revisions(f.name(svc))) - seededRevisions[svc]; got != 1 {
			tb.Errorf("%s: %d new revisions, want exactly 1 change inside the cooldown", svc, got)
		}
		st, err := f.state(svc)
		if err != nil {
			tb.Fatalf("%s: state annotation: %v", svc, err)
		}
		if len(st.Actions) != 1 {
			tb.Errorf("%s: state records %d actions, want 1: %+v", svc, len(st.Actions), st.Actions)
		}
		if len(st.Unpublished) != 0 {
			tb.Errorf("%s: state still marks %v unpublished", svc, st.Unpublished)
		}
		if got := f.memory(svc); got != "4Gi" {
			tb.Errorf("%s: memory %s, want 4Gi (one step up from 2Gi)", svc, got)
		}
	}
	byDelivery := map[string]int{}
	applied := map[string]int{}
	for _, ev := range f.audit.all() {
		byDelivery[ev.Delivery]++
		if ev.Applied && ev.Outcome == audit.Applied {
			applied[ev.Target]++
		}
	}
	for _, d := range ds {
		if byDelivery[d.msgID] != 1 {
			tb.Errorf("delivery %s has %d audit events, want 1", d.msgID, byDelivery[d.msgID])
		}
	}
	if len(byDelivery) != len(ds) {
		tb.Errorf("audit events name %d deliveries, want %d", len(byDelivery), len(ds))
	}
	for _, svc := range f.services {
		if applied[f.name(svc)] != 1 {
			tb.Errorf("%s: %d applied audit events, want 1", svc, applied[f.name(svc)])
		}
	}
}

// stormSize is the storm run by default: the full one of the performance table when
// RUNMEDIC_SOAK=1, a small one otherwise, so that `go test ./...` stays quick.
func stormSize() (storm, others int) {
	if os.Getenv("RUNMEDIC_SOAK") == "1" {
		return 1000, 100
	}
	return 60, 20
}

// TestStorm: many deliveries of one incident interleaved with other incidents over 10
// services, 8 at a time, through HTTP: one change per service, an audit event per delivery,
// every delivery acked, the heap bounded.
func TestStorm(t *testing.T) {
	storm, others := stormSize()
	// As the function runs: duplicates coalesced, changes issued without waiting for their rollout.
	f := newFleet(t, fleetOptions{services: stormServices, quiet: true})
	seeded := map[string]int{}
	for _, svc := range f.services {
		seeded[svc] = len(f.run.Revisions(f.name(svc)))
	}
	before := liveHeapMiB()
	ds := stormPlan(storm, others)
	res := runStorm(f, ds)
	checkStorm(t, f, ds, res, seeded)
	// The audit sink keeps every event (about 1 KiB each); the rest must not grow with the storm.
	if bound := before + 32; res.heapMiB > bound {
		t.Errorf("live heap after the storm %.1f MiB, want at most %.1f MiB (before + 32)", res.heapMiB, bound)
	}
	t.Logf("storm %d+%d deliveries: %s, %.0f deliveries/s, heap %.1f -> %.1f MiB",
		storm, others, res.elapsed.Round(time.Millisecond), float64(len(ds))/res.elapsed.Seconds(), before, res.heapMiB)
}

// BenchmarkStorm is the performance table's storm: 1,000 deliveries of one incident and 100
// other incidents over 10 services, 8 in flight, each through HTTP and the whole pipeline.
// events/s counts deliveries handled per second of wall time; cpu-µs/event is this process's
// CPU time (runmedic, the Cloud Run and Monitoring fakes and the pusher, not the Firestore
// emulator) per delivery, which tells a machine short of CPU from a pipeline that waits.
//
// A smaller storm on a fleet of its own runs first, untimed: the Firestore emulator is a JVM
// that compiles its transaction paths during the first hundred or so, which would be measured
// as runmedic's (the first run of a cold emulator took 2 s against 40 ms warm).
func BenchmarkStorm(b *testing.B) {
	warm := newFleet(b, fleetOptions{services: stormServices, quiet: true})
	runStorm(warm, stormPlan(100, 100))
	var last stormResult
	var total, cpu time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		f := newFleet(b, fleetOptions{services: stormServices, quiet: true})
		seeded := map[string]int{}
		for _, svc := range f.services {
			seeded[svc] = len(f.run.Revisions(f.name(svc)))
		}
		ds := stormPlan(1000, 100)
		b.StartTimer()
		cpu0 := processCPU()
		last = runStorm(f, ds)
		cpu += processCPU() - cpu0
		b.StopTimer()
		checkStorm(b, f, ds, last, seeded)
		total += last.elapsed
		n += len(ds)
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/total.Seconds(), "events/s")
	b.ReportMetric(last.heapMiB, "heap-MiB")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/event")
}

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStormWithoutLedger is BenchmarkStorm with runmedic's memory kept in the service's
// state annotation instead of the Firestore emulator (Remediator.Ledger nil, so every apply also
// waits for its rollout): the difference between the two is what the ledger's round trips to
// the emulator cost the storm. Every push must be acked, and each service changed once.
func BenchmarkStormWithoutLedger(b *testing.B) {
	var total, cpu time.Duration
	n := 0
	for b.Loop() {
		b.StopTimer()
		f := newFleet(b, fleetOptions{services: stormServices, quiet: true})
		f.r.Ledger, f.r.Rollouts = nil, nil
		seeded := map[string]int{}
		for _, svc := range f.services {
			seeded[svc] = len(f.run.Revisions(f.name(svc)))
		}
		ds := stormPlan(1000, 100)
		b.StartTimer()
		cpu0 := processCPU()
		res := runStorm(f, ds)
		cpu += processCPU() - cpu0
		b.StopTimer()
		if len(res.errs) > 0 || res.statuses[200] != len(ds) {
			b.Fatalf("statuses %v, %d errors, want %d × 200", res.statuses, len(res.errs), len(ds))
		}
		for _, svc := range f.services {
			if got := len(f.run.Revisions(f.name(svc))) - seeded[svc]; got != 1 || f.memory(svc) != "4Gi" {
				b.Errorf("%s: %d new revisions, memory %s; want 1 and 4Gi", svc, got, f.memory(svc))
			}
		}
		total += res.elapsed
		n += len(ds)
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/total.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/event")
}
