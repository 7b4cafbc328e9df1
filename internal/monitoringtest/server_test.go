package monitoringtest

import (
	"context"
	"errors"
	"testing"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/snapshot"
)

const memMetric = "run.googleapis.com/container/memory/utilizations"

var (
	t0     = time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC)
	api    = snapshot.Target{Project: "p", Location: "europe-west1", Service: "api"}
	worker = snapshot.Target{Project: "p", Location: "europe-west1", Service: "worker"}
)

func minutes(start time.Time, values ...float64) []snapshot.Point {
	pts := make([]snapshot.Point, len(values))
	for i, v := range values {
		pts[i] = snapshot.Point{At: start.Add(time.Duration(i) * time.Minute), Value: v}
	}
	return pts
}

func client(t *testing.T, s *Server) *monitoring.MetricClient {
	t.Helper()
	c, err := monitoring.NewMetricClient(context.Background(), s.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewMetricClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func request(filter string, start, end time.Time, agg *monitoringpb.Aggregation) *monitoringpb.ListTimeSeriesRequest {
	return &monitoringpb.ListTimeSeriesRequest{
		Name:        "projects/p",
		Filter:      filter,
		Interval:    &monitoringpb.TimeInterval{StartTime: timestamppb.New(start), EndTime: timestamppb.New(end)},
		Aggregation: agg,
		View:        monitoringpb.ListTimeSeriesRequest_FULL,
	}
}

// list reads every page of the response through the client's iterator.
func list(t *testing.T, c *monitoring.MetricClient, req *monitoringpb.ListTimeSeriesRequest) ([]*monitoringpb.TimeSeries, error) {
	t.Helper()
	var out []*monitoringpb.TimeSeries
	it := c.ListTimeSeries(context.Background(), req)
	for {
		ts, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ts)
	}
}

func points(series []*monitoringpb.TimeSeries) []snapshot.Point {
	var out []snapshot.Point
	for _, ts := range series {
		for _, p := range ts.GetPoints() {
			v := p.GetValue().GetDoubleValue()
			if _, ok := p.GetValue().GetValue().(*monitoringpb.TypedValue_Int64Value); ok {
				v = float64(p.GetValue().GetInt64Value())
			}
			out = append(out, snapshot.Point{At: p.GetInterval().GetEndTime().AsTime(), Value: v})
		}
	}
	return out
}

func TestListFiltersByServiceAndInterval(t *testing.T) {
	s := New(t)
	s.SetSeries(memMetric, api, minutes(t0, 0.1, 0.2, 0.3, 0.4, 0.5), nil)
	s.SetSeries(memMetric, worker, minutes(t0, 0.9, 0.9, 0.9, 0.9, 0.9), nil)
	c := client(t, s)

	filter := `metric.type = "` + memMetric + `" AND resource.labels.service_name = "api"`
	got, err := list(t, c, request(filter, t0.Add(time.Minute), t0.Add(3*time.Minute), nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []snapshot.Point{ // newest first, both ends inclusive
		{At: t0.Add(3 * time.Minute), Value: 0.4},
		{At: t0.Add(2 * time.Minute), Value: 0.3},
		{At: t0.Add(time.Minute), Value: 0.2},
	}
	if diff := cmp.Diff(want, points(got)); diff != "" {
		t.Errorf("points (-want +got):\n%s", diff)
	}

	// Another project sees nothing.
	req := request(filter, t0, t0.Add(time.Hour), nil)
	req.Name = "projects/other"
	if got, err := list(t, c, req); err != nil || len(got) != 0 {
		t.Errorf("list in another project = %d series, %v; want none", len(got), err)
	}
}

func TestListReducesPerGroup(t *testing.T) {
	s := New(t)
	s.Set(Series{Metric: memMetric, Target: api, Revision: "api-1", Points: minutes(t0, 0.2, 0.7)})
	s.Set(Series{Metric: memMetric, Target: api, Revision: "api-2", Points: minutes(t0, 0.5, 0.1)})
	s.SetSeries("run.googleapis.com/request_count", api, minutes(t0, 100, 120), map[string]string{"response_code_class": "2xx"})
	s.SetSeries("run.googleapis.com/request_count", api, minutes(t0, 3, 5), map[string]string{"response_code_class": "5xx"})
	c := client(t, s)

	agg := func(r monitoringpb.Aggregation_Reducer, by ...string) *monitoringpb.Aggregation {
		return &monitoringpb.Aggregation{AlignmentPeriod: durationpb.New(time.Minute),
			PerSeriesAligner: monitoringpb.Aggregation_ALIGN_MAX, CrossSeriesReducer: r, GroupByFields: by}
	}
	tests := []struct {
		name   string
		filter string
		agg    *monitoringpb.Aggregation
		want   []snapshot.Point
	}{
		{"max over revisions", `metric.type = "` + memMetric + `"`,
			agg(monitoringpb.Aggregation_REDUCE_MAX, "resource.label.service_name"),
			[]snapshot.Point{{At: t0.Add(time.Minute), Value: 0.7}, {At: t0, Value: 0.5}}},
		{"sum over classes", `metric.type = "run.googleapis.com/request_count"`,
			agg(monitoringpb.Aggregation_REDUCE_SUM, "resource.label.service_name"),
			[]snapshot.Point{{At: t0.Add(time.Minute), Value: 125}, {At: t0, Value: 103}}},
		{"5xx only", `metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"`,
			agg(monitoringpb.Aggregation_REDUCE_SUM, "metric.label.response_code_class"),
			[]snapshot.Point{{At: t0.Add(time.Minute), Value: 5}, {At: t0, Value: 3}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := list(t, c, request(tt.filter, t0, t0.Add(time.Hour), tt.agg))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("got %d series, want 1 group", len(got))
			}
			if diff := cmp.Diff(tt.want, points(got)); diff != "" {
				t.Errorf("points (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListPages(t *testing.T) {
	s := New(t)
	values := make([]float64, 30)
	for i := range values {
		values[i] = float64(i)
	}
	s.SetSeries(memMetric, api, minutes(t0, values...), nil)
	s.SetPageSize(7)
	c := client(t, s)

	got, err := list(t, c, request(`metric.type = "`+memMetric+`"`, t0, t0.Add(time.Hour), nil))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(points(got)); n != 30 {
		t.Errorf("got %d points over all pages, want 30", n)
	}
	if n := len(s.Requests()); n != 5 {
		t.Errorf("server saw %d requests, want 5 pages of at most 7 points", n)
	}
}

func TestFailNext(t *testing.T) {
	s := New(t)
	s.SetSeries(memMetric, api, minutes(t0, 0.5), nil)
	c := client(t, s)
	req := request(`metric.type = "`+memMetric+`"`, t0, t0.Add(time.Hour), nil)

	s.FailNext(codes.PermissionDenied, 1)
	if _, err := list(t, c, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("first list error = %v, want PermissionDenied", err)
	}
	if got, err := list(t, c, req); err != nil || len(got) != 1 {
		t.Errorf("second list = %d series, %v; want 1 series, nil", len(got), err)
	}
}

func TestListRejectsWhatTheRealAPIRejects(t *testing.T) {
	s := New(t)
	c := client(t, s)
	good := `metric.type = "` + memMetric + `"`
	tests := []struct {
		name string
		req  *monitoringpb.ListTimeSeriesRequest
	}{
		{"bad name", func() *monitoringpb.ListTimeSeriesRequest {
			r := request(good, t0, t0, nil)
			r.Name = "p"
			return r
		}()},
		{"no metric type", request(`resource.type = "cloud_run_revision"`, t0, t0, nil)},
		{"regex", request(`metric.type =~ "run.*"`, t0, t0, nil)},
		{"or", request(good+` OR metric.type = "x"`, t0, t0, nil)},
		{"unquoted", request(`metric.type = x`, t0, t0, nil)},
		{"unknown key", request(good+` AND project = "p"`, t0, t0, nil)},
		{"start after end", request(good, t0.Add(time.Minute), t0, nil)},
		{"reducer without aligner", request(good, t0, t0, &monitoringpb.Aggregation{
			CrossSeriesReducer: monitoringpb.Aggregation_REDUCE_SUM})},
		{"short period", request(good, t0, t0, &monitoringpb.Aggregation{AlignmentPeriod: durationpb.New(time.Second),
			PerSeriesAligner: monitoringpb.Aggregation_ALIGN_MAX})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := list(t, c, tt.req); status.Code(err) != codes.InvalidArgument {
				t.Errorf("ListTimeSeries(%s) error = %v, want InvalidArgument", tt.req.GetFilter(), err)
			}
		})
	}
}

func TestParseFilter(t *testing.T) {
	got, err := parseFilter(`metric.type = "m" AND resource.labels.service_name="a \"b\"" AND  metric.label.x = "AND y"`)
	if err != nil {
		t.Fatal(err)
	}
	want := []clause{{"metric.type", "m"}, {"resource.label.service_name", `a "b"`}, {"metric.label.x", "AND y"}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(clause{})); diff != "" {
		t.Errorf("parseFilter (-want +got):\n%s", diff)
	}
}
