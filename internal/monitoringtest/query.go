package monitoringtest

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// int64Metrics are the Cloud Run metrics whose values are INT64; scripted values for them are
// rounded to integers unless an aligner or reducer makes the output DOUBLE.
var int64Metrics = map[string]bool{
	"run.googleapis.com/request_count":            true,
	"run.googleapis.com/container/instance_count": true,
}

// query is a validated ListTimeSeries request.
type query struct {
	project    string
	clauses    []clause
	start, end time.Time
	aligner    monitoringpb.Aggregation_Aligner
	reducer    monitoringpb.Aggregation_Reducer
	groupBy    []string // normalised keys
}

func parseRequest(req *monitoringpb.ListTimeSeriesRequest) (query, error) {
	var q query
	project, ok := strings.CutPrefix(req.GetName(), "projects/")
	if !ok || project == "" || strings.Contains(project, "/") {
		return q, fmt.Errorf("name %q: want projects/PROJECT", req.GetName())
	}
	q.project = project
	clauses, err := parseFilter(req.GetFilter())
	if err != nil {
		return q, err
	}
	if !slices.ContainsFunc(clauses, func(c clause) bool { return c.key == "metric.type" }) {
		return q, fmt.Errorf("filter %q names no metric.type", req.GetFilter())
	}
	q.clauses = clauses
	iv := req.GetInterval()
	if iv.GetEndTime() == nil {
		return q, errors.New("interval.end_time is required")
	}
	q.end = iv.GetEndTime().AsTime()
	q.start = q.end
	if iv.GetStartTime() != nil {
		q.start = iv.GetStartTime().AsTime()
	}
	if q.start.After(q.end) {
		return q, fmt.Errorf("interval start %v is after end %v", q.start, q.end)
	}
	agg := req.GetAggregation()
	if agg == nil {
		return q, nil
	}
	q.aligner, q.reducer = agg.GetPerSeriesAligner(), agg.GetCrossSeriesReducer()
	if q.aligner != monitoringpb.Aggregation_ALIGN_NONE && agg.GetAlignmentPeriod().AsDuration() < time.Minute {
		return q, fmt.Errorf("alignment_period %v: must be at least 60s", agg.GetAlignmentPeriod().AsDuration())
	}
	if q.aligner == monitoringpb.Aggregation_ALIGN_NONE && q.reducer != monitoringpb.Aggregation_REDUCE_NONE {
		return q, errors.New("a cross-series reducer needs a per-series aligner other than ALIGN_NONE")
	}
	switch q.reducer {
	case monitoringpb.Aggregation_REDUCE_NONE, monitoringpb.Aggregation_REDUCE_SUM, monitoringpb.Aggregation_REDUCE_MAX,
		monitoringpb.Aggregation_REDUCE_MIN, monitoringpb.Aggregation_REDUCE_MEAN, monitoringpb.Aggregation_REDUCE_COUNT:
	default:
		return q, fmt.Errorf("reducer %v not supported by monitoringtest", q.reducer)
	}
	for _, f := range agg.GetGroupByFields() {
		k := normaliseKey(f)
		if !knownKey(k) || !strings.Contains(k, ".label.") {
			return q, fmt.Errorf("group_by_fields: unsupported field %q", f)
		}
		q.groupBy = append(q.groupBy, k)
	}
	return q, nil
}

func (q query) matches(ts Series) bool {
	if ts.Target.Project != q.project {
		return false
	}
	for _, c := range q.clauses {
		if lookup(ts, c.key) != c.value {
			return false
		}
	}
	return true
}

