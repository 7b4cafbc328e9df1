package monitoringtest

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/fakeserver"
)

// SnoozeServer is an in-process SnoozeService (ListSnoozes) with the AlertPolicyService's
// GetAlertPolicy beside it, so the real clients can read which alert policies a snooze silences
// and what those policies are called. ListSnoozes honours the parent, page size and token, and
// the filter `interval.end_time > "RFC 3339 time"` (any other filter is refused, as a real
// server refuses a field it does not know). Failures can be scripted.
type SnoozeServer struct {
	monitoringpb.UnimplementedSnoozeServiceServer
	monitoringpb.UnimplementedAlertPolicyServiceServer

	fakeserver.Server

	mu       sync.Mutex
	snoozes  []*monitoringpb.Snooze
	policies map[string]*monitoringpb.AlertPolicy
	failCode codes.Code
}

// StartSnoozes starts a SnoozeServer on a random 127.0.0.1 port; the caller must Close it.
func StartSnoozes() (*SnoozeServer, error) {
	s := &SnoozeServer{policies: map[string]*monitoringpb.AlertPolicy{}}
	err := s.Server.Start("127.0.0.1:0", func(g *grpc.Server) {
		monitoringpb.RegisterSnoozeServiceServer(g, s)
		monitoringpb.RegisterAlertPolicyServiceServer(g, s)
	})
	if err != nil {
		return nil, fmt.Errorf("monitoringtest: %w", err)
	}
	return s, nil
}

// NewSnoozes starts a SnoozeServer that stops when the test ends. Its Addr, for
// cloudrun.EndpointOptions, and Close come from fakeserver.Server.
func NewSnoozes(t testing.TB) *SnoozeServer { return fakeserver.New(t, StartSnoozes) }

// AddPolicy stores an alert policy: name projects/P/alertPolicies/ID, displayName as the
// incident's policy_name.
func (s *SnoozeServer) AddPolicy(name, displayName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[name] = &monitoringpb.AlertPolicy{Name: name, DisplayName: displayName}
}

// AddSnooze stores a snooze of project silencing policies from start to end, and returns its name.
func (s *SnoozeServer) AddSnooze(project, displayName string, policies []string, start, end time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := fmt.Sprintf("projects/%s/snoozes/%d", project, len(s.snoozes)+1)
	s.snoozes = append(s.snoozes, &monitoringpb.Snooze{
		Name: name, DisplayName: displayName,
		Criteria: &monitoringpb.Snooze_Criteria{Policies: policies},
		Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(start), EndTime: timestamppb.New(end)},
	})
	return name
}

// Fail makes every call fail with code until Fail(codes.OK).
func (s *SnoozeServer) Fail(code codes.Code) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode = code
}

var endAfter = regexp.MustCompile(`^interval\.end_time\s*>\s*"([^"]+)"$`)

// ListSnoozes serves the project's snoozes, oldest first.
func (s *SnoozeServer) ListSnoozes(_ context.Context, req *monitoringpb.ListSnoozesRequest) (*monitoringpb.ListSnoozesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCode != codes.OK {
		return nil, status.Errorf(s.failCode, "scripted failure")
	}
	if !strings.HasPrefix(req.GetParent(), "projects/") || strings.Count(req.GetParent(), "/") != 1 {
		return nil, status.Errorf(codes.InvalidArgument, "invalid parent %q", req.GetParent())
	}
	var after time.Time
	if f := strings.TrimSpace(req.GetFilter()); f != "" {
		m := endAfter.FindStringSubmatch(f)
		if m == nil {
			return nil, status.Errorf(codes.InvalidArgument, "unsupported filter %q", f)
		}
		t, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "filter time %q: %v", m[1], err)
		}
		after = t
	}
	var all []*monitoringpb.Snooze
	for _, sn := range s.snoozes {
		if strings.HasPrefix(sn.GetName(), req.GetParent()+"/") && sn.GetInterval().GetEndTime().AsTime().After(after) {
			all = append(all, proto.Clone(sn).(*monitoringpb.Snooze))
		}
	}
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(all) {
			return nil, status.Errorf(codes.InvalidArgument, "invalid page token %q", tok)
		}
		start = n
	}
	size := int(req.GetPageSize())
	if size <= 0 || size > 1000 {
		size = 1000
	}
	end := min(start+size, len(all))
	resp := &monitoringpb.ListSnoozesResponse{Snoozes: all[start:end]}
	if end < len(all) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

// GetAlertPolicy serves a stored policy.
func (s *SnoozeServer) GetAlertPolicy(_ context.Context, req *monitoringpb.GetAlertPolicyRequest) (*monitoringpb.AlertPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCode != codes.OK {
		return nil, status.Errorf(s.failCode, "scripted failure")
	}
	p, ok := s.policies[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "alert policy %s not found", req.GetName())
	}
	return proto.Clone(p).(*monitoringpb.AlertPolicy), nil
}
