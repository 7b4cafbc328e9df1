// Package monitoring reads a Cloud Run service's time series from Cloud Monitoring into
// snapshot.Metrics: one point a minute, oldest first, and an empty series (never zeros) where
// Monitoring has no data.
package monitoring

import (
	"context"
	"errors"
	"fmt"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"slices"
	"strconv"
	"sync"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// DefaultWindow is how far back Series reads when given no window: the snapshot contract asks for
// at least the last 3 hours.
const DefaultWindow = snapshot.Window

// Alignment is the period every series is aligned to: one point a minute.
const Alignment = time.Minute

// Metric types read from Cloud Run.
const (
	MetricMemory        = "run.googleapis.com/container/memory/utilizations"
	MetricInstanceCount = "run.googleapis.com/container/instance_count"
	MetricRequestCount  = "run.googleapis.com/request_count"
)

// Client reads time series. It is safe for concurrent use.
type Client struct {
	mc *monitoring.MetricClient
}

// New connects to Cloud Monitoring; opts are passed to the client library (credentials, or an
// endpoint such as a monitoringtest server).
func New(ctx context.Context, opts ...option.ClientOption) (*Client, error) {
	mc, err := monitoring.NewMetricClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("new monitoring client: %w", err)
	}
	return &Client{mc: mc}, nil
}

// Close releases the connection.
func (c *Client) Close() error { return c.mc.Close() }

// query is one series of snapshot.Metrics and how Monitoring is asked for it.
type query struct {
	name    string // for errors: the metric and, for sub-series, what narrows it
	metric  string
	extra   string // filter terms beyond metric, resource type and service
	aligner monitoringpb.Aggregation_Aligner
	reducer monitoringpb.Aggregation_Reducer
	groupBy []string
	into    func(*snapshot.Metrics) *[]snapshot.Point
	combine func(a, b float64) float64 // for two series that land on one minute
	// perRevision keeps the series of each revision apart (by the revision_name resource
	// label) in Metrics.MemoryByRevision instead of filling into.
	perRevision bool
}

func sum(a, b float64) float64    { return a + b }
func larger(a, b float64) float64 { return max(a, b) }

// queries follow Monitoring's aggregation rules (common.proto): memory utilization is a
// distribution, so a percentile aligner comes before the MAX reducer; request_count is a DELTA
// INT64, aligned per minute with ALIGN_DELTA and summed across revisions.
var queries = []query{
	{
		name: MetricMemory, metric: MetricMemory,
		aligner: monitoringpb.Aggregation_ALIGN_PERCENTILE_99, reducer: monitoringpb.Aggregation_REDUCE_MAX,
		groupBy: []string{"resource.label.service_name"},
		into:    func(m *snapshot.Metrics) *[]snapshot.Point { return &m.MemoryUtilization },
		combine: larger,
	},
	{
		name: MetricInstanceCount, metric: MetricInstanceCount,
		aligner: monitoringpb.Aggregation_ALIGN_MAX, reducer: monitoringpb.Aggregation_REDUCE_SUM,
		groupBy: []string{"resource.label.service_name"},
		into:    func(m *snapshot.Metrics) *[]snapshot.Point { return &m.InstanceCount },
		combine: sum,
	},
	{
		name: MetricRequestCount, metric: MetricRequestCount,
		aligner: monitoringpb.Aggregation_ALIGN_DELTA, reducer: monitoringpb.Aggregation_REDUCE_SUM,
		groupBy: []string{"resource.label.service_name"},
		into:    func(m *snapshot.Metrics) *[]snapshot.Point { return &m.RequestCount },
		combine: sum,
	},
	{
		name: MetricRequestCount + " (5xx)", metric: MetricRequestCount,
		extra:   ` AND metric.labels.response_code_class = "5xx"`,
		aligner: monitoringpb.Aggregation_ALIGN_DELTA, reducer: monitoringpb.Aggregation_REDUCE_SUM,
		groupBy: []string{"resource.label.service_name", "metric.label.response_code_class"},
		into:    func(m *snapshot.Metrics) *[]snapshot.Point { return &m.ServerErrorCount },
		combine: sum,
	},
	{
		name: MetricMemory + " (per revision)", metric: MetricMemory,
		aligner: monitoringpb.Aggregation_ALIGN_PERCENTILE_99, reducer: monitoringpb.Aggregation_REDUCE_MAX,
		groupBy:     []string{"resource.label.revision_name"},
		combine:     larger,
		perRevision: true,
	},
}

// revisionLabel is the resource label the per-revision read groups by.
const revisionLabel = "revision_name"

// Series reads the service's memory utilization, instance count, request count and 5xx count over
// [now-window, now] (DefaultWindow when window <= 0), and memory utilization per revision. The
// five reads run concurrently; if any
// fails, Series returns the first failure in that order, wrapped with the metric name, and the
// gRPC status stays readable with status.Code. A failure cloudrun.IsRetryable judges transient
// (the same codes) is marked snapshot.Transient for the orchestrator.
func (c *Client) Series(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) (snapshot.Metrics, error) {
	m, err := c.read(ctx, target, now, window, queries)
	if cloudrun.IsRetryable(err) {
		err = snapshot.Transient(err)
	}
	return m, err
}

