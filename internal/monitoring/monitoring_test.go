package monitoring

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var (
	now    = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)
	target = snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"}
)

// minutes returns one point a minute starting at start, oldest first.
func minutes(start time.Time, values ...float64) []snapshot.Point {
	pts := make([]snapshot.Point, len(values))
	for i, v := range values {
		pts[i] = snapshot.Point{At: start.Add(time.Duration(i) * time.Minute), Value: v}
	}
	return pts
}

func setup(t *testing.T) (*monitoringtest.Server, *Client) {
	t.Helper()
	srv := monitoringtest.New(t)
	c, err := New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func TestSeries(t *testing.T) {
	srv, c := setup(t)
	start := now.Add(-DefaultWindow)
	var memA, memB, want []float64
	for i := range 181 { // [now-3h, now] inclusive
		a, b := 0.30+float64(i)/1000, 0.35
		memA, memB = append(memA, a), append(memB, b)
		want = append(want, max(a, b))
	}
	srv.Set(monitoringtest.Series{Metric: MetricMemory, Target: target, Revision: "aiprod-api-00041", Points: minutes(start, memA...)})
	srv.Set(monitoringtest.Series{Metric: MetricMemory, Target: target, Revision: "aiprod-api-00042", Points: minutes(start, memB...)})
	// Outside the window, another service, the same name in another region: all ignored.
	srv.SetSeries(MetricMemory, target, minutes(start.Add(-time.Hour), 0.99, 0.99), map[string]string{"x": "old"})
	srv.SetSeries(MetricMemory, snapshot.Target{Project: target.Project, Location: target.Location, Service: "other"}, minutes(start, 0.99), nil)
	srv.SetSeries(MetricMemory, snapshot.Target{Project: target.Project, Location: "us-central1", Service: target.Service}, minutes(start, 0.99), nil)

	last := now.Add(-2 * time.Minute)
	srv.SetSeries(MetricInstanceCount, target, minutes(last, 3, 4, 4), map[string]string{"state": "active"})
	srv.SetSeries(MetricInstanceCount, target, minutes(last, 1, 0, 2), map[string]string{"state": "idle"})
	for class, vs := range map[string][]float64{"2xx": {1000, 1100, 1200}, "4xx": {10, 0, 10}, "5xx": {0, 7, 30}} {
		srv.SetSeries(MetricRequestCount, target, minutes(last, vs...), map[string]string{"response_code_class": class})
	}
	srv.SetPageSize(50) // the memory series spans four pages

	got, err := c.Series(context.Background(), target, now, 0)
	if err != nil {
		t.Fatalf("Series: %v", err)
	}
	wantMetrics := snapshot.Metrics{
		MemoryUtilization: minutes(start, want...),
		MemoryByRevision: map[string][]snapshot.Point{
			"aiprod-api-00041": minutes(start, memA...),
			"aiprod-api-00042": minutes(start, memB...),
		},
		InstanceCount:    minutes(last, 4, 4, 6),
		RequestCount:     minutes(last, 1010, 1107, 1240),
		ServerErrorCount: minutes(last, 0, 7, 30),
	}
	if diff := cmp.Diff(wantMetrics, got); diff != "" {
		t.Errorf("Series (-want +got):\n%s", diff)
	}
}

func TestSeriesMissingDataIsEmpty(t *testing.T) {
	srv, c := setup(t)
	// Minutes 1 and 3 have no data: they stay absent, never zero.
	gappy := []snapshot.Point{{At: now.Add(-4 * time.Minute), Value: 0.5}, {At: now.Add(-2 * time.Minute), Value: 0.6}, {At: now, Value: 0.7}}
	srv.SetSeries(MetricMemory, target, gappy, nil)

	got, err := c.Series(context.Background(), target, now, time.Hour)
	if err != nil {
		t.Fatalf("Series: %v", err)
	}
	if diff := cmp.Diff(gappy, got.MemoryUtilization); diff != "" {
		t.Errorf("MemoryUtilization (-want +got):\n%s", diff)
	}
	for name, s := range map[string][]snapshot.Point{
		"InstanceCount": got.InstanceCount, "RequestCount": got.RequestCount, "ServerErrorCount": got.ServerErrorCount,
	} {
		if s == nil || len(s) != 0 {
			t.Errorf("%s = %#v, want an empty, non-nil series", name, s)
		}
	}
}

func TestSeriesErrors(t *testing.T) {
	tests := []struct {
		name      string
		code      codes.Code
		retryable bool // snapshot.Retryable, as the orchestrator judges it without gRPC
	}{
		{"permission denied", codes.PermissionDenied, false},
		{"quota", codes.ResourceExhausted, true},
		{"bad request", codes.InvalidArgument, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := setup(t)
			srv.FailNext(tt.code, 1)
			_, err := c.Series(context.Background(), target, now, 0)
			if got := status.Code(err); got != tt.code {
				t.Fatalf("status.Code(Series error %v) = %v, want %v", err, got, tt.code)
			}
			if got := snapshot.Retryable(err); got != tt.retryable {
				t.Errorf("snapshot.Retryable(%v) = %v, want %v", err, got, tt.retryable)
			}
			if msg := err.Error(); !strings.Contains(msg, "run.googleapis.com/") || !strings.Contains(msg, target.Name()) {
				t.Errorf("error %q does not name the metric and the service", msg)
			}
		})
	}
}

