package signals

import (
	"math"
	"slices"
	"sort"
	"time"
)

// requestSpike reports a burst of requests without a memory trend, by this rule: the request
// series is split at 15 minutes before its newest point; the burst is there when the largest
// count in the last 15 minutes is at least twice the median of the earlier points, that median is
// positive (an idle baseline has no scale to compare with), and memory has not been rising for
// longer than those 15 minutes (a rise inside the window is the burst's own footprint, a longer
// one is a trend).
func requestSpike(req timeSeries, risingMinutes int) bool {
	n := req.len()
	if n == 0 || risingMinutes > int(spikeWindow/time.Minute) {
		return false
	}
	cutoff := req.sec[n-1] - spikeWindow.Seconds()
	split := sort.SearchFloat64s(req.sec, math.Nextafter(cutoff, math.Inf(1))) // first point after cutoff
	if split == 0 {
		return false
	}
	recentMax := math.Inf(-1)
	for _, v := range req.val[split:] {
		recentMax = max(recentMax, v)
	}
	med := median(slices.Clone(req.val[:split]))
	return med > 0 && recentMax >= spikeFactor*med
}

// median reorders v in place and returns its median (selectMedian: no full sort).
func median(v []float64) float64 {
	return selectMedian(v)
}

// minutes is d in whole minutes, truncated.
func minutes(d time.Duration) int { return int(d / time.Minute) }
