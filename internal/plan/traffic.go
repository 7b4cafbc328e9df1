package plan

import "github.com/runmedic/runmedic/internal/snapshot"

// pinned reports whether no traffic follows the latest revision, so a new revision would get 0 %.
// An empty split is Cloud Run's default, 100 % to the latest Ready revision: not pinned. A split
// that gives LATEST any share is not pinned either: the new revision takes that share, so the
// raised code does serve traffic.
func pinned(traffic []snapshot.TrafficTarget) bool {
	if len(traffic) == 0 {
		return false
	}
	for _, t := range traffic {
		if t.Type == snapshot.TrafficLatest && t.Percent > 0 {
			return false
		}
	}
	return true
}

// servingRevision is the pinned revision with the largest share; the first listed wins a tie.
func servingRevision(traffic []snapshot.TrafficTarget) string {
	share := map[string]int{}
	best := ""
	for _, t := range traffic {
		if t.Type != snapshot.TrafficRevision || t.Percent <= 0 {
			continue
		}
		share[t.Revision] += t.Percent
		if best == "" || share[t.Revision] > share[best] {
			best = t.Revision
		}
	}
	return best
}

// servesAll reports whether the revision named already receives all the traffic, pinned.
func servesAll(traffic []snapshot.TrafficTarget, name string) bool {
	sum := 0
	for _, t := range traffic {
		if t.Percent <= 0 {
			continue
		}
		if t.Type != snapshot.TrafficRevision || t.Revision != name {
			return false
		}
		sum += t.Percent
	}
	return sum == 100
}

// route sends 100 % of the traffic to dst. Tags on the live split are kept at 0 % (or moved onto
// dst when they name the same target), so tag URLs keep working; the result always sums to 100.
func route(live []snapshot.TrafficTarget, dst snapshot.TrafficTarget) []snapshot.TrafficTarget {
	dst.Percent = 100
	out := []snapshot.TrafficTarget{dst}
	for _, t := range live {
		if t.Tag == "" {
			continue
		}
		if sameTarget(t, dst) && out[0].Tag == "" {
			out[0].Tag = t.Tag
			continue
		}
		t.Percent = 0
		out = append(out, t)
	}
	return out
}

func sameTarget(a, b snapshot.TrafficTarget) bool {
	if a.Type != b.Type {
		return false
	}
	return a.Type == snapshot.TrafficLatest || a.Revision == b.Revision
}

// trafficChange copies both splits so the plan shares no memory with the snapshot.
func trafficChange(before, after []snapshot.TrafficTarget) snapshot.Change {
	return snapshot.Change{
		Path:   snapshot.PathTraffic,
		Before: snapshot.TrafficValue(append([]snapshot.TrafficTarget{}, before...)),
		After:  snapshot.TrafficValue(append([]snapshot.TrafficTarget{}, after...)),
	}
}