func TestSeriesRetriesUnavailable(t *testing.T) {
	srv, c := setup(t)
	srv.SetSeries(MetricMemory, target, minutes(now.Add(-time.Minute), 0.4, 0.5), nil)
	srv.FailNext(codes.Unavailable, 1)
	got, err := c.Series(context.Background(), target, now, 0)
	if err != nil {
		t.Fatalf("Series after one UNAVAILABLE = %v, want the library's retry to succeed", err)
	}
	if len(got.MemoryUtilization) != 2 {
		t.Errorf("len(MemoryUtilization) = %d, want 2", len(got.MemoryUtilization))
	}
}

func TestSeriesIncompleteTarget(t *testing.T) {
	_, c := setup(t)
	if _, err := c.Series(context.Background(), snapshot.Target{Project: "p", Service: "s"}, now, 0); err == nil {
		t.Errorf("Series(target without location) error = nil, want an error")
	}
}

// TestSeriesRequests pins the aggregation asked of Monitoring: it is the contract with the real
// API (percentile before MAX on a distribution; DELTA counts summed), which a fake cannot judge.
func TestSeriesRequests(t *testing.T) {
	srv, c := setup(t)
	if _, err := c.Series(context.Background(), target, now, 2*time.Hour); err != nil {
		t.Fatalf("Series: %v", err)
	}
	base := Filter("", target)[len(`metric.type = ""`):]
	agg := func(a monitoringpb.Aggregation_Aligner, r monitoringpb.Aggregation_Reducer, by ...string) *monitoringpb.Aggregation {
		return &monitoringpb.Aggregation{AlignmentPeriod: durationpb.New(time.Minute), PerSeriesAligner: a, CrossSeriesReducer: r, GroupByFields: by}
	}
	interval := &monitoringpb.TimeInterval{StartTime: timestamppb.New(now.Add(-2 * time.Hour)), EndTime: timestamppb.New(now)}
	// Keyed by filter and the first group-by field: memory is read for the service and per revision.
	want := map[string]*monitoringpb.Aggregation{
		`metric.type = "run.googleapis.com/container/memory/utilizations"` + base + " BY resource.label.service_name": agg(
			monitoringpb.Aggregation_ALIGN_PERCENTILE_99, monitoringpb.Aggregation_REDUCE_MAX, "resource.label.service_name"),
		`metric.type = "run.googleapis.com/container/memory/utilizations"` + base + " BY resource.label.revision_name": agg(
			monitoringpb.Aggregation_ALIGN_PERCENTILE_99, monitoringpb.Aggregation_REDUCE_MAX, "resource.label.revision_name"),
		`metric.type = "run.googleapis.com/container/instance_count"` + base + " BY resource.label.service_name": agg(
			monitoringpb.Aggregation_ALIGN_MAX, monitoringpb.Aggregation_REDUCE_SUM, "resource.label.service_name"),
		`metric.type = "run.googleapis.com/request_count"` + base + " BY resource.label.service_name": agg(
			monitoringpb.Aggregation_ALIGN_DELTA, monitoringpb.Aggregation_REDUCE_SUM, "resource.label.service_name"),
		`metric.type = "run.googleapis.com/request_count"` + base + ` AND metric.labels.response_code_class = "5xx"` + " BY resource.label.service_name": agg(
			monitoringpb.Aggregation_ALIGN_DELTA, monitoringpb.Aggregation_REDUCE_SUM,
			"resource.label.service_name", "metric.label.response_code_class"),
	}
	got := map[string]*monitoringpb.Aggregation{}
	for _, r := range srv.Requests() {
		if r.GetName() != "projects/aiprod-484120" {
			t.Errorf("request name = %q, want projects/aiprod-484120", r.GetName())
		}
		if diff := cmp.Diff(interval, r.GetInterval(), protocmp.Transform()); diff != "" {
			t.Errorf("interval of %s (-want +got):\n%s", r.GetFilter(), diff)
		}
		got[r.GetFilter()+" BY "+r.GetAggregation().GetGroupByFields()[0]] = r.GetAggregation()
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("aggregation by filter (-want +got):\n%s", diff)
	}
}

