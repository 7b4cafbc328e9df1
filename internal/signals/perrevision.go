package signals

import (
	"cmp"
	"slices"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Suspect sources, in the order they are tried.
const (
	suspectByAlert  = "alert"
	suspectByMemory = "memory"
	suspectByOOM    = "oom_kills"
)

// minRisingMinutes is how long a revision's memory must have grown to count as rising.
const minRisingMinutes = 15

// servingShares is each revision's traffic share: revisions[].traffic_percent when any revision
// reports one, else the service's split, with LATEST standing for latest_ready_revision.
func servingShares(s snapshot.Snapshot) map[string]int {
	out := map[string]int{}
	for _, r := range s.Revisions {
		if r.TrafficPercent > 0 {
			out[r.Name] += r.TrafficPercent
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, t := range s.Service.Traffic {
		name := t.Revision
		if t.Type == snapshot.TrafficLatest && name == "" {
			name = s.Service.LatestReadyRevision
		}
		if t.Percent > 0 && name != "" {
			out[name] += t.Percent
		}
	}
	if len(out) == 0 && s.Service.LatestReadyRevision != "" {
		out[s.Service.LatestReadyRevision] = 100
	}
	return out
}

// describeServing describes every serving revision, largest share first (ties: newer first). A
// revision's growth reads its own series from memory_by_revision when there is one; otherwise the
// service series, which is the max over revisions, stands in. service is the service series'
// growth, already computed.
func describeServing(s snapshot.Snapshot, mem timeSeries, service growth) []RevisionSignals {
	shares := servingShares(s)
	out := make([]RevisionSignals, 0, len(shares))
	for name, pct := range shares {
		rs := RevisionSignals{Name: name, Percent: pct, AgeMinutes: -1, MemoryBefore: -1}
		rev, found := findRevision(s.Revisions, name)
		if found {
			rs.AgeMinutes = max(0, minutes(s.CapturedAt.Sub(rev.CreatedAt)))
			if mem.len() > 0 {
				rs.MemoryBefore = mem.meanBefore(rev.CreatedAt)
			}
		}
		g, series := service, mem
		if pts, ok := s.Metrics.MemoryByRevision[name]; ok {
			if own := newSeries(pts); own.len() > 0 {
				g, series, rs.OwnSeries = own.growth(), own, true
			}
		}
		if series.len() > 0 {
			rs.MemoryNow = series.val[series.len()-1]
		}
		rs.GrowthMinutes = g.minutes
		rs.Rising = g.minutes >= minRisingMinutes && g.perHour > 0
		out = append(out, rs)
	}
	slices.SortFunc(out, func(a, b RevisionSignals) int {
		if c := cmp.Compare(b.Percent, a.Percent); c != 0 {
			return c
		}
		if c := cmp.Compare(a.AgeMinutes, b.AgeMinutes); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// suspect picks the revision that leaks, by these rules, first match wins:
//
//   - the alert's revision, when it serves, is younger than window, and is rising;
//   - the youngest serving revision younger than window that is rising, when no older serving
//     revision with its own series is rising too (then the leak predates it);
//   - the only serving revision younger than window with OOM kills, when no older serving
//     revision has any.
//
// It returns the revision and what pointed at it, or "", "".
func suspect(serving []RevisionSignals, alert string, window time.Duration, kills map[string]int) (RevisionSignals, string) {
	young := func(r RevisionSignals) bool {
		return r.AgeMinutes >= 0 && time.Duration(r.AgeMinutes)*time.Minute < window
	}
	olderRising, olderKilled := false, false
	var youngest *RevisionSignals
	var killed []RevisionSignals
	for i := range serving {
		r := serving[i]
		if !young(r) {
			olderRising = olderRising || (r.Rising && r.OwnSeries)
			olderKilled = olderKilled || kills[r.Name] > 0
			continue
		}
		if r.Name == alert && r.Rising {
			return r, suspectByAlert
		}
		if r.Rising && (youngest == nil || r.AgeMinutes < youngest.AgeMinutes) {
			youngest = &serving[i]
		}
		if kills[r.Name] > 0 {
			killed = append(killed, r)
		}
	}
	if youngest != nil && !olderRising {
		return *youngest, suspectByMemory
	}
	if len(killed) == 1 && !olderKilled {
		return killed[0], suspectByOOM
	}
	return RevisionSignals{}, ""
}
