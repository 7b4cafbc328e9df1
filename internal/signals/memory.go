package signals

import (
	"math"
	"slices"
	"sort"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Tuning of the series rules. Utilizations are fractions of the limit (0..1).
const (
	smoothPoints  = 5                // trailing mean used by risingMinutes
	riseTolerance = 0.01             // a smoothed dip smaller than this is noise, not a fall
	minRise       = 0.05             // a trend must gain at least this much to count as rising
	plateauWindow = 30 * time.Minute // a trend that gained < riseTolerance in this long is flat
	beforeServing = time.Hour        // the window memoryBeforeServing averages
	spikeWindow   = 15 * time.Minute // the recent window requestSpike looks at
	spikeFactor   = 2.0              // recent max over baseline median that makes a burst
)

// timeSeries is a cleaned time series: finite values in time order, with times as seconds since the
// first point so the rules below do float arithmetic rather than time.Time arithmetic.
type timeSeries struct {
	start time.Time
	sec   []float64 // seconds since start, non-decreasing
	val   []float64
	memo  *fits // nil: nothing is remembered
}

// newSeries keeps the finite points of p in time order. p itself is never modified.
func newSeries(p []snapshot.Point) timeSeries {
	sorted := true
	for i := 1; i < len(p); i++ {
		if p[i].At.Before(p[i-1].At) {
			sorted = false
			break
		}
	}
	if !sorted {
		p = slices.Clone(p)
		sort.SliceStable(p, func(i, j int) bool { return p[i].At.Before(p[j].At) })
	}
	buf := make([]float64, 2*len(p))
	s := timeSeries{sec: buf[:0:len(p)], val: buf[len(p):len(p)]}
	var base int64
	for _, pt := range p {
		if math.IsNaN(pt.Value) || math.IsInf(pt.Value, 0) {
			continue
		}
		if len(s.sec) == 0 {
			s.start, base = pt.At, pt.At.UnixNano()
		}
		// UnixNano is exact for 1678..2262; Sub's monotonic and overflow handling is not needed
		// between wall-clock samples and costs more than the rest of the signals.
		s.sec = append(s.sec, float64(pt.At.UnixNano()-base)/1e9)
		s.val = append(s.val, pt.Value)
	}
	return s
}

func (s timeSeries) len() int { return len(s.val) }

// offset is t in the series' seconds.
func (s timeSeries) offset(t time.Time) float64 {
	return float64(t.UnixNano()-s.start.UnixNano()) / 1e9
}

// minutesBetween is the whole minutes from point i to point j.
func (s timeSeries) minutesBetween(i, j int) int { return int((s.sec[j] - s.sec[i]) / 60) }

func (s timeSeries) max() float64 {
	m := s.val[0]
	for _, v := range s.val[1:] {
		m = max(m, v)
	}
	return m
}

// slopePerHour is the ordinary least-squares slope of value against time in hours. Time, not the
// point index, is the abscissa, so missing minutes do not bend the line. 0 with fewer than two
// distinct times.
func (s timeSeries) slopePerHour() float64 {
	n := float64(s.len())
	if n < 2 {
		return 0
	}
	var sx, sy float64
	for i, x := range s.sec {
		sx += x
		sy += s.val[i]
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for i, x := range s.sec {
		dx := x - mx
		sxy += dx * (s.val[i] - my)
		sxx += dx * dx
	}
	if sxx == 0 {
		return 0
	}
	return sxy / sxx * 3600
}

// risingMinutes is how long the memory trend has been up, by this rule:
//
//  1. Smooth the series with a trailing mean of up to 5 points.
//  2. Walk back from the newest point while the previous smoothed value is not more than 0.01
//     above the current one (non-decreasing, with tolerance): that is the current run.
//  3. Drop the run's flat head: the rise starts at the last point of the run whose smoothed value
//     is within 0.01 of the run's first one.
//  4. The trend is flat, and the result 0, when the rise gained less than 0.05 in total, or when
//     the smoothed value 30 minutes before the newest point (a point of the rise) is within 0.01 of
//     the newest: a rise that has levelled off for half an hour is a plateau, not a trend.
//  5. Otherwise the result is the whole minutes from the start of the rise to the newest point.
//
// Minutes are measured on the timestamps, so missing minutes count as elapsed time. After a
// restart (see cycles) the run starts at the trough, so a leaking sawtooth reports the time since
// the last restart.
func (s timeSeries) risingMinutes() int {
	n := s.len()
	if n < 2 {
		return 0
	}
	m := s.smooth()
	run := n - 1
	for run > 0 && m[run-1] <= m[run]+riseTolerance {
		run--
	}
	start := run
	for i := run; i < n; i++ {
		if m[i] <= m[run]+riseTolerance {
			start = i
		}
	}
	last := n - 1
	if m[last]-m[start] < minRise {
		return 0
	}
	cutoff := s.sec[last] - plateauWindow.Seconds()
	for i := last; i >= start; i-- {
		if s.sec[i] <= cutoff {
			if m[last]-m[i] < riseTolerance {
				return 0
			}
			break
		}
	}
	return s.minutesBetween(start, last)
}

// smooth is the trailing mean of up to smoothPoints points.
func (s timeSeries) smooth() []float64 {
	m := make([]float64, s.len())
	var sum float64
	for i, v := range s.val {
		sum += v
		if i >= smoothPoints {
			sum -= s.val[i-smoothPoints]
		}
		m[i] = sum / float64(min(i+1, smoothPoints))
	}
	return m
}

// minutesAbove is the length of the newest stretch of points strictly above threshold, in minutes:
// from the first point of the stretch to the newest point, plus the newest point's own minute (one
// point above is 1 minute). Missing minutes inside the stretch do not break it: no data is not
// evidence of recovery.
func (s timeSeries) minutesAbove(threshold float64) int {
	last := s.len() - 1
	first := -1
	for i := last; i >= 0 && s.val[i] > threshold; i-- {
		first = i
	}
	if first < 0 {
		return 0
	}
	return s.minutesBetween(first, last) + 1
}

// meanBefore is the mean value of the points in the hour before t, [t−1h, t), or -1 when there is
// none.
func (s timeSeries) meanBefore(t time.Time) float64 {
	to := s.offset(t)
	from := to - beforeServing.Seconds()
	var sum float64
	n := 0
	for i, x := range s.sec {
		if x >= from && x < to {
			sum += s.val[i]
			n++
		}
	}
	if n == 0 {
		return -1
	}
	return sum / float64(n)
}
