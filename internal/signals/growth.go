package signals

import "math"

// plateauWindow is how far back the plateau test looks: a rise that has slowed over the last half
// hour, by more than the noise can explain, has levelled off.
const plateauMinutes = 30

// growth is what the series says about memory growing toward the limit.
type growth struct {
	noise    float64
	cycles   cycleStats
	minutes  int     // how long memory has been growing, through restarts; 0 when it is not
	perHour  float64 // the growth rate, utilization per hour; 0 when not growing
	plateau  bool    // memory is level at the end of the window
	toLimit  int     // minutes until the limit at perHour from the current level, -1 when not growing
	trend    float64 // Theil–Sen slope over the whole window, per hour
	cycleNow int     // index where the newest cycle starts
	climbing bool    // the newest cycle is climbing significantly (see significantRise)
}

// growth measures growth by these rules:
//
//  1. Split the series into cycles at restarts (see cycles).
//  2. When there were restarts and the newest cycles grow (see cycleFacts), memory has been
//     growing since the first of those cycles began, at their median rate: a leak seen through
//     its restarts.
//  3. Otherwise look at the newest cycle alone: find where the rise began (hingeStart) and take
//     the Theil–Sen slope from there; it grows when that rise is significant (significantRise).
//  4. The plateau test: memory is level when it does not grow, or when the Theil–Sen slope of the
//     last 30 minutes is below half the growth rate and lower by more than twice the slope's
//     standard error for that noise. A rise that levels off without restarts is not growth.
func (s timeSeries) growth() growth {
	n := s.len()
	g := growth{toLimit: -1}
	if n == 0 {
		return g
	}
	s = s.remembering()
	g.noise = s.noise()
	g.trend = s.theilSen(0, n)
	cs := s.cycles(g.noise)
	g.cycles = s.cycleFacts(cs, g.noise)
	g.cycleNow = cs[len(cs)-1].start
	if g.cycles.resets > 0 && g.cycles.growingFrom >= 0 {
		g.minutes = s.minutesBetween(g.cycles.growingFrom, n-1)
		g.perHour = g.cycles.growthPerHour
	} else if k := s.hingeStart(g.cycleNow, n); n-k >= 2 {
		if ts := s.theilSen(k, n); s.significantRise(k, n, ts, g.noise) {
			g.minutes, g.perHour = s.minutesBetween(k, n-1), ts
		}
	}
	if n-g.cycleNow >= 5 {
		g.climbing = s.significantRise(g.cycleNow, n, s.theilSen(g.cycleNow, n), g.noise)
	}
	g.plateau = g.minutes == 0 || s.levelledOff(g.cycleNow, g.perHour, g.noise)
	if g.plateau && g.cycles.resets == 0 {
		g.minutes, g.perHour = 0, 0
	}
	if g.perHour > 0 {
		level := s.medianOf(max(g.cycleNow, n-5), n)
		g.toLimit = max(0, int(math.Round((1-level)/g.perHour*60)))
	}
	return g
}

// levelledOff is the plateau test's second half: over the last 30 minutes of the newest cycle
// the rate has fallen below half of rate, by more than the noise explains. A cycle younger than
// 25 minutes has no half hour to judge and is not level.
func (s timeSeries) levelledOff(cycleStart int, rate, sigma float64) bool {
	n := s.len()
	cutoff := s.sec[n-1] - plateauMinutes*60
	w := n - 1
	for w > cycleStart && s.sec[w-1] >= cutoff {
		w--
	}
	span := (s.sec[n-1] - s.sec[w]) / 3600
	if span < 25.0/60 || n-w < 5 {
		return false
	}
	recent := s.theilSen(w, n)
	return recent < rate/2 && rate-recent > 2*slopeSE(sigma, n-w, span)
}

// Growth must gain at least this much (utilization) to count, however clean the series.
const minGain = 0.03

// significantRise reports that slope (per hour) over the points [from, to) is growth: positive,
// at least three standard errors for the series' noise, and gaining at least minGain. A slow
// rise under noise passes when there are enough points; a short noisy wiggle does not.
func (s timeSeries) significantRise(from, to int, slope, sigma float64) bool {
	hours := (s.sec[to-1] - s.sec[from]) / 3600
	return slope > 0 && slope*hours >= minGain && slope >= 3*slopeSE(sigma, to-from, hours)
}