// aggregate keeps the points inside the interval, applies the cross-series reducer per group and
// returns the series with points newest first. Series without points are left out, as the real
// API leaves them out.
func (q query) aggregate(matched []Series) []*monitoringpb.TimeSeries {
	var out []*monitoringpb.TimeSeries
	if q.reducer == monitoringpb.Aggregation_REDUCE_NONE {
		for _, ts := range matched {
			labels := allLabels(ts)
			if p := q.inside(ts.Points); len(p) > 0 {
				out = append(out, q.timeSeries(ts.Metric, labels, p))
			}
		}
		return out
	}
	type group struct {
		labels map[string]string
		values map[time.Time][]float64
	}
	groups := map[string]*group{}
	var keys []string
	for _, ts := range matched {
		labels := map[string]string{}
		var key strings.Builder
		for _, k := range q.groupBy {
			labels[k] = lookup(ts, k)
			key.WriteString(strconv.Quote(labels[k]))
		}
		g := groups[key.String()]
		if g == nil {
			g = &group{labels: labels, values: map[time.Time][]float64{}}
			groups[key.String()] = g
			keys = append(keys, key.String())
		}
		for _, p := range q.inside(ts.Points) {
			g.values[p.At] = append(g.values[p.At], p.Value)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g := groups[k]
		var pts []snapshot.Point
		for at, vs := range g.values {
			pts = append(pts, snapshot.Point{At: at, Value: reduce(q.reducer, vs)})
		}
		if len(pts) > 0 {
			out = append(out, q.timeSeries(matched[0].Metric, g.labels, pts))
		}
	}
	return out
}

// inside returns the points within [start, end], UTC.
func (q query) inside(points []snapshot.Point) []snapshot.Point {
	var out []snapshot.Point
	for _, p := range points {
		if !p.At.Before(q.start) && !p.At.After(q.end) {
			out = append(out, snapshot.Point{At: p.At.UTC(), Value: p.Value})
		}
	}
	return out
}

func reduce(r monitoringpb.Aggregation_Reducer, vs []float64) float64 {
	switch r {
	case monitoringpb.Aggregation_REDUCE_MAX:
		return slices.Max(vs)
	case monitoringpb.Aggregation_REDUCE_MIN:
		return slices.Min(vs)
	case monitoringpb.Aggregation_REDUCE_COUNT:
		return float64(len(vs))
	}
	var sum float64
	for _, v := range vs {
		sum += v
	}
	if r == monitoringpb.Aggregation_REDUCE_MEAN {
		return sum / float64(len(vs))
	}
	return sum
}

// intOutput reports whether the served values are INT64, following the aligner and reducer rules
// of common.proto: rate, mean and percentile aligners and the mean reducer make DOUBLE.
func (q query) intOutput(metricType string) bool {
	if !int64Metrics[metricType] || q.reducer == monitoringpb.Aggregation_REDUCE_MEAN {
		return false
	}
	switch q.aligner {
	case monitoringpb.Aggregation_ALIGN_NONE, monitoringpb.Aggregation_ALIGN_DELTA, monitoringpb.Aggregation_ALIGN_SUM,
		monitoringpb.Aggregation_ALIGN_MAX, monitoringpb.Aggregation_ALIGN_MIN, monitoringpb.Aggregation_ALIGN_COUNT,
		monitoringpb.Aggregation_ALIGN_NEXT_OLDER:
		return true
	}
	return false
}

// timeSeries builds one response series from normalised labels and points, newest first.
func (q query) timeSeries(metricType string, labels map[string]string, pts []snapshot.Point) *monitoringpb.TimeSeries {
	ts := &monitoringpb.TimeSeries{
		Metric:     &metric.Metric{Type: metricType, Labels: map[string]string{}},
		Resource:   &monitoredres.MonitoredResource{Type: resourceType, Labels: map[string]string{}},
		MetricKind: metric.MetricDescriptor_GAUGE,
		ValueType:  metric.MetricDescriptor_DOUBLE,
	}
	for k, v := range labels {
		if name, ok := strings.CutPrefix(k, "resource.label."); ok {
			ts.Resource.Labels[name] = v
		} else if name, ok := strings.CutPrefix(k, "metric.label."); ok {
			ts.Metric.Labels[name] = v
		}
	}
	isInt := q.intOutput(metricType)
	if isInt {
		ts.ValueType = metric.MetricDescriptor_INT64
	}
	slices.SortFunc(pts, func(a, b snapshot.Point) int { return b.At.Compare(a.At) })
	for _, p := range pts {
		at := timestamppb.New(p.At)
		v := &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: p.Value}}
		if isInt {
			v.Value = &monitoringpb.TypedValue_Int64Value{Int64Value: int64(math.Round(p.Value))}
		}
		ts.Points = append(ts.Points, &monitoringpb.Point{
			Interval: &monitoringpb.TimeInterval{StartTime: at, EndTime: at},
			Value:    v,
		})
	}
	return ts
}

func allLabels(ts Series) map[string]string {
	labels := map[string]string{}
	for _, k := range []string{"project_id", "location", "service_name", "configuration_name", "revision_name"} {
		labels["resource.label."+k] = lookup(ts, "resource.label."+k)
	}
	for k, v := range ts.MetricLabels {
		labels["metric.label."+k] = v
	}
	return labels
}

// page cuts the response at size points (0: no limit), resuming at the offset in token.
func page(all []*monitoringpb.TimeSeries, token string, size int) (*monitoringpb.ListTimeSeriesResponse, error) {
	offset := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 {
			return nil, status.Errorf(codes.InvalidArgument, "page_token %q: not issued by this server", token)
		}
		offset = n
	}
	resp := &monitoringpb.ListTimeSeriesResponse{}
	seen, taken := 0, 0
	for _, ts := range all {
		var pts []*monitoringpb.Point
		for _, p := range ts.GetPoints() {
			if seen >= offset && (size == 0 || taken < size) {
				pts = append(pts, p)
				taken++
			}
			seen++
		}
		if len(pts) > 0 {
			chunk := proto.CloneOf(ts)
			chunk.Points = pts
			resp.TimeSeries = append(resp.TimeSeries, chunk)
		}
	}
	if offset+taken < seen {
		resp.NextPageToken = strconv.Itoa(offset + taken)
	}
	return resp, nil
}
