package signals

import (
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// History vocabulary read here (see snapshot.Action).
const (
	actionRollback = "rollback"
)

// servingRevision is the revision serving the most traffic, by revisions[].traffic_percent (ties
// go to the newer revision). When no revision reports traffic it falls back to the service's
// traffic split: the entry with the largest percent names its revision, and a LATEST entry means
// latest_ready_revision. With no traffic at all it is latest_ready_revision.
func servingRevision(s snapshot.Snapshot) string {
	var best *snapshot.Revision
	for i := range s.Revisions {
		r := &s.Revisions[i]
		if r.TrafficPercent <= 0 {
			continue
		}
		if best == nil || r.TrafficPercent > best.TrafficPercent ||
			(r.TrafficPercent == best.TrafficPercent && r.CreatedAt.After(best.CreatedAt)) {
			best = r
		}
	}
	if best != nil {
		return best.Name
	}
	var top *snapshot.TrafficTarget
	for i := range s.Service.Traffic {
		t := &s.Service.Traffic[i]
		if t.Percent > 0 && (top == nil || t.Percent > top.Percent) {
			top = t
		}
	}
	if top != nil && top.Type != snapshot.TrafficLatest && top.Revision != "" {
		return top.Revision
	}
	return s.Service.LatestReadyRevision
}

// trafficPinned reports that a REVISION entry carries all the traffic, so a new revision would get
// 0 %. An ordinary split between revisions (a canary) is not a pin, and an empty split is Cloud
// Run's default, 100 % to LATEST.
func trafficPinned(traffic []snapshot.TrafficTarget) bool {
	for _, t := range traffic {
		if t.Type == snapshot.TrafficRevision && t.Percent == 100 {
			return true
		}
	}
	return false
}

func findRevision(revs []snapshot.Revision, name string) (snapshot.Revision, bool) {
	if name == "" {
		return snapshot.Revision{}, false
	}
	for _, r := range revs {
		if r.Name == name {
			return r, true
		}
	}
	return snapshot.Revision{}, false
}

// previousReady is the rollback target for serving: the ready revision with the latest
// created_at strictly before serving's that is not in bad; "" when there is none. Ties on
// created_at go to the one listed first (the list is newest first).
func previousReady(revs []snapshot.Revision, serving snapshot.Revision, bad map[string]bool) string {
	var best *snapshot.Revision
	for i := range revs {
		r := &revs[i]
		if !r.Ready || r.Name == serving.Name || !r.CreatedAt.Before(serving.CreatedAt) || bad[r.Name] {
			continue
		}
		if best == nil || r.CreatedAt.After(best.CreatedAt) {
			best = r
		}
	}
	if best == nil {
		return ""
	}
	return best.Name
}

// badRevisions are the revisions runmedic's history records as bad, by two rules:
//
//   - A rollback (action "rollback", whatever its outcome: the diagnosis stands even if the move
//     did not) condemns every revision its traffic change moved traffic away from: a revision whose
//     percent in the change's after is lower than in its before. A LATEST entry without a revision
//     name stands for the newest ready revision created at or before the action.
//   - An action whose outcome is "failed" condemns the revision it names (its revision field).
//
// A traffic change that cannot be read as a list of traffic targets is ignored: history informs,
// it never fails the computation.
func badRevisions(revs []snapshot.Revision, history []snapshot.Action) map[string]bool {
	bad := map[string]bool{}
	for _, h := range history {
		if h.Outcome == snapshot.OutcomeFailed && h.Revision != "" {
			bad[h.Revision] = true
		}
		if h.Action != actionRollback {
			continue
		}
		for _, c := range h.Changes {
			if c.Path != snapshot.PathTraffic {
				continue
			}
			before, ok1 := decodeTraffic(c.Before)
			after, ok2 := decodeTraffic(c.After)
			if !ok1 || !ok2 {
				continue
			}
			was, now := shares(before, revs, h.At), shares(after, revs, h.At)
			for name, pct := range was {
				if pct > 0 && now[name] < pct {
					bad[name] = true
				}
			}
		}
	}
	return bad
}

// shares sums a traffic split per revision name, resolving LATEST as it stood at t.
func shares(split []snapshot.TrafficTarget, revs []snapshot.Revision, t time.Time) map[string]int {
	out := map[string]int{}
	for _, e := range split {
		name := e.Revision
		if e.Type == snapshot.TrafficLatest && name == "" {
			name = latestReadyAt(revs, t)
		}
		if name != "" {
			out[name] += e.Percent
		}
	}
	return out
}

// latestReadyAt is the newest ready revision created at or before t: what LATEST served then.
func latestReadyAt(revs []snapshot.Revision, t time.Time) string {
	var best *snapshot.Revision
	for i := range revs {
		r := &revs[i]
		if r.Ready && !r.CreatedAt.After(t) && (best == nil || r.CreatedAt.After(best.CreatedAt)) {
			best = r
		}
	}
	if best == nil {
		return ""
	}
	return best.Name
}

// decodeTraffic reads a Change's Before or After as a traffic split; a missing one is no split.
func decodeTraffic(v snapshot.Value) ([]snapshot.TrafficTarget, bool) {
	if v.IsNull() {
		return nil, false
	}
	ts, err := v.Traffic()
	return ts, err == nil
}
