package signals

import (
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// canarySnapshot is 180 minutes of a week-old revision (r1, flat at 0.55) and a canary r2
// deployed 60 minutes before the end at pct %, whose own series climbs from 0.4 to 0.95. The
// service series is the max of the two, as Monitoring's REDUCE_MAX gives it.
func canarySnapshot(pct int, perRevision bool, alert string) snapshot.Snapshot {
	stable := repeat(0.55, 180)
	canary := ramp(0.4, 0.95, 60)
	service := append(repeat(0.55, 120), canary...)
	for i := range service {
		service[i] = max(service[i], stable[i])
	}
	s := testSnapshot(series(t0, service...))
	created := t0.Add(120 * time.Minute)
	s.Revisions = []snapshot.Revision{
		{Name: r2, CreatedAt: created, Ready: true, TrafficPercent: pct},
		{Name: r1, CreatedAt: t0.Add(-7 * 24 * time.Hour), Ready: true, TrafficPercent: 100 - pct},
	}
	s.Service.Traffic = []snapshot.TrafficTarget{
		{Type: snapshot.TrafficRevision, Revision: r2, Percent: pct},
		{Type: snapshot.TrafficRevision, Revision: r1, Percent: 100 - pct},
	}
	if perRevision {
		s.Metrics.MemoryByRevision = map[string][]snapshot.Point{
			r1: series(t0, stable...),
			r2: series(created, canary...),
		}
	}
	s.Incident.Revision = alert
	return s
}

// TestSuspect checks which serving revision is suspected of leaking, and the rollback target
// relative to it.
func TestSuspect(t *testing.T) {
	tests := []struct {
		name     string
		snap     snapshot.Snapshot
		suspect  string
		by       string
		previous string
		pinned   bool
	}{
		{name: "10 % canary named by the alert", snap: canarySnapshot(10, true, r2), suspect: r2, by: "alert", previous: r1},
		{name: "alert on the stable revision: the canary's own series", snap: canarySnapshot(20, true, r1), suspect: r2, by: "memory", previous: r1},
		{name: "alert grouped away", snap: canarySnapshot(50, true, ""), suspect: r2, by: "memory", previous: r1},
		{name: "service series only, alert on the canary", snap: canarySnapshot(10, false, r2), suspect: r2, by: "alert", previous: r1},
		{
			name: "the old revision rises too: the leak predates the canary",
			snap: func() snapshot.Snapshot {
				s := canarySnapshot(10, true, "")
				s.Metrics.MemoryByRevision[r1] = series(t0, ramp(0.4, 0.9, 180)...)
				return s
			}(),
		},
		{
			name: "a canary older than the regression window is not suspect",
			snap: func() snapshot.Snapshot {
				s := canarySnapshot(10, true, r2)
				s.Revisions[0].CreatedAt = t0.Add(-30 * time.Hour)
				return s
			}(),
			previous: "",
		},
		{
			name: "OOM kills on the canary alone",
			snap: func() snapshot.Snapshot {
				s := canarySnapshot(10, true, "")
				s.Metrics.MemoryByRevision[r2] = series(t0.Add(120*time.Minute), repeat(0.6, 60)...)
				s.Logs = &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{{Revision: r2, Count: 2, LimitMiB: 2048, MaxUsedMiB: 2100, First: t0, Last: t0.Add(170 * time.Minute)}}}
				return s
			}(),
			suspect: r2, by: "oom_kills", previous: r1,
		},
		{name: "100 % on a named revision is a pin", snap: func() snapshot.Snapshot {
			s := canarySnapshot(100, false, "")
			s.Service.Traffic = pinned(r2)
			return s
		}(), suspect: r2, by: "memory", previous: r1, pinned: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig, err := Compute(tt.snap, testDefaults())
			if err != nil {
				t.Fatal(err)
			}
			if sig.SuspectRevision != tt.suspect || sig.SuspectBy != tt.by {
				t.Errorf("suspect = %q by %q, want %q by %q", sig.SuspectRevision, sig.SuspectBy, tt.suspect, tt.by)
			}
			if tt.suspect != "" && sig.PreviousReadyRevision != tt.previous {
				t.Errorf("previous_ready_revision = %q, want %q", sig.PreviousReadyRevision, tt.previous)
			}
			if tt.suspect != "" && (sig.MemoryBeforeSuspect < 0.5 || sig.MemoryBeforeSuspect > 0.6) {
				t.Errorf("memory_before_suspect = %v, want the stable 0.55", sig.MemoryBeforeSuspect)
			}
			if sig.TrafficPinned != tt.pinned {
				t.Errorf("traffic_pinned = %t, want %t", sig.TrafficPinned, tt.pinned)
			}
			if len(sig.ServingRevisions) == 0 || sig.ServingRevisions[0].Percent < sig.ServingRevisions[len(sig.ServingRevisions)-1].Percent {
				t.Errorf("serving_revisions = %+v, want largest share first", sig.ServingRevisions)
			}
			if sig.AlertRevision != tt.snap.Incident.Revision {
				t.Errorf("alert_revision = %q, want %q", sig.AlertRevision, tt.snap.Incident.Revision)
			}
		})
	}
}

// TestServingRevisionsReadTheirOwnSeries checks each serving revision's rise comes from its own
// series when there is one.
func TestServingRevisionsReadTheirOwnSeries(t *testing.T) {
	sig, err := Compute(canarySnapshot(10, true, ""), testDefaults())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{r1: false, r2: true}
	for _, r := range sig.ServingRevisions {
		if !r.OwnSeries || r.Rising != want[r.Name] {
			t.Errorf("%s: own_series %t rising %t, want own series and rising %t", r.Name, r.OwnSeries, r.Rising, want[r.Name])
		}
	}
}
