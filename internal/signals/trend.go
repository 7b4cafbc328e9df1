package signals

import (
	"math"
	"slices"
)

// Theil–Sen fits at most this many points (evenly subsampled) so its O(n²) pairs stay cheap on
// the decision path: 48 points are 1,128 pairs.
const maxTrendPoints = 48

// madScale turns a median absolute deviation into a Gaussian standard deviation.
const madScale = 1.4826

// minNoisePoints is the fewest points noise is estimated from.
const minNoisePoints = 10

// noise estimates the standard deviation of one point around the trend, from the median absolute
// deviation of minute-to-minute differences divided by √2: a trend moves every difference by
// about the same amount and the median ignores the few large drops of restarts, so neither a
// steady rise nor a sawtooth inflates it. 0 with fewer than ten points: too few to tell noise
// from movement.
func (s timeSeries) noise() float64 {
	n := s.len()
	if n < minNoisePoints {
		return 0
	}
	d := make([]float64, n-1)
	for i := 1; i < n; i++ {
		d[i-1] = s.val[i] - s.val[i-1]
	}
	med := median(d)
	for i := range d {
		d[i] = math.Abs(d[i] - med)
	}
	return madScale * median(d) / math.Sqrt2
}

// theilSen is the Theil–Sen slope of the points [from, to), in utilization per hour: the median
// of the slopes between every pair of points, over at most maxTrendPoints points evenly spread.
// Up to 29 % of the points may be wild without moving it. 0 with fewer than two distinct times.
func (s timeSeries) theilSen(from, to int) float64 {
	if s.memo != nil {
		if v, ok := s.memo.slopes[[2]int{from, to}]; ok {
			return v
		}
	}
	v := s.theilSenFit(from, to)
	if s.memo != nil {
		s.memo.slopes[[2]int{from, to}] = v
	}
	return v
}

// fits remembers the Theil–Sen slopes and hinges already fitted on one series: the growth rules
// ask for the same stretch more than once (a series without restarts is one cycle), and the
// fits are the costly part of the signals. It also keeps one buffer for the pairwise slopes.
type fits struct {
	slopes  map[[2]int]float64
	hinges  map[[2]int]int
	scratch []float64
}

// remembering is s with a fresh memo of its fits.
func (s timeSeries) remembering() timeSeries {
	s.memo = &fits{slopes: map[[2]int]float64{}, hinges: map[[2]int]int{}, scratch: make([]float64, 0, maxPairs)}
	return s
}

// maxPairs is how many pairwise slopes a fit takes at most.
const maxPairs = maxTrendPoints * (maxTrendPoints - 1) / 2

func (s timeSeries) theilSenFit(from, to int) float64 {
	n := to - from
	if n < 2 {
		return 0
	}
	m := min(n, maxTrendPoints)
	idx := make([]int, m)
	for k := range idx {
		idx[k] = from + k*(n-1)/max(1, m-1)
	}
	var slopes []float64
	if s.memo != nil {
		slopes = s.memo.scratch[:0]
	} else {
		slopes = make([]float64, 0, m*(m-1)/2)
	}
	for a := 0; a < m; a++ {
		for b := a + 1; b < m; b++ {
			i, j := idx[a], idx[b]
			if dx := s.sec[j] - s.sec[i]; dx > 0 {
				slopes = append(slopes, (s.val[j]-s.val[i])/dx)
			}
		}
	}
	if s.memo != nil {
		s.memo.scratch = slopes
	}
	if len(slopes) == 0 {
		return 0
	}
	return selectMedian(slopes) * 3600
}

// selectMedian is the median of v by quickselect, in expected linear time; v is reordered.
func selectMedian(v []float64) float64 {
	n := len(v)
	hi := kth(v, n/2)
	if n%2 == 1 {
		return hi
	}
	lo := v[0]
	for _, x := range v[1 : n/2] {
		lo = max(lo, x)
	}
	return (lo + hi) / 2
}

// kth reorders v so v[k] is the k-th smallest, everything before it no larger and everything
// after no smaller, and returns it. The pivot is the median of three, so sorted input is fast.
func kth(v []float64, k int) float64 {
	lo, hi := 0, len(v)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		p := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// medianOf is the median of the values [from, to), leaving the series untouched.
func (s timeSeries) medianOf(from, to int) float64 {
	return median(slices.Clone(s.val[from:to]))
}

// slopeSE is the standard error of a least-squares slope, per hour, over n points a minute apart
// with point noise sigma: sigma·√(12/n) / span.
func slopeSE(sigma float64, n int, spanHours float64) float64 {
	if n < 2 || spanHours <= 0 {
		return math.Inf(1)
	}
	return sigma * math.Sqrt(12/float64(n)) / spanHours
}
