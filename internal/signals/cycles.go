package signals

import (
	"math"
	"time"
)

// Restart rules: a sudden drop that undoes at least half of the climb it ends is an instance
// restart (an OOM kill and a fresh instance), however high the climb went.
const (
	resetWithin   = 5 * time.Minute // a drop must happen this fast
	resetFraction = 0.5             // … and undo at least this share of the climb since the floor
	minResetDrop  = 0.1             // … and be at least this large
	resetNoise    = 5.0             // … and at least this many noise deviations
	// A drop that ends no climb (the window opens at the top, or memory was already falling) has
	// nothing to be judged against; it must be this large, as a restart seen alone.
	bareResetDrop = 0.3
)

// cycle is one stretch of the series between restarts: points [start, peak] climb, the points
// after peak up to the next cycle's start are the fall.
type cycle struct {
	start, peak, end int // end is exclusive: the next cycle's start, or len
	restarted        bool
}

// cycles splits the series at restarts. A restart is a point i followed within 5 minutes by a
// point j whose value is lower by at least max(0.1, 5·noise) and by at least half of the climb
// from the current cycle's floor (its lowest value so far) to point i; when that climb is
// smaller than 0.1 there is no climb to judge by and the drop must be 0.3. The new cycle starts at the
// bottom of the fall (the scan follows the fall while the points keep falling), so one restart
// seen over several points counts once.
func (s timeSeries) cycles(sigma float64) []cycle {
	n := s.len()
	if n == 0 {
		return nil
	}
	minDrop := max(minResetDrop, resetNoise*sigma)
	out := []cycle{}
	start, floor := 0, s.val[0]
	for i := 0; i < n; i++ {
		floor = min(floor, s.val[i])
		j := s.dropAfter(i, floor, minDrop)
		if j < 0 {
			continue
		}
		for j+1 < n && s.val[j+1] <= s.val[j] {
			j++
		}
		out = append(out, cycle{start: start, peak: s.peakIn(start, j), end: j, restarted: true})
		start, floor, i = j, s.val[j], j-1
	}
	return append(out, cycle{start: start, peak: s.peakIn(start, n), end: n})
}

// dropAfter is the first index after i within resetWithin whose value is a restart's drop below
// point i, or -1.
func (s timeSeries) dropAfter(i int, floor, minDrop float64) int {
	limit := s.sec[i] + resetWithin.Seconds()
	climb := s.val[i] - floor
	need := max(minDrop, resetFraction*climb)
	if climb < minResetDrop {
		need = max(minDrop, bareResetDrop)
	}
	for j := i + 1; j < s.len() && s.sec[j] <= limit; j++ {
		if s.val[i]-s.val[j] >= need {
			return j
		}
	}
	return -1
}

func (s timeSeries) peakIn(from, to int) int {
	best := from
	for k := from + 1; k < to; k++ {
		if s.val[k] > s.val[best] {
			best = k
		}
	}
	return best
}

// cycleStats are the facts about the cycles a leak leaves behind.
type cycleStats struct {
	resets         int
	growthPerHour  float64 // median Theil–Sen slope of the climbs long enough to measure
	minutesToLimit int     // median minutes from a restart to the next restart, -1 without one
	acrossRestarts float64 // last floor after a restart minus the first, 0 with fewer than two
	growingFrom    int     // index where the newest chain of growing cycles starts, -1 if none
}

// Minimum climb a cycle must have for its slope to count.
const minCycleMinutes = 10

// cycleFacts measures the cycles. A cycle grows when its climb is at least minCycleMinutes long
// and, measured from where it began (hingeStart), the rise is significant (significantRise) and
// gains at least 0.05; the newest chain of growing cycles (the
// newest cycle may be too young to measure without breaking the chain) is where a leak has been
// seen through its restarts.
func (s timeSeries) cycleFacts(cs []cycle, sigma float64) cycleStats {
	st := cycleStats{minutesToLimit: -1, growingFrom: -1}
	var slopes, lengths, floors []float64
	grows := make([]bool, len(cs))
	measurable := make([]bool, len(cs))
	from := make([]int, len(cs))
	for k, c := range cs {
		if c.restarted {
			st.resets++
			lengths = append(lengths, (s.sec[c.peak]-s.sec[c.start])/60)
		}
		if k > 0 {
			floors = append(floors, s.val[c.start])
		}
		top := c.peak + 1
		if !c.restarted {
			top = c.end
		}
		if (s.sec[top-1]-s.sec[c.start])/60 < minCycleMinutes || top-c.start < 5 {
			continue
		}
		measurable[k] = true
		// The climb is measured from where it began (a step up and a plateau is not a climb).
		h := s.hingeStart(c.start, top)
		if top-h < 5 {
			continue
		}
		if slope := s.theilSen(h, top); s.significantRise(h, top, slope, sigma) && slope*(s.sec[top-1]-s.sec[h])/3600 >= minRise {
			grows[k], from[k] = true, h
			slopes = append(slopes, slope)
		}
	}
	if len(slopes) > 0 {
		st.growthPerHour = median(slopes)
	}
	if len(lengths) > 0 {
		st.minutesToLimit = int(math.Round(median(lengths)))
	}
	if len(floors) >= 2 {
		st.acrossRestarts = floors[len(floors)-1] - floors[0]
	}
	for k := len(cs) - 1; k >= 0; k-- {
		if grows[k] {
			st.growingFrom = from[k]
			continue
		}
		if k == len(cs)-1 && !measurable[k] {
			continue // the newest cycle is too young to judge
		}
		break
	}
	return st
}
