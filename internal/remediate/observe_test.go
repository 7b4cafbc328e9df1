package remediate_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestObserveReadsRevisionsAndLogs checks that a live observation carries what the fakes hold
// beyond the service-level series: memory per revision and the OOM kills in the logs.
func TestObserveReadsRevisionsAndLogs(t *testing.T) {
	e := newEnv(t, "regression-rollback", nil)
	revs := e.snap.Revisions
	if len(revs) < 2 {
		t.Fatalf("scenario has %d revisions, want at least 2", len(revs))
	}
	minutes := func(values ...float64) []snapshot.Point {
		pts := make([]snapshot.Point, len(values))
		for i, v := range values {
			pts[i] = snapshot.Point{At: e.t0.Add(time.Duration(i-len(values)+1) * time.Minute), Value: v}
		}
		return pts
	}
	wantByRev := map[string][]snapshot.Point{
		revs[0].Name: minutes(0.70, 0.80, 0.90),
		revs[1].Name: minutes(0.40, 0.41, 0.40),
	}
	for rev, pts := range wantByRev {
		e.mon.Set(monitoringtest.Series{Metric: monitoring.MetricMemory, Target: e.snap.Target, Revision: rev, Points: pts})
	}
	wantLogs := snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: revs[0].Name, Count: 3, LimitMiB: 512, MaxUsedMiB: 561.5, First: e.t0.Add(-40 * time.Minute), Last: e.t0.Add(-2 * time.Minute)},
	}}
	e.log.SeedFromSnapshot(snapshot.Snapshot{Target: e.snap.Target, Logs: &wantLogs})

	snap, _, _, err := e.r.Observe(e.ctx, e.alert, e.t0)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if diff := cmp.Diff(wantByRev, snap.Metrics.MemoryByRevision); diff != "" {
		t.Errorf("memory_by_revision (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&wantLogs, snap.Logs); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	if err := snap.Validate(); err != nil {
		t.Errorf("observed snapshot does not validate: %v", err)
	}
}

// TestObserveWithoutLogPermission checks that logs that cannot be read are recorded as such and
// the observation goes on.
func TestObserveWithoutLogPermission(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	e.log.FailNext(codes.PermissionDenied, -1)
	snap, _, _, err := e.r.Observe(e.ctx, e.alert, e.t0)
	if err != nil {
		t.Fatalf("Observe with logs denied: %v, want the observation to go on", err)
	}
	if snap.Logs == nil || snap.Logs.Available || snap.Logs.Error == "" {
		t.Errorf("logs = %+v, want unavailable with a reason", snap.Logs)
	}
	if len(snap.Metrics.MemoryUtilization) == 0 {
		t.Error("no memory series: the metrics were not read")
	}
}
