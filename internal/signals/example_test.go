package signals_test

import (
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// A service on 4Gi and 1 CPU has sat at 90 % for 40 minutes, flat: the next step is 8Gi, which
// Cloud Run allows only with 2 CPU.
func ExampleCompute() {
	start := time.Date(2026, 2, 4, 9, 0, 0, 0, time.UTC)
	var mem []snapshot.Point
	for i := range 90 {
		v := 0.6
		if i >= 50 {
			v = 0.9
		}
		mem = append(mem, snapshot.Point{At: start.Add(time.Duration(i) * time.Minute), Value: v})
	}
	s := snapshot.Snapshot{
		Version:    snapshot.Version,
		CapturedAt: start.Add(90 * time.Minute),
		Service: snapshot.Service{
			Template:            snapshot.Template{Memory: "4Gi", CPU: "1"},
			Traffic:             []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
			LatestReadyRevision: "api-00042-abc",
		},
		Revisions: []snapshot.Revision{
			{Name: "api-00042-abc", CreatedAt: start.Add(-72 * time.Hour), Ready: true, TrafficPercent: 100},
		},
		Metrics: snapshot.Metrics{MemoryUtilization: mem},
	}
	d := config.Defaults{MemorySteps: []string{"2Gi", "4Gi", "8Gi", "16Gi"}, MemoryCeiling: "8Gi"}

	sig, err := signals.Compute(s, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("memory_now:", sig.MemoryNow)
	fmt.Println("minutes_above_threshold:", sig.MinutesAboveThreshold)
	fmt.Println("rising_minutes:", sig.RisingMinutes)
	fmt.Println("next_memory_step:", sig.NextMemoryStep, "cpu", sig.NextMemoryStepCPU)
	fmt.Println("safe_concurrency:", sig.SafeConcurrency)
	// Output:
	// memory_now: 0.9
	// minutes_above_threshold: 40
	// rising_minutes: 0
	// next_memory_step: 8Gi cpu 2
	// safe_concurrency: 64
}
