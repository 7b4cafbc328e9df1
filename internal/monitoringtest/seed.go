package monitoringtest

import (
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Metric types a snapshot's series are served under, as Cloud Run reports them.
const (
	metricMemory        = "run.googleapis.com/container/memory/utilizations"
	metricInstanceCount = "run.googleapis.com/container/instance_count"
	metricRequestCount  = "run.googleapis.com/request_count"
)

// SeedFromSnapshot scripts the series a snapshot holds, so that reading the snapshot's target back
// through the monitoring client yields its metrics: memory utilization, instance count, request
// count, the 5xx part of the request count, and memory utilization per revision. Points are served
// at the times they carry; shift the snapshot first (snapshot.Shifted) to make them end now.
//
// Each memory_by_revision series is served as that revision's series, beside the service-level
// series (which carries no revision): a read grouped by revision_name yields the per-revision
// series exactly, and the service-level MAX over revisions yields the snapshot's memory series
// wherever it is at least every revision's value, as Monitoring's own maximum is.
func (s *Server) SeedFromSnapshot(snap snapshot.Snapshot) {
	m, target := snap.Metrics, snap.Target
	s.SetSeries(metricMemory, target, m.MemoryUtilization, nil)
	for rev, points := range m.MemoryByRevision {
		s.Set(Series{Metric: metricMemory, Target: target, Revision: rev, Points: points})
	}
	s.SetSeries(metricInstanceCount, target, m.InstanceCount, nil)
	if len(m.ServerErrorCount) == 0 {
		s.SetSeries(metricRequestCount, target, m.RequestCount, nil)
		return
	}
	// The request count is the sum over response classes: keep the 5xx part apart so a
	// filter on response_code_class = "5xx" finds it, and the rest under another class.
	errs := map[int64]float64{}
	for _, p := range m.ServerErrorCount {
		errs[p.At.Unix()] = p.Value
	}
	rest := make([]snapshot.Point, 0, len(m.RequestCount))
	for _, p := range m.RequestCount {
		rest = append(rest, snapshot.Point{At: p.At, Value: max(p.Value-errs[p.At.Unix()], 0)})
	}
	s.SetSeries(metricRequestCount, target, rest, map[string]string{"response_code_class": "2xx"})
	s.SetSeries(metricRequestCount, target, m.ServerErrorCount, map[string]string{"response_code_class": "5xx"})
}