// Memory reads only the service's memory utilization over [now-window, now], for views that
// draw it and need nothing else: one query instead of Series' five.
func (c *Client) Memory(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) ([]snapshot.Point, error) {
	m, err := c.read(ctx, target, now, window, queries[:1])
	return m.MemoryUtilization, err
}

// read runs qs concurrently and fills their series into one Metrics.
func (c *Client) read(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration, qs []query) (snapshot.Metrics, error) {
	if target.Project == "" || target.Location == "" || target.Service == "" {
		return snapshot.Metrics{}, fmt.Errorf("read metrics: incomplete target %+v", target)
	}
	if window <= 0 {
		window = DefaultWindow
	}
	interval := &monitoringpb.TimeInterval{
		StartTime: timestamppb.New(now.Add(-window)),
		EndTime:   timestamppb.New(now),
	}
	results := make([]map[string][]snapshot.Point, len(qs))
	errs := make([]error, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Go(func() {
			results[i], errs[i] = c.list(ctx, q, target, interval)
		})
	}
	wg.Wait()

	var m snapshot.Metrics
	for i, q := range qs {
		if errs[i] != nil {
			return snapshot.Metrics{}, fmt.Errorf("read %s of %s: %w", q.name, target.Name(), errs[i])
		}
		if q.perRevision {
			m.MemoryByRevision = results[i]
			continue
		}
		*q.into(&m) = results[i][""]
	}
	return m, nil
}

// Filter is the Monitoring filter selecting metric on the revisions of target.
func Filter(metric string, target snapshot.Target) string {
	return "metric.type = " + strconv.Quote(metric) +
		` AND resource.type = "cloud_run_revision"` +
		" AND resource.labels.service_name = " + strconv.Quote(target.Service) +
		" AND resource.labels.location = " + strconv.Quote(target.Location)
}

// readOpts bound each page read: quick retries on UNAVAILABLE for at most 10 s, then the error
// goes back to the caller (from the function, to Pub/Sub for redelivery). The library's default
// retries for up to 90 s, too long inside one delivery.
func readOpts() []gax.CallOption {
	return []gax.CallOption{
		gax.WithTimeout(10 * time.Second),
		gax.WithRetry(func() gax.Retryer {
			return gax.OnCodes([]codes.Code{codes.Unavailable},
				gax.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond, Multiplier: 2})
		}),
	}
}

// list reads every page of one query and returns its points oldest first, one per minute: under
// the revision name for a per-revision query (nil when there is none), else under "".
func (c *Client) list(ctx context.Context, q query, target snapshot.Target, interval *monitoringpb.TimeInterval) (map[string][]snapshot.Point, error) {
	it := c.mc.ListTimeSeries(ctx, &monitoringpb.ListTimeSeriesRequest{
		Name:     "projects/" + target.Project,
		Filter:   Filter(q.metric, target) + q.extra,
		Interval: interval,
		Aggregation: &monitoringpb.Aggregation{
			AlignmentPeriod:    durationpb.New(Alignment),
			PerSeriesAligner:   q.aligner,
			CrossSeriesReducer: q.reducer,
			GroupByFields:      q.groupBy,
		},
		View: monitoringpb.ListTimeSeriesRequest_FULL,
	}, readOpts()...)
	byKey := map[string]map[time.Time]float64{}
	for {
		ts, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, err
		}
		key := ""
		if q.perRevision {
			if key = ts.GetResource().GetLabels()[revisionLabel]; key == "" {
				continue // a series Monitoring could not attribute to a revision
			}
		}
		byMinute := byKey[key]
		if byMinute == nil {
			byMinute = map[time.Time]float64{}
			byKey[key] = byMinute
		}
		for _, p := range ts.GetPoints() {
			v, err := value(p.GetValue())
			if err != nil {
				return nil, err
			}
			at := p.GetInterval().GetEndTime().AsTime().UTC()
			if old, ok := byMinute[at]; ok {
				v = q.combine(old, v)
			}
			byMinute[at] = v
		}
	}
	if !q.perRevision && byKey[""] == nil {
		byKey[""] = map[time.Time]float64{} // no data: an empty series, never nil
	}
	if len(byKey) == 0 {
		return nil, nil
	}
	out := make(map[string][]snapshot.Point, len(byKey))
	for key, byMinute := range byKey {
		points := make([]snapshot.Point, 0, len(byMinute))
		for at, v := range byMinute {
			points = append(points, snapshot.Point{At: at, Value: v})
		}
		slices.SortFunc(points, func(a, b snapshot.Point) int { return a.At.Compare(b.At) })
		out[key] = points
	}
	return out, nil
}

// value reads a numeric point; the aggregations above never yield another type.
func value(v *monitoringpb.TypedValue) (float64, error) {
	switch x := v.GetValue().(type) {
	case *monitoringpb.TypedValue_DoubleValue:
		return x.DoubleValue, nil
	case *monitoringpb.TypedValue_Int64Value:
		return float64(x.Int64Value), nil
	}
	return 0, fmt.Errorf("point value %T: want a double or an int64", v.GetValue())
}
