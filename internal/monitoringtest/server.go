// Package monitoringtest is an in-process Cloud Monitoring MetricService that serves scripted time
// series to the real monitoring client over loopback gRPC, for tests and local runs.
//
// ListTimeSeries behaves like the real API where runmedic depends on it: it honours the filter
// (the `key = "value" AND ...` form), the project in the request name, the interval, the
// cross-series reducer and its group-by fields, paging, and it returns points newest first.
// Scripted points are taken as already aligned: the per-series aligner is checked for validity
// and recorded, not applied.
package monitoringtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/runmedic/runmedic/internal/fakeserver"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Series is one scripted time series of a Cloud Run revision (resource type cloud_run_revision).
type Series struct {
	Metric       string            // metric type, e.g. "run.googleapis.com/request_count"
	Target       snapshot.Target   // project_id, location and service_name resource labels
	Revision     string            // revision_name resource label; may be empty
	MetricLabels map[string]string // e.g. {"response_code_class": "5xx"}
	Points       []snapshot.Point  // any order; served newest first
}

// Server is the fake MetricService. All methods are safe for concurrent use.
type Server struct {
	monitoringpb.UnimplementedMetricServiceServer

	fakeserver.Server

	mu       sync.Mutex
	series   []Series
	failCode codes.Code
	failN    int
	pageSize int
	requests []*monitoringpb.ListTimeSeriesRequest
}

// Start starts a Server on a random 127.0.0.1 port, for local runs outside a test. The caller
// must Close it.
func Start() (*Server, error) { return StartOn("127.0.0.1:0") }

// StartOn is Start on a given loopback address, e.g. "127.0.0.1:9010" for a fake that a shell
// session points RUNMEDIC_*_ENDPOINT at.
func StartOn(addr string) (*Server, error) {
	s := &Server{}
	if err := s.Server.Start(addr, func(g *grpc.Server) { monitoringpb.RegisterMetricServiceServer(g, s) }); err != nil {
		return nil, fmt.Errorf("monitoringtest: %w", err)
	}
	return s, nil
}

// New starts a Server on 127.0.0.1; it stops when the test ends. Close, Addr and ClientOptions
// (for a real monitoring client) come from fakeserver.Server.
func New(t testing.TB) *Server { return fakeserver.New(t, Start) }

// SetSeries scripts the series of metric for the service target with the given metric labels
// (nil for none), replacing any series with the same identity. Use Set for a series of one
// revision.
func (s *Server) SetSeries(metric string, target snapshot.Target, points []snapshot.Point, metricLabels map[string]string) {
	s.Set(Series{Metric: metric, Target: target, MetricLabels: metricLabels, Points: points})
}

// Set scripts ts, replacing any series with the same metric, target, revision and metric labels.
// The server keeps its own copy.
func (s *Server) Set(ts Series) {
	ts.Points = slices.Clone(ts.Points)
	ts.MetricLabels = maps.Clone(ts.MetricLabels)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series = slices.DeleteFunc(s.series, func(old Series) bool { return sameIdentity(old, ts) })
	s.series = append(s.series, ts)
}

// FailNext makes the next n ListTimeSeries calls fail with code, as an unavailable or
// overloaded backend would. The client library retries some codes (UNAVAILABLE) by itself.
func (s *Server) FailNext(code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failN = code, n
}

// SetPageSize caps every response page at n points, splitting long series across pages as the
// real API does; 0 (the default) leaves only the request's page_size.
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Requests returns copies of every ListTimeSeries request received, oldest first, failed ones
// included: the aggregation a caller asks for is its contract with the real API.
func (s *Server) Requests() []*monitoringpb.ListTimeSeriesRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*monitoringpb.ListTimeSeriesRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = proto.CloneOf(r)
	}
	return out
}

// ListTimeSeries serves the scripted series that match the request.
func (s *Server) ListTimeSeries(_ context.Context, req *monitoringpb.ListTimeSeriesRequest) (*monitoringpb.ListTimeSeriesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, proto.CloneOf(req))
	if s.failN > 0 {
		s.failN--
		return nil, status.Errorf(s.failCode, "monitoringtest: injected %v", s.failCode)
	}
	q, err := parseRequest(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	var matched []Series
	for _, ts := range s.series {
		if q.matches(ts) {
			matched = append(matched, ts)
		}
	}
	out := q.aggregate(matched)
	pageSize := int(req.GetPageSize())
	if s.pageSize > 0 && (pageSize == 0 || s.pageSize < pageSize) {
		pageSize = s.pageSize
	}
	return page(out, req.GetPageToken(), pageSize)
}

func sameIdentity(a, b Series) bool {
	return a.Metric == b.Metric && a.Target == b.Target && a.Revision == b.Revision &&
		maps.Equal(a.MetricLabels, b.MetricLabels)
}
