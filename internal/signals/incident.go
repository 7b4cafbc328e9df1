package signals

import (
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// verification judges what runmedic already did for the incident, the way verification judges a
// pending change: a change verifies when every memory point after it is below verify_below once
// verify_after has passed. A change whose outcome is "failed" failed; an "applied" change whose
// window has passed with a point at or above verify_below since it, or no point at all, failed
// too. A change that landed and has not failed means runmedic already acted.
//
// Recovery before the alert is memory below verify_below for at least verify_after at the end of
// the window on an open incident, unless memory is climbing again since the last restart: a
// leak that has just been OOM-killed is low for a while and has not recovered.
func verification(s snapshot.Snapshot, mem timeSeries, climbing bool, below float64, after time.Duration) Verification {
	var v Verification
	if mem.len() > 0 {
		v.MinutesBelowVerify = mem.minutesBelow(below)
	}
	v.RecoveredEarly = s.Incident.State != snapshot.StateClosed && after > 0 && v.MinutesBelowVerify > 0 && !climbing &&
		time.Duration(v.MinutesBelowVerify)*time.Minute >= after
	for _, h := range s.History {
		if h.Incident != s.Incident.ID || !h.Changed() {
			continue
		}
		switch {
		case h.Outcome == snapshot.OutcomeFailed:
			v.VerificationFailed = true
		case h.Outcome == snapshot.OutcomeApplied && !s.CapturedAt.Before(h.At.Add(after)) && !mem.allBelowAfter(h.At, below):
			v.VerificationFailed = true
		case h.Acted():
			v.AlreadyActed = true
		}
	}
	return v
}

// minutesBelow is the length of the newest stretch of points strictly below level, in minutes,
// counted like minutesAbove.
func (s timeSeries) minutesBelow(level float64) int {
	last := s.len() - 1
	first := -1
	for i := last; i >= 0 && s.val[i] < level; i-- {
		first = i
	}
	if first < 0 {
		return 0
	}
	return s.minutesBetween(first, last) + 1
}

// allBelowAfter reports whether there is a point after t and every such point is below level.
func (s timeSeries) allBelowAfter(t time.Time, level float64) bool {
	from := s.offset(t)
	seen := false
	for i, x := range s.sec {
		if x <= from {
			continue
		}
		if s.val[i] >= level {
			return false
		}
		seen = true
	}
	return seen
}
