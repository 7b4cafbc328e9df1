package remediate

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

var base = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

func points(start time.Time, values ...float64) []snapshot.Point {
	out := make([]snapshot.Point, len(values))
	for i, v := range values {
		out[i] = snapshot.Point{At: start.Add(time.Duration(i) * time.Minute), Value: v}
	}
	return out
}

func TestErrorRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    snapshot.Metrics
		want float64
	}{
		{"no traffic", snapshot.Metrics{}, 0},
		{"zero requests with errors", snapshot.Metrics{
			RequestCount: points(base.Add(-2*time.Minute), 0, 0), ServerErrorCount: points(base.Add(-2*time.Minute), 3, 3),
		}, 0},
		{"no errors", snapshot.Metrics{RequestCount: points(base.Add(-2*time.Minute), 100, 100, 100)}, 0},
		{"inside the window", snapshot.Metrics{
			RequestCount:     points(base.Add(-3*time.Minute), 100, 100, 100, 100),
			ServerErrorCount: points(base.Add(-3*time.Minute), 0, 10, 0, 30),
		}, 0.1},
		{"the window's first minute counts, older ones do not", snapshot.Metrics{
			RequestCount:     points(base.Add(-11*time.Minute), 1000, 100),
			ServerErrorCount: points(base.Add(-11*time.Minute), 1000, 50),
		}, 0.5},
		{"points after now are ignored", snapshot.Metrics{
			RequestCount:     points(base, 100, 100),
			ServerErrorCount: points(base, 10, 100),
		}, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errorRate(tc.m, base, 10*time.Minute); got != tc.want {
				t.Errorf("errorRate = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPinnedRevision(t *testing.T) {
	traffic := func(after []snapshot.TrafficTarget) snapshot.Change {
		return snapshot.Change{Path: snapshot.PathTraffic, After: snapshot.TrafficValue(after)}
	}
	for _, tc := range []struct {
		name    string
		changes []snapshot.Change
		want    string
	}{
		{"no changes", nil, ""},
		{"template only", []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}, ""},
		{"rollback", []snapshot.Change{traffic([]snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: "api-00042-abc", Percent: 100}})}, "api-00042-abc"},
		{"back to latest", []snapshot.Change{traffic([]snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}})}, ""},
		{"split", []snapshot.Change{traffic([]snapshot.TrafficTarget{
			{Type: snapshot.TrafficRevision, Revision: "a", Percent: 50}, {Type: snapshot.TrafficRevision, Revision: "b", Percent: 50},
		})}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := pinnedRevision(tc.changes); got != tc.want {
				t.Errorf("pinnedRevision(%v) = %q, want %q", tc.changes, got, tc.want)
			}
		})
	}
}

func TestRevertChanges(t *testing.T) {
	live := func(mem, cpu string) snapshot.Snapshot {
		return snapshot.Snapshot{Service: snapshot.Service{Template: snapshot.Template{Memory: mem, CPU: cpu}}}
	}
	raise := []snapshot.Change{
		{Path: snapshot.PathMemory, Before: snapshot.TextValue("4Gi"), After: snapshot.TextValue("8Gi")},
		{Path: snapshot.PathCPU, Before: snapshot.TextValue("1"), After: snapshot.TextValue("2")},
	}
	for _, tc := range []struct {
		name    string
		snap    snapshot.Snapshot
		applied []snapshot.Change
		want    []snapshot.Change
	}{
		{"memory and cpu", live("8Gi", "2"), raise, []snapshot.Change{
			{Path: snapshot.PathMemory, Before: snapshot.TextValue("8Gi"), After: snapshot.TextValue("4Gi")},
			{Path: snapshot.PathCPU, Before: snapshot.TextValue("2"), After: snapshot.TextValue("1")},
		}},
		{"against the live value, not the recorded after", live("16Gi", "4"), raise[:1], []snapshot.Change{
			{Path: snapshot.PathMemory, Before: snapshot.TextValue("16Gi"), After: snapshot.TextValue("4Gi")},
		}},
		{"already back", live("4Gi", "1"), raise, []snapshot.Change{}},
		{"memory already back, cpu not", live("4Gi", "2"), raise, []snapshot.Change{
			{Path: snapshot.PathCPU, Before: snapshot.TextValue("2"), After: snapshot.TextValue("1")},
		}},
		{"other paths are not reverted", live("2Gi", "1"), []snapshot.Change{
			{Path: snapshot.PathMaxConcurrency, Before: snapshot.IntValue(80), After: snapshot.IntValue(29)},
			{Path: snapshot.PathTraffic},
		}, []snapshot.Change{}},
		{"a before that is not text", live("8Gi", "2"), []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("8Gi")}}, []snapshot.Change{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := revertChanges(tc.snap, tc.applied)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("revertChanges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewerReady(t *testing.T) {
	pin := state.Pin{Revision: "api-00042", Since: base}
	rev := func(name string, age time.Duration, ready bool) snapshot.Revision {
		return snapshot.Revision{Name: name, CreatedAt: base.Add(-age), Ready: ready}
	}
	for _, tc := range []struct {
		name string
		revs []snapshot.Revision // newest first
		want string
	}{
		{"only the pinned revision", []snapshot.Revision{rev("api-00042", 3*time.Hour, true)}, ""},
		{"the revision rolled back from is older than the pin", []snapshot.Revision{
			rev("api-00043", 2*time.Hour, true), rev("api-00042", 3*time.Hour, true),
		}, ""},
		{"a deploy after the pin", []snapshot.Revision{
			rev("api-00044", -5*time.Minute, true), rev("api-00043", 2*time.Hour, true), rev("api-00042", 3*time.Hour, true),
		}, "api-00044"},
		{"the newest ready deploy", []snapshot.Revision{
			rev("api-00046", -9*time.Minute, false), rev("api-00045", -7*time.Minute, true), rev("api-00044", -5*time.Minute, true),
			rev("api-00042", 3*time.Hour, true),
		}, "api-00045"},
		{"a deploy that never became ready", []snapshot.Revision{
			rev("api-00044", -5*time.Minute, false), rev("api-00042", 3*time.Hour, true),
		}, ""},
		{"created at the pin instant", []snapshot.Revision{rev("api-00044", 0, true), rev("api-00042", 3*time.Hour, true)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := newerReady(tc.revs, pin); got != tc.want {
				t.Errorf("newerReady = %q, want %q", got, tc.want)
			}
		})
	}
}
