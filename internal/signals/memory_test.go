package signals

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// memorySignals is the part of Signals the memory series decides.
type memorySignals struct {
	Has     bool
	Now     float64
	Max     float64
	Slope   float64
	Rising  int
	Resets  int
	AboveTh int
}

func memoryPart(s Signals) memorySignals {
	return memorySignals{s.HasMemoryData, s.MemoryNow, s.MemoryMax, s.MemorySlopePerHour,
		s.RisingMinutes, s.Resets, s.MinutesAboveThreshold}
}

func TestComputeMemory(t *testing.T) {
	// A leak: three teeth climbing 0.4 -> 0.95 over 40 minutes, each ended by a restart, then a
	// fourth tooth 20 minutes in.
	tooth := ramp(0.4, 0.95, 40)
	sawtooth := join(tooth, tooth, tooth, ramp(0.4, 0.7, 20))

	tests := []struct {
		name      string
		mem       []snapshot.Point
		threshold *float64 // nil keeps the incident's 0.85; use noThreshold for none
		// configThreshold, when set, is the config's memory_threshold (else the defaults' 0.85).
		configThreshold float64
		want            memorySignals
	}{
		{
			name: "empty",
			mem:  nil,
			want: memorySignals{},
		},
		{
			name: "single point",
			mem:  series(t0, 0.5),
			want: memorySignals{Has: true, Now: 0.5, Max: 0.5},
		},
		{
			name: "single point above threshold is one minute",
			mem:  series(t0, 0.9),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, AboveTh: 1},
		},
		{
			name: "flat",
			mem:  series(t0, repeat(0.6, 180)...),
			want: memorySignals{Has: true, Now: 0.6, Max: 0.6},
		},
		{
			name: "flat with noise is not rising",
			mem:  series(t0, join(repeat(0.6, 60), []float64{0.62, 0.58, 0.63, 0.57, 0.61, 0.6, 0.62, 0.59})...),
			want: memorySignals{Has: true, Now: 0.59, Max: 0.63, Slope: slopeOf(series(t0, join(repeat(0.6, 60), []float64{0.62, 0.58, 0.63, 0.57, 0.61, 0.6, 0.62, 0.59})...)), Rising: 0},
		},
		{
			// 0.6 over 179 minutes is 0.6*60/179 an hour. The flat-head rule moves the start of
			// the rise to the last point within 0.01 of the first smoothed value: index 4.
			name: "ramp over three hours",
			mem:  series(t0, ramp(0.3, 0.9, 180)...),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, Slope: 0.6 * 60 / 179, Rising: 175, AboveTh: 15},
		},
		{
			// The rise starts at the first raised point (index 60), whose smoothed value is
			// 0.404: within the tolerance of the flat head, so the head ends there.
			name: "flat then ramp",
			mem:  series(t0, join(repeat(0.4, 60), ramp(0.42, 0.9, 25))...),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, Slope: slopeOf(series(t0, join(repeat(0.4, 60), ramp(0.42, 0.9, 25))...)), Rising: 24, AboveTh: 3},
		},
		{
			name: "step an hour ago then flat is a plateau",
			mem:  series(t0, join(repeat(0.5, 60), repeat(0.9, 60))...),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, Slope: slopeOf(series(t0, join(repeat(0.5, 60), repeat(0.9, 60))...)), Rising: 0, AboveTh: 60},
		},
		{
			// Index 109 is the last flat point; the rise runs from it to index 119.
			name: "step ten minutes ago is rising",
			mem:  series(t0, join(repeat(0.5, 110), repeat(0.9, 10))...),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, Slope: slopeOf(series(t0, join(repeat(0.5, 110), repeat(0.9, 10))...)), Rising: 10, AboveTh: 10},
		},
		{
			// Levelled off 20 minutes ago: the newest point 30 minutes back is still on the
			// ramp, so the plateau is part of the rise. The ramp climbs 0.01 a minute, so the
			// flat head keeps its first raised point (smoothed 0.402): the rise starts at index 31.
			name: "ramp then short plateau is still rising",
			mem:  series(t0, join(repeat(0.4, 30), ramp(0.41, 0.8, 40), repeat(0.8, 20))...),
			want: memorySignals{Has: true, Now: 0.8, Max: 0.8, Slope: slopeOf(series(t0, join(repeat(0.4, 30), ramp(0.41, 0.8, 40), repeat(0.8, 20))...)), Rising: 58},
		},
		{
			name: "ramp then long plateau is flat",
			mem:  series(t0, join(repeat(0.4, 30), ramp(0.41, 0.8, 40), repeat(0.8, 40))...),
			want: memorySignals{Has: true, Now: 0.8, Max: 0.8, Slope: slopeOf(series(t0, join(repeat(0.4, 30), ramp(0.41, 0.8, 40), repeat(0.8, 40))...)), Rising: 0},
		},
		{
			name: "falling",
			mem:  series(t0, ramp(0.9, 0.5, 60)...),
			want: memorySignals{Has: true, Now: 0.5, Max: 0.9, Slope: -0.4 * 60 / 59, Rising: 0, AboveTh: 0},
		},
		{
			// Three restarts; the rise is measured from the smoothed trough of the last one,
			// four points into the newest tooth, to its end: 15 minutes.
			name: "sawtooth counts resets and rises since the last",
			mem:  series(t0, sawtooth...),
			want: memorySignals{Has: true, Now: 0.7, Max: 0.95, Slope: slopeOf(series(t0, sawtooth...)), Rising: 15, Resets: 3},
		},
		{
			// 0.95 -> 0.6 is the drop; the fall goes on to 0.25 (itself 0.35 below 0.6) and is
			// still the same restart.
			name: "drop over several minutes is one reset",
			mem:  series(t0, 0.4, 0.95, 0.6, 0.25, 0.25, 0.3),
			want: memorySignals{Has: true, Now: 0.3, Max: 0.95, Slope: slopeOf(series(t0, 0.4, 0.95, 0.6, 0.25, 0.25, 0.3)), Resets: 1, AboveTh: 0},
		},
		{
			name: "drop slower than five minutes is no reset",
			mem:  series(t0, ramp(0.95, 0.4, 12)...),
			want: memorySignals{Has: true, Now: 0.4, Max: 0.95, Slope: -0.55 * 60 / 11, Resets: 0},
		},
		{
			// The first drop ends no climb and is under 0.3; the second undoes all of the climb
			// from 0.61 back to 0.9: a restart.
			name: "a drop is judged against the climb it ends",
			mem:  series(t0, 0.9, 0.61, 0.9, 0.61),
			want: memorySignals{Has: true, Now: 0.61, Max: 0.9, Slope: slopeOf(series(t0, 0.9, 0.61, 0.9, 0.61)), Resets: 1},
		},
		{
			// Each one-minute spike falls back by 0.45 in a minute: a restart by the rule.
			name: "spikes on a flat line",
			mem:  series(t0, join(repeat(0.5, 20), []float64{0.95}, repeat(0.5, 20), []float64{0.95}, repeat(0.5, 20))...),
			want: memorySignals{Has: true, Now: 0.5, Max: 0.95, Slope: slopeOf(series(t0, join(repeat(0.5, 20), []float64{0.95}, repeat(0.5, 20), []float64{0.95}, repeat(0.5, 20))...)), Resets: 2},
		},
		{
			// One point every two minutes climbing 0.02 each: 0.6 an hour, and rising is
			// measured on the clock: from the second point (the flat head's end, 2 minutes in) to
			// the newest, 58 minutes in. Above 0.85 are the last two points, 2 minutes apart: 3.
			name: "gaps: every other minute missing",
			mem:  everyOther(ramp(0.3, 0.88, 30)),
			want: memorySignals{Has: true, Now: 0.88, Max: 0.88, Slope: 0.6, Rising: 56, AboveTh: 3},
		},
		{
			// Also a step 6 minutes before the newest point: rising since the last 0.5.
			name: "gaps inside the stretch above threshold do not break it",
			mem:  without(series(t0, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9), 2, 3, 4),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, Slope: slopeOf(without(series(t0, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9), 2, 3, 4)), Rising: 6, AboveTh: 6},
		},
		{
			name: "a point at the threshold is not above it",
			mem:  series(t0, 0.9, 0.9, 0.85, 0.9),
			want: memorySignals{Has: true, Now: 0.9, Max: 0.9, Slope: slopeOf(series(t0, 0.9, 0.9, 0.85, 0.9)), AboveTh: 1},
		},
		{
			name:      "a lower incident threshold is not trusted",
			mem:       series(t0, 0.8, 0.8, 0.8),
			threshold: ptr(0.1),
			want:      memorySignals{Has: true, Now: 0.8, Max: 0.8, AboveTh: 0},
		},
		{
			name:            "the config's memory_threshold decides",
			mem:             series(t0, 0.8, 0.8, 0.8),
			threshold:       ptr(0.9),
			configThreshold: 0.75,
			want:            memorySignals{Has: true, Now: 0.8, Max: 0.8, AboveTh: 3},
		},
		{
			name:      "no incident threshold means 0.85",
			mem:       series(t0, 0.8, 0.86, 0.86),
			threshold: noThreshold,
			want:      memorySignals{Has: true, Now: 0.86, Max: 0.86, Slope: slopeOf(series(t0, 0.8, 0.86, 0.86)), AboveTh: 2},
		},
		{
			name: "non-finite points are skipped",
			mem:  series(t0, 0.5, math.NaN(), 0.6, math.Inf(1)),
			want: memorySignals{Has: true, Now: 0.6, Max: 0.6, Slope: 0.1 * 60 / 2, Rising: 2},
		},
		{
			name: "only non-finite points is no data",
			mem:  series(t0, math.NaN()),
			want: memorySignals{},
		},
		{
			name: "out of order points are sorted",
			mem:  []snapshot.Point{{At: t0.Add(2 * time.Minute), Value: 0.7}, {At: t0, Value: 0.5}, {At: t0.Add(time.Minute), Value: 0.6}},
			want: memorySignals{Has: true, Now: 0.7, Max: 0.7, Slope: 6, Rising: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(tt.mem)
			switch {
			case tt.threshold == noThreshold:
				s.Incident.Threshold = nil
			case tt.threshold != nil:
				s.Incident.Threshold = tt.threshold
			}
			d := testDefaults()
			if tt.configThreshold > 0 {
				d.MemoryThreshold = tt.configThreshold
			}
			got, err := Compute(s, d)
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if diff := cmp.Diff(tt.want, memoryPart(got), cmpopts.EquateApprox(0, 1e-9)); diff != "" {
				t.Errorf("Compute memory signals (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputeMemoryDoesNotModifyInput checks that sorting and cleaning work on a copy: the
// snapshot is shared with the policy input.
func TestComputeMemoryDoesNotModifyInput(t *testing.T) {
	mem := []snapshot.Point{{At: t0.Add(time.Minute), Value: 0.6}, {At: t0, Value: math.NaN()}}
	s := testSnapshot(mem)
	if _, err := Compute(s, testDefaults()); err != nil {
		t.Fatalf("Compute: %v", err)
	}
	if !mem[0].At.Equal(t0.Add(time.Minute)) || !math.IsNaN(mem[1].Value) {
		t.Errorf("Compute reordered or rewrote its input: %v", mem)
	}
}

func TestMemoryBeforeServing(t *testing.T) {
	tests := []struct {
		name    string
		mem     []snapshot.Point
		created time.Time
		want    float64
	}{
		{
			name:    "hour before the deploy",
			mem:     series(t0, join(repeat(0.2, 30), repeat(0.8, 60), repeat(0.3, 60))...),
			created: t0.Add(90 * time.Minute),
			want:    0.8,
		},
		{
			name:    "window only partly covered",
			mem:     series(t0, join([]float64{0.6, 0.8}, repeat(0.1, 10))...),
			created: t0.Add(2 * time.Minute),
			want:    0.7,
		},
		{
			name:    "the point at creation is after it",
			mem:     series(t0, 0.4, 0.9),
			created: t0.Add(time.Minute),
			want:    0.4,
		},
		{
			name:    "deploy before the window",
			mem:     series(t0, repeat(0.5, 60)...),
			created: t0.Add(-time.Hour),
			want:    -1,
		},
		{
			name:    "no memory data",
			mem:     nil,
			created: t0,
			want:    -1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(tt.mem)
			s.Revisions[0].CreatedAt = tt.created
			got, err := Compute(s, testDefaults())
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if math.Abs(got.MemoryBeforeServing-tt.want) > 1e-9 {
				t.Errorf("MemoryBeforeServing = %v, want %v", got.MemoryBeforeServing, tt.want)
			}
		})
	}
}

// noThreshold marks a test case whose incident has no threshold.
var noThreshold = ptr(-1.0)

func ptr[T any](v T) *T { return &v }

// everyOther puts vals two minutes apart from t0.
func everyOther(vals []float64) []snapshot.Point {
	p := make([]snapshot.Point, len(vals))
	for i, v := range vals {
		p[i] = snapshot.Point{At: t0.Add(time.Duration(2*i) * time.Minute), Value: v}
	}
	return p
}

// slopeOf is an independent least-squares slope per hour (closed form on minute offsets), so the
// tables can state the slope of shapes whose slope has no short exact value.
func slopeOf(p []snapshot.Point) float64 {
	n := float64(len(p))
	var sx, sy, sxy, sxx float64
	for _, pt := range p {
		x := pt.At.Sub(t0).Minutes()
		sx += x
		sy += pt.Value
		sxy += x * pt.Value
		sxx += x * x
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx) * 60
}
