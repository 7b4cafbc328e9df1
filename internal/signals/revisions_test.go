package signals

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Revision names used below, oldest first; rev(n) was created n hours after t0-24h.
const (
	r1 = "api-00001-aaa"
	r2 = "api-00002-bbb"
	r3 = "api-00003-ccc"
	r4 = "api-00004-ddd"
	r5 = "api-00005-eee"
)

// rev is a ready revision created hours after t0-24h, serving pct.
func rev(name string, hours int, pct int) snapshot.Revision {
	return snapshot.Revision{Name: name, CreatedAt: t0.Add(-24*time.Hour + time.Duration(hours)*time.Hour), Ready: true, TrafficPercent: pct}
}

func notReady(r snapshot.Revision) snapshot.Revision { r.Ready = false; return r }

var (
	latest100 = []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
)

func pinned(name string) []snapshot.TrafficTarget {
	return []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: name, Percent: 100}}
}

// rollback is a history entry moving traffic from before to after at t.
func rollback(at time.Time, outcome snapshot.Outcome, before, after []snapshot.TrafficTarget) snapshot.Action {
	return snapshot.Action{Incident: "0.old", Action: "rollback", At: at, Outcome: outcome,
		Changes: []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue(before), After: snapshot.TrafficValue(after)}}}
}

type revisionSignals struct {
	Serving  string
	Age      int
	Pinned   bool
	Previous string
}