// TestSeriesFromSeededSnapshot reads back what the fake serves for a snapshot: the service-level
// series and each revision's series, as `runmedic fakes` and the sandbox serve them.
func TestSeriesFromSeededSnapshot(t *testing.T) {
	srv, c := setup(t)
	start := now.Add(-10 * time.Minute)
	want := snapshot.Metrics{
		MemoryUtilization: minutes(start, 0.50, 0.62, 0.71, 0.88),
		InstanceCount:     minutes(start, 2, 2, 3, 3),
		RequestCount:      minutes(start, 100, 120, 130, 90),
		ServerErrorCount:  minutes(start, 0, 1, 0, 4),
		MemoryByRevision: map[string][]snapshot.Point{
			"aiprod-api-00042-abc": minutes(start, 0.50, 0.50, 0.49, 0.51),
			"aiprod-api-00043-kyt": minutes(start, 0.31, 0.62, 0.71, 0.88),
		},
	}
	srv.SeedFromSnapshot(snapshot.Snapshot{Target: target, Metrics: want})
	got, err := c.Series(context.Background(), target, now, time.Hour)
	if err != nil {
		t.Fatalf("Series: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Series of a seeded snapshot (-want +got):\n%s", diff)
	}
}

// TestMemory: the views' read is the service's memory series alone, in one query, equal to what
// Series reads for it.
func TestMemory(t *testing.T) {
	srv, c := setup(t)
	start := now.Add(-time.Hour)
	srv.SetSeries(MetricMemory, target, minutes(start, 0.5, 0.6, 0.7), nil)
	srv.SetSeries(MetricRequestCount, target, minutes(start, 100, 200, 300), nil)
	m, err := c.Series(context.Background(), target, now, 2*time.Hour)
	if err != nil {
		t.Fatalf("Series: %v", err)
	}
	before := len(srv.Requests())
	got, err := c.Memory(context.Background(), target, now, 2*time.Hour)
	if err != nil {
		t.Fatalf("Memory: %v", err)
	}
	if diff := cmp.Diff(m.MemoryUtilization, got); diff != "" || len(got) != 3 {
		t.Errorf("Memory() differs from Series().MemoryUtilization (-series +memory):\n%s", diff)
	}
	if n := len(srv.Requests()) - before; n != 1 {
		t.Errorf("Memory made %d ListTimeSeries requests, want 1", n)
	}
}
