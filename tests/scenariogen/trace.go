package main

import (
	"math"
	"math/rand/v2"
)

// window is the length of every series: three hours, one point a minute.
const window = 180

// trace builds a utilization series point by point; values stay in [0.02, 1].
type trace struct {
	r   *rand.Rand
	val []float64
}

func newTrace(r *rand.Rand) *trace { return &trace{r: r} }

// flat appends n points at level.
func (t *trace) flat(n int, level float64) *trace { return t.ramp(n, level, level) }

// ramp appends n points from a to b.
func (t *trace) ramp(n int, a, b float64) *trace {
	for i := range n {
		f := 0.0
		if n > 1 {
			f = float64(i) / float64(n-1)
		}
		t.val = append(t.val, a+(b-a)*f)
	}
	return t
}

// sawtooth appends n points of a leak whose instances are OOM-killed: each cycle climbs from its
// floor to the limit in a random 20..90 minutes (cycleMin..cycleMax), holds a minute at the top,
// then restarts to a floor that is a partial drop; the floor creeps up by creep per cycle.
func (t *trace) sawtooth(n int, floor, creep float64, cycleMin, cycleMax int) (restarts []int) {
	start := len(t.val)
	level := floor + t.r.Float64()*(0.97-floor)*0.6 // the window opens mid-climb
	f := floor
	for len(t.val)-start < n {
		length := cycleMin + t.r.IntN(cycleMax-cycleMin+1)
		climb := int(float64(length) * (0.98 - level) / (0.98 - f))
		t.ramp(max(2, climb), level, 0.97+0.03*t.r.Float64())
		t.val = append(t.val, 1.0)
		restarts = append(restarts, len(t.val)-1)
		f += creep
		level = f + 0.08*t.r.Float64()
	}
	t.val = t.val[:start+n]
	for len(restarts) > 0 && restarts[len(restarts)-1] >= start+n-1 {
		restarts = restarts[:len(restarts)-1]
	}
	return restarts
}

// noise adds uniform noise of ±amp to every point.
func (t *trace) noise(amp float64) *trace {
	for i := range t.val {
		t.val[i] += amp * (2*t.r.Float64() - 1)
	}
	return t
}

// values clips to [0.02, 1] and rounds to three decimals.
func (t *trace) values() []float64 {
	out := make([]float64, len(t.val))
	for i, v := range t.val {
		out[i] = round3(min(1, max(0.02, v)))
	}
	return out
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// maxOf is the point-wise maximum of series aligned at their ends (shorter ones are newer): what
// Monitoring's REDUCE_MAX over revisions shows for the service.
func maxOf(series ...[]float64) []float64 {
	n := 0
	for _, s := range series {
		n = max(n, len(s))
	}
	out := make([]float64, n)
	for _, s := range series {
		off := n - len(s)
		for i, v := range s {
			out[off+i] = max(out[off+i], v)
		}
	}
	return out
}

// requests is a request-count series around base with ±10 % noise.
func requests(r *rand.Rand, n int, base float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Round(base * (0.9 + 0.2*r.Float64()))
	}
	return out
}
