package signals

import (
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// t0 is the start of every synthetic series.
var t0 = time.Date(2026, 2, 4, 7, 30, 0, 0, time.UTC)

// series is one point a minute from start, with the given values.
func series(start time.Time, vals ...float64) []snapshot.Point {
	p := make([]snapshot.Point, len(vals))
	for i, v := range vals {
		p[i] = snapshot.Point{At: start.Add(time.Duration(i) * time.Minute), Value: v}
	}
	return p
}

// repeat is v, n times.
func repeat(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// ramp is n values evenly spaced from a to b, both included.
func ramp(a, b float64, n int) []float64 {
	if n == 1 {
		return []float64{a}
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return out
}

// join concatenates value lists.
func join(parts ...[]float64) []float64 {
	var out []float64
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// without drops the points at the given indexes: missing minutes.
func without(p []snapshot.Point, idx ...int) []snapshot.Point {
	drop := map[int]bool{}
	for _, i := range idx {
		drop[i] = true
	}
	var out []snapshot.Point
	for i, pt := range p {
		if !drop[i] {
			out = append(out, pt)
		}
	}
	return out
}

// end is the time of a series' newest point, or t0 for an empty one.
func end(p []snapshot.Point) time.Time {
	if len(p) == 0 {
		return t0
	}
	return p[len(p)-1].At
}

// testDefaults are the bundled config's defaults.
func testDefaults() config.Defaults {
	return config.Defaults{
		Mode:             config.ModeEnforce,
		MemorySteps:      []string{"512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi", "32Gi"},
		MemoryCeiling:    "8Gi",
		CPUCeiling:       "4",
		RegressionWindow: config.Duration{Duration: 24 * time.Hour},
		VerifyAfter:      config.Duration{Duration: 10 * time.Minute},
		VerifyBelow:      0.8,
	}
}

// testSnapshot is a service on 2Gi/1 CPU whose only revision, created before t0, serves all
// traffic through LATEST, with memory m and no history. Captured one minute after m's newest
// point.
func testSnapshot(m []snapshot.Point) snapshot.Snapshot {
	threshold := 0.85
	return snapshot.Snapshot{
		Version:    snapshot.Version,
		CapturedAt: end(m).Add(time.Minute),
		Incident:   snapshot.Incident{ID: "0.test", State: snapshot.StateOpen, Threshold: &threshold},
		Target:     snapshot.Target{Project: "p", Location: "europe-west1", Service: "api"},
		Service: snapshot.Service{
			Template:            snapshot.Template{Memory: "2Gi", CPU: "1", MaxConcurrency: 80},
			Traffic:             []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
			LatestReadyRevision: "api-00001-aaa",
		},
		Revisions: []snapshot.Revision{
			{Name: "api-00001-aaa", CreatedAt: t0.Add(-24 * time.Hour), Ready: true, Memory: "2Gi", CPU: "1", TrafficPercent: 100},
		},
		Metrics: snapshot.Metrics{MemoryUtilization: m},
	}
}
