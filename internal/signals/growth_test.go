package signals

import (
	"math/rand/v2"
	"testing"
)

// noisy is vals with seeded uniform noise of ±amp.
func noisy(seed uint64, amp float64, vals []float64) []float64 {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i] = v + amp*(2*r.Float64()-1)
	}
	return out
}

// leakSawtooth climbs from floor to 1.0 in `climb` minutes, restarts to a partial floor, and
// repeats for n points: a leak that OOM-restarts.
func leakSawtooth(n, climb int, floor float64) []float64 {
	var out []float64
	for len(out) < n {
		out = append(out, ramp(floor, 1.0, climb)...)
	}
	return out[:n]
}

// TestGrowth checks the growth and cycle signals on the shapes the runbook cares about.
func TestGrowth(t *testing.T) {
	tests := []struct {
		name                 string
		vals                 []float64
		resets               int
		growsFrom, growsTo   int // growth_minutes within [from, to]
		plateau              bool
		minRate, maxRate     float64
		wantCycleToLimit     int // -1 none; 0: not checked
		wantAcrossRestartsGT float64
	}{
		{
			name: "flat is not growth", vals: repeat(0.9, 180),
			growsTo: 0, plateau: true, wantCycleToLimit: -1,
		},
		{
			name: "flat under ±0.03 noise is not growth", vals: noisy(1, 0.03, repeat(0.9, 180)),
			growsTo: 0, plateau: true, wantCycleToLimit: -1,
		},
		{
			// 0.02 an hour for three hours: 0.06 in all, under noise three times larger than a
			// minute's climb. The old smoothed walk called this flat.
			name: "slow rise under noise is growth", vals: noisy(2, 0.02, ramp(0.84, 0.9, 180)),
			growsFrom: 150, growsTo: 179, minRate: 0.01, maxRate: 0.035, wantCycleToLimit: -1,
		},
		{
			name: "sawtooth leak grows through its restarts", vals: leakSawtooth(180, 40, 0.5),
			resets: 4, growsFrom: 170, growsTo: 179, minRate: 0.7, maxRate: 0.8, wantCycleToLimit: 39,
		},
		{
			name: "noisy sawtooth with partial drops", vals: noisy(3, 0.015, leakSawtooth(180, 55, 0.62)),
			resets: 3, growsFrom: 150, growsTo: 179, minRate: 0.3, maxRate: 0.5,
		},
		{
			// A step up an hour ago and flat since: the climb began at the step and stopped.
			name: "step then flat is not growth", vals: join(repeat(0.6, 120), repeat(0.92, 60)),
			growsTo: 0, plateau: true, wantCycleToLimit: -1,
		},
		{
			name: "flat then a rise an hour long", vals: join(repeat(0.45, 120), ramp(0.46, 0.9, 60)),
			growsFrom: 55, growsTo: 62, minRate: 0.4, maxRate: 0.5, wantCycleToLimit: -1,
		},
		{
			name: "rise that levelled off 40 minutes ago is a plateau", vals: join(ramp(0.4, 0.85, 140), repeat(0.85, 40)),
			growsTo: 0, plateau: true, wantCycleToLimit: -1,
		},
		{
			// Floors after restarts creep up 0.05 a cycle: memory a restart no longer frees.
			name:   "floors creep up across restarts",
			vals:   join(ramp(0.4, 1, 40), ramp(0.45, 1, 40), ramp(0.5, 1, 40), ramp(0.55, 1, 40), ramp(0.6, 0.8, 20)),
			resets: 4, growsFrom: 170, growsTo: 179, minRate: 0.6, maxRate: 0.95, wantAcrossRestartsGT: 0.1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := Compute(testSnapshot(series(t0, tt.vals...)), testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			if sig.Resets != tt.resets {
				t.Errorf("resets = %d, want %d", sig.Resets, tt.resets)
			}
			if sig.Cycles.Cycles != tt.resets+1 {
				t.Errorf("cycles = %d, want resets+1 = %d", sig.Cycles.Cycles, tt.resets+1)
			}
			if sig.GrowthMinutes < tt.growsFrom || sig.GrowthMinutes > tt.growsTo {
				t.Errorf("growth_minutes = %d, want %d..%d", sig.GrowthMinutes, tt.growsFrom, tt.growsTo)
			}
			if tt.growsTo > 0 && (sig.GrowthPerHour < tt.minRate || sig.GrowthPerHour > tt.maxRate) {
				t.Errorf("growth_per_hour = %v, want %v..%v", sig.GrowthPerHour, tt.minRate, tt.maxRate)
			}
			if tt.growsTo == 0 && (sig.GrowthPerHour != 0 || sig.MinutesToLimit != -1) {
				t.Errorf("growth_per_hour = %v, minutes_to_limit = %d, want 0 and -1 when not growing", sig.GrowthPerHour, sig.MinutesToLimit)
			}
			if tt.growsTo > 0 && sig.MinutesToLimit < 0 {
				t.Errorf("minutes_to_limit = %d, want a time when growing", sig.MinutesToLimit)
			}
			if sig.MemoryPlateau != tt.plateau {
				t.Errorf("memory_plateau = %t, want %t", sig.MemoryPlateau, tt.plateau)
			}
			if tt.wantCycleToLimit != 0 && sig.CycleMinutesToLimit != tt.wantCycleToLimit {
				t.Errorf("cycle_minutes_to_limit = %d, want %d", sig.CycleMinutesToLimit, tt.wantCycleToLimit)
			}
			if sig.GrowthAcrossRestarts <= tt.wantAcrossRestartsGT-1e-9 && tt.wantAcrossRestartsGT > 0 {
				t.Errorf("growth_across_restarts = %v, want above %v", sig.GrowthAcrossRestarts, tt.wantAcrossRestartsGT)
			}
		})
	}
}

// TestNoise holds the noise estimate to the noise, whatever the trend or the restarts.
func TestNoise(t *testing.T) {
	tests := []struct {
		name     string
		vals     []float64
		min, max float64
	}{
		{"clean ramp has none", ramp(0.3, 0.9, 180), 0, 1e-9},
		{"±0.03 uniform is about 0.017", noisy(4, 0.03, repeat(0.7, 180)), 0.012, 0.022},
		{"a rise does not add to it", noisy(5, 0.03, ramp(0.3, 0.9, 180)), 0.012, 0.022},
		{"restarts do not add to it", noisy(6, 0.01, leakSawtooth(180, 30, 0.5)), 0.003, 0.009},
		{"too few points to tell", []float64{0.1, 0.9, 0.1}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := newSeries(series(t0, tt.vals...)).noise()
			if got < tt.min || got > tt.max {
				t.Errorf("noise() = %v, want %v..%v", got, tt.min, tt.max)
			}
		})
	}
}

// TestTheilSenIgnoresOutliers checks the slope of a clean ramp survives wild points.
func TestTheilSenIgnoresOutliers(t *testing.T) {
	vals := ramp(0.3, 0.6, 120) // 0.15 an hour
	for _, i := range []int{10, 40, 41, 90} {
		vals[i] = 1
	}
	s := newSeries(series(t0, vals...))
	if got := s.theilSen(0, s.len()); got < 0.14 || got > 0.16 {
		t.Errorf("theilSen = %v an hour, want about 0.15 despite four spikes", got)
	}
	if got := s.slopePerHour(); got > 0.13 && got < 0.17 {
		t.Logf("least squares happens to be close here: %v", got)
	}
}
