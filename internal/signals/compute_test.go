package signals

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// incidentSnapshot is a realistic incident: a revision deployed two hours ago serves all traffic
// and leaks, with three hours of data (180 points) and some history.
func incidentSnapshot() snapshot.Snapshot {
	vals := join(repeat(0.45, 60), ramp(0.46, 0.93, 120))
	for i := range vals {
		vals[i] += 0.01 * float64(i%3-1) // a little noise
	}
	s := testSnapshot(series(t0, vals...))
	s.Service.LatestReadyRevision = r3
	s.Revisions = []snapshot.Revision{
		{Name: r3, CreatedAt: t0.Add(60 * time.Minute), Ready: true, TrafficPercent: 100},
		{Name: r2, CreatedAt: t0.Add(-48 * time.Hour), Ready: true},
		{Name: r1, CreatedAt: t0.Add(-96 * time.Hour), Ready: true},
	}
	s.Metrics.RequestCount = series(t0, repeat(1200, 180)...)
	s.History = []snapshot.Action{
		{Incident: "0.older", Action: "raise_memory", At: t0.Add(-12 * time.Hour), Outcome: "verified",
			Changes: []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("1Gi"), After: snapshot.TextValue("2Gi")}}},
	}
	return s
}

// TestComputeIncident checks every signal of one realistic incident together, and that the JSON
// names are the public ones policies read.
func TestComputeIncident(t *testing.T) {
	got, err := Compute(incidentSnapshot(), testDefaults())
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	// Slope and the noisy values are checked elsewhere; here only that the leak reads as a leak.
	if got.MemorySlopePerHour < 0.1 {
		t.Errorf("memory_slope_per_hour = %v, want a clear rise (>= 0.1)", got.MemorySlopePerHour)
	}
	// The ramp spans 119 minutes; with noise the start may move a few points either way.
	if got.RisingMinutes < 112 || got.RisingMinutes > 124 {
		t.Errorf("rising_minutes = %d, want about the ramp's 119 minutes, 112..124", got.RisingMinutes)
	}
	// The ramp gains 0.47 in two hours; the Theil–Sen rates land near 0.235 an hour.
	if got.GrowthPerHour < 0.2 || got.GrowthPerHour > 0.26 || got.GrowthMinutes < 112 || got.GrowthMinutes > 126 {
		t.Errorf("growth = %v an hour for %d minutes, want about 0.235 for about 120", got.GrowthPerHour, got.GrowthMinutes)
	}
	if got.MemoryNoise <= 0 || got.MemoryNoise > 0.02 {
		t.Errorf("memory_noise = %v, want the ±0.01 wobble, in (0, 0.02]", got.MemoryNoise)
	}
	got.MemorySlopePerHour, got.RisingMinutes = 0, 0
	got.GrowthPerHour, got.GrowthMinutes, got.MemoryNoise, got.MemoryTrendPerHour, got.CycleGrowthPerHour = 0, 0, 0, 0, 0
	got.MinutesToLimit = 0
	got.ServingRevisions[0].GrowthMinutes = 0
	want := Signals{
		HasMemoryData:             true,
		MemoryNow:                 0.94, // 0.93 plus the noise of index 179
		MemoryMax:                 0.94,
		Threshold:                 0.85,
		MinutesAboveThreshold:     got.MinutesAboveThreshold, // checked below
		MemoryBeforeServing:       0.45,
		ServingRevision:           r3,
		ServingRevisionAgeMinutes: 120,
		PreviousReadyRevision:     r2,
		MemoryLimitMiB:            2048,
		CPULimit:                  1,
		NextMemoryStep:            "4Gi",
		SafeConcurrency:           29,
		ActionsLast24h:            1,
		MinutesSinceLastAction:    15 * 60, // 12h before t0, captured at t0+3h
		Cycles:                    Cycles{Cycles: 1, CycleMinutesToLimit: -1},
		Serving: Serving{
			ServingRevisions: []RevisionSignals{{
				Name: r3, Percent: 100, AgeMinutes: 120, MemoryBefore: 0.45, MemoryNow: 0.94, Rising: true,
			}},
			SuspectRevision: r3, SuspectBy: "memory", SuspectRevisionAgeMinutes: 120, SuspectPercent: 100,
			MemoryBeforeSuspect: 0.45, SuspectMemoryNow: 0.94,
		},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("Compute (-want +got):\n%s", diff)
	}
	if got.MinutesAboveThreshold < 10 || got.MinutesAboveThreshold > 25 {
		t.Errorf("minutes_above_threshold = %d, want the ramp's tail above 0.85, 10..25", got.MinutesAboveThreshold)
	}

	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("marshal signals: %v", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatalf("unmarshal signals: %v", err)
	}
	for _, name := range []string{"has_memory_data", "memory_now", "memory_max", "memory_slope_per_hour",
		"rising_minutes", "resets", "minutes_above_threshold", "memory_before_serving", "request_spike",
		"serving_revision", "serving_revision_age_minutes", "traffic_pinned", "previous_ready_revision",
		"memory_limit_mib", "cpu_limit", "next_memory_step", "next_memory_step_cpu", "safe_concurrency",
		"actions_last_24h", "minutes_since_last_action", "memory_noise", "growth_minutes", "growth_per_hour",
		"memory_plateau", "minutes_to_limit", "cycles", "cycle_growth_per_hour", "suspect_revision",
		"serving_revisions", "logs_available", "minutes_below_verify", "verification_failed"} {
		if _, ok := fields[name]; !ok {
			t.Errorf("signals JSON lacks %q: %s", name, b)
		}
	}
	for _, name := range []string{"oom_kills", "oom_max_used_mib", "minutes_since_oom_kill"} {
		if _, ok := fields[name]; ok {
			t.Errorf("signals JSON has %q without logs: unknown must be absent, not zero", name)
		}
	}
}

// TestComputeIsPure checks that "now" is captured_at: the same snapshot gives the same signals.
func TestComputeIsPure(t *testing.T) {
	s := incidentSnapshot()
	a, err := Compute(s, testDefaults())
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	b, err := Compute(s, testDefaults())
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("Compute twice differs (-first +second):\n%s", diff)
	}
	s.CapturedAt = s.CapturedAt.Add(time.Hour)
	c, err := Compute(s, testDefaults())
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if c.ServingRevisionAgeMinutes != a.ServingRevisionAgeMinutes+60 {
		t.Errorf("serving_revision_age_minutes an hour later = %d, want %d", c.ServingRevisionAgeMinutes, a.ServingRevisionAgeMinutes+60)
	}
}

func BenchmarkCompute(b *testing.B) {
	s := incidentSnapshot()
	d := testDefaults()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compute(s, d); err != nil {
			b.Fatal(err)
		}
	}
}
