package signals

// hingeStart finds where growth began in the points [from, to): the point t0 at which a line that
// is flat before t0 and rises at a constant rate after it fits best by least squares. It returns
// the index of t0. Candidates are every point that leaves at least five after it; the sums are
// running, so the search is linear. A series that is best fitted by no hinge at all (a rise from
// the start) returns from.
func (s timeSeries) hingeStart(from, to int) int {
	if s.memo != nil {
		if k, ok := s.memo.hinges[[2]int{from, to}]; ok {
			return k
		}
	}
	k := s.hingeFit(from, to)
	if s.memo != nil {
		s.memo.hinges[[2]int{from, to}] = k
	}
	return k
}

func (s timeSeries) hingeFit(from, to int) int {
	n := to - from
	if n < 6 {
		return from
	}
	// Suffix sums over [k, to) of t, t², y, ty; prefix sums over [from, k) of y, y².
	var st, stt, sy, sty float64
	suf := make([][4]float64, n+1)
	for k := to - 1; k >= from; k-- {
		t, y := s.sec[k]/3600, s.val[k]
		st += t
		stt += t * t
		sy += y
		sty += t * y
		suf[k-from] = [4]float64{st, stt, sy, sty}
	}
	var totY, totYY float64
	for k := from; k < to; k++ {
		totY += s.val[k]
		totYY += s.val[k] * s.val[k]
	}
	N := float64(n)
	best, bestSSE := from, 0.0
	first := true
	for k := from; k <= to-6; k++ {
		t0 := s.sec[k] / 3600
		r := suf[k-from]
		nr := float64(to - k)
		// x = t − t0 after the hinge, 0 before it; fit y = c + b·x.
		sx := r[0] - nr*t0
		sxx := r[1] - 2*t0*r[0] + nr*t0*t0
		sxy := r[3] - t0*r[2]
		den := N*sxx - sx*sx
		if den <= 0 {
			continue
		}
		b := (N*sxy - sx*totY) / den
		c := (totY - b*sx) / N
		sse := totYY - 2*c*totY - 2*b*sxy + c*c*N + 2*c*b*sx + b*b*sxx
		if first || sse < bestSSE {
			best, bestSSE, first = k, sse, false
		}
	}
	return best
}