func TestComputeRevisions(t *testing.T) {
	tests := []struct {
		name        string
		revs        []snapshot.Revision // newest first
		traffic     []snapshot.TrafficTarget
		latestReady string
		history     []snapshot.Action
		want        revisionSignals
	}{
		{
			name:        "newest serves all, previous is the next ready one",
			revs:        []snapshot.Revision{rev(r3, 20, 100), rev(r2, 10, 0), rev(r1, 0, 0)},
			traffic:     latest100,
			latestReady: r3,
			want:        revisionSignals{Serving: r3, Age: 4*60 + 1, Previous: r2},
		},
		{
			name:        "not-ready revisions are skipped",
			revs:        []snapshot.Revision{rev(r3, 20, 100), notReady(rev(r2, 10, 0)), rev(r1, 0, 0)},
			traffic:     latest100,
			latestReady: r3,
			want:        revisionSignals{Serving: r3, Age: 241, Previous: r1},
		},
		{
			name:        "only revision has no previous",
			revs:        []snapshot.Revision{rev(r1, 0, 100)},
			traffic:     latest100,
			latestReady: r1,
			want:        revisionSignals{Serving: r1, Age: 24*60 + 1},
		},
		{
			// After a rollback r3 is newer than the serving r2 and never a rollback target.
			name:        "pinned to an older revision",
			revs:        []snapshot.Revision{rev(r3, 20, 0), rev(r2, 10, 100), rev(r1, 0, 0)},
			traffic:     pinned(r2),
			latestReady: r3,
			want:        revisionSignals{Serving: r2, Age: 14*60 + 1, Pinned: true, Previous: r1},
		},
		{
			name:        "split serves the larger share",
			revs:        []snapshot.Revision{rev(r3, 20, 10), rev(r2, 10, 90), rev(r1, 0, 0)},
			traffic:     []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: r3, Percent: 10}, {Type: snapshot.TrafficRevision, Revision: r2, Percent: 90}},
			latestReady: r3,
			want:        revisionSignals{Serving: r2, Age: 841, Previous: r1}, // a split, not a pin
		},
		{
			name:        "even split goes to the newer revision",
			revs:        []snapshot.Revision{rev(r2, 10, 50), rev(r3, 20, 50), rev(r1, 0, 0)}, // listed out of order
			traffic:     []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 50}, {Type: snapshot.TrafficRevision, Revision: r2, Percent: 50}},
			latestReady: r3,
			want:        revisionSignals{Serving: r3, Age: 241, Previous: r2},
		},
		{
			name:        "no traffic_percent falls back to LATEST",
			revs:        []snapshot.Revision{rev(r3, 20, 0), rev(r2, 10, 0)},
			traffic:     latest100,
			latestReady: r3,
			want:        revisionSignals{Serving: r3, Age: 241, Previous: r2},
		},
		{
			name:        "no traffic_percent falls back to a named revision",
			revs:        []snapshot.Revision{rev(r3, 20, 0), rev(r2, 10, 0), rev(r1, 0, 0)},
			traffic:     pinned(r2),
			latestReady: r3,
			want:        revisionSignals{Serving: r2, Age: 841, Pinned: true, Previous: r1},
		},
		{
			name:        "no traffic at all falls back to latest ready",
			revs:        []snapshot.Revision{rev(r2, 10, 0), rev(r1, 0, 0)},
			latestReady: r2,
			want:        revisionSignals{Serving: r2, Age: 841, Previous: r1},
		},
		{
			name:        "serving revision not listed has unknown age and no previous",
			revs:        []snapshot.Revision{rev(r1, 0, 0)},
			traffic:     latest100,
			latestReady: r5,
			want:        revisionSignals{Serving: r5, Age: -1},
		},
		{
			name:        "a revision created with the serving one is not older",
			revs:        []snapshot.Revision{rev(r3, 20, 100), rev(r2, 20, 0)},
			traffic:     latest100,
			latestReady: r3,
			want:        revisionSignals{Serving: r3, Age: 241},
		},
		{
			// r4 was rolled back from (LATEST then meant r4); r5 was deployed later and now
			// serves. The rollback target skips r4.
			name:        "rolled-back-from revision is bad (LATEST resolved at the time)",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0), rev(r1, 0, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{rollback(t0.Add(-24*time.Hour+16*time.Hour), "verified", latest100, pinned(r3))},
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r3},
		},
		{
			name:        "rolled-back-from named revision is bad",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0), rev(r1, 0, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{rollback(t0.Add(-5*time.Hour), "applied", pinned(r4), pinned(r3))},
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r3},
		},
		{
			name:        "rollback that failed still condemns the revision",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{rollback(t0.Add(-5*time.Hour), "failed", pinned(r4), pinned(r3))},
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r3},
		},
		{
			name:    "partial move away is a move away",
			revs:    []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic: latest100,
			history: []snapshot.Action{rollback(t0.Add(-5*time.Hour), "verified", pinned(r4),
				[]snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: r4, Percent: 50}, {Type: snapshot.TrafficRevision, Revision: r3, Percent: 50}})},
			latestReady: r5,
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r3},
		},
		{
			// The rollback's target gained traffic: it is not condemned. The revision rolled
			// back from no longer exists.
			name:        "rollback target stays good",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{rollback(t0.Add(-5*time.Hour), "verified", pinned("api-00000-gone"), pinned(r4))},
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r4},
		},
		{
			name:        "other actions' traffic changes condemn nothing",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic:     latest100,
			latestReady: r5,
			// The raise moved traffic from the pinned r4 to the new r5 (LATEST at the time).
			history: []snapshot.Action{{Action: "raise_memory", At: t0.Add(-time.Hour), Outcome: "verified",
				Changes: []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue(pinned(r4)), After: snapshot.TrafficValue(latest100)}}}},
			want: revisionSignals{Serving: r5, Age: 121, Previous: r4},
		},
		{
			name:        "failed action names a bad revision",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{{Action: "raise_memory", At: t0.Add(-5 * time.Hour), Outcome: "failed", Revision: r4}},
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r3},
		},
		{
			name:        "verified action's revision is not bad",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{{Action: "raise_memory", At: t0.Add(-5 * time.Hour), Outcome: "verified", Revision: r4}},
			want:        revisionSignals{Serving: r5, Age: 121, Previous: r4},
		},
		{
			name:        "unreadable traffic change is ignored",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0), rev(r3, 10, 0)},
			traffic:     latest100,
			latestReady: r5,
			history: []snapshot.Action{{Action: "rollback", At: t0.Add(-5 * time.Hour), Outcome: "verified",
				Changes: []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TextValue("garbage"), After: snapshot.IntValue(42)}}}},
			want: revisionSignals{Serving: r5, Age: 121, Previous: r4},
		},
		{
			name:        "every older revision bad leaves none",
			revs:        []snapshot.Revision{rev(r5, 22, 100), rev(r4, 15, 0)},
			traffic:     latest100,
			latestReady: r5,
			history:     []snapshot.Action{rollback(t0.Add(-5*time.Hour), "verified", pinned(r4), pinned(r5))},
			want:        revisionSignals{Serving: r5, Age: 121},
		},
		{
			name:        "traffic with LATEST at zero is pinned",
			revs:        []snapshot.Revision{rev(r2, 10, 100), rev(r1, 0, 0)},
			traffic:     []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 0, Tag: "canary"}, {Type: snapshot.TrafficRevision, Revision: r2, Percent: 100}},
			latestReady: r2,
			want:        revisionSignals{Serving: r2, Age: 841, Pinned: true, Previous: r1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(series(t0, 0.5)) // captured at t0+1m
			s.Revisions = tt.revs
			s.Service.Traffic = tt.traffic
			s.Service.LatestReadyRevision = tt.latestReady
			s.History = tt.history
			got := computeRevisions(t, s)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Compute revision signals (-want +got):\n%s", diff)
			}

			// The same history after a JSON round trip (traffic as []any of maps) must give
			// the same answer: state is stored as JSON.
			b, err := json.Marshal(s)
			if err != nil {
				t.Fatalf("marshal snapshot: %v", err)
			}
			var decoded snapshot.Snapshot
			if err := json.Unmarshal(b, &decoded); err != nil {
				t.Fatalf("unmarshal snapshot: %v", err)
			}
			if diff := cmp.Diff(tt.want, computeRevisions(t, decoded)); diff != "" {
				t.Errorf("Compute revision signals after JSON round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func computeRevisions(t *testing.T, s snapshot.Snapshot) revisionSignals {
	t.Helper()
	got, err := Compute(s, testDefaults())
	if err != nil {
		t.Fatalf("Compute: %v", err)
	}
	return revisionSignals{got.ServingRevision, got.ServingRevisionAgeMinutes, got.TrafficPinned, got.PreviousReadyRevision}
}

func TestTrafficPinned(t *testing.T) {
	tests := []struct {
		name    string
		traffic []snapshot.TrafficTarget
		want    bool
	}{
		{"empty split is Cloud Run's default LATEST", nil, false},
		{"all to LATEST", latest100, false},
		{"all to a named revision", pinned(r2), true},
		{"LATEST shares traffic", []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 50}, {Type: snapshot.TrafficRevision, Revision: r1, Percent: 50}}, false},
		{"LATEST tagged at zero", []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 0}, {Type: snapshot.TrafficRevision, Revision: r1, Percent: 100}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := trafficPinned(tt.traffic); got != tt.want {
				t.Errorf("trafficPinned(%v) = %v, want %v", tt.traffic, got, tt.want)
			}
		})
	}
}
