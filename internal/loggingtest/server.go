// Package loggingtest is an in-process fake of the Cloud Logging v2 API (LoggingServiceV2) that
// serves scripted log entries to the real logadmin client over loopback gRPC, for tests and local
// runs.
//
// ListLogEntries behaves like the real API where runmedic depends on it: it honours the project in
// resource_names, the subset of the query language runmedic sends (anything else is
// InvalidArgument, so a reader and fake that drift apart fail loudly), order_by ("timestamp asc",
// the default, or "timestamp desc"; ties by insert_id), page_size (default 50, at most 1000) and
// page tokens, which are valid only for the request that issued them.
package loggingtest

import (
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/runmedic/runmedic/internal/fakeserver"
)

// Page sizes of the real API.
const (
	defaultPageSize = 50
	maxPageSize     = 1000
)

// Server is the fake LoggingServiceV2. All methods are safe for concurrent use.
type Server struct {
	loggingpb.UnimplementedLoggingServiceV2Server

	fakeserver.Server

	mu       sync.Mutex
	entries  []*loggingpb.LogEntry
	failCode codes.Code
	failN    int // calls left to fail; negative: every call
	requests []*loggingpb.ListLogEntriesRequest
}

// Start starts a Server on a random 127.0.0.1 port, for local runs outside a test. The caller
// must Close it.
func Start() (*Server, error) { return StartOn("127.0.0.1:0") }

// StartOn is Start on a given loopback address, e.g. "127.0.0.1:9012" for a fake that a shell
// session points RUNMEDIC_LOGGING_ENDPOINT at.
func StartOn(addr string) (*Server, error) {
	s := &Server{}
	if err := s.Server.Start(addr, func(g *grpc.Server) { loggingpb.RegisterLoggingServiceV2Server(g, s) }); err != nil {
		return nil, fmt.Errorf("loggingtest: %w", err)
	}
	return s, nil
}

// New starts a Server on 127.0.0.1; it stops when the test ends. Close, Addr and ClientOptions
// (for a real logadmin client) come from fakeserver.Server.
func New(t testing.TB) *Server { return fakeserver.New(t, Start) }

// Add stores entries; the server keeps its own copies. Each needs a log_name of the form
// projects/P/logs/L (its project is what resource_names select) and a timestamp.
func (s *Server) Add(entries ...*loggingpb.LogEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		s.entries = append(s.entries, proto.CloneOf(e))
	}
}

// FailNext makes the next n ListLogEntries calls fail with code (n < 0: every call from now on),
// as a missing logging.viewer grant (PermissionDenied) or an unavailable backend would.
func (s *Server) FailNext(code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCode, s.failN = code, n
}

// Requests returns copies of every ListLogEntries request received, oldest first, failed ones
// included.
func (s *Server) Requests() []*loggingpb.ListLogEntriesRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*loggingpb.ListLogEntriesRequest, len(s.requests))
	for i, r := range s.requests {
		out[i] = proto.CloneOf(r)
	}
	return out
}

// ListLogEntries serves the stored entries that match the request, one page at a time.
func (s *Server) ListLogEntries(_ context.Context, req *loggingpb.ListLogEntriesRequest) (*loggingpb.ListLogEntriesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, proto.CloneOf(req))
	if s.failN != 0 {
		if s.failN > 0 {
			s.failN--
		}
		return nil, status.Errorf(s.failCode, "loggingtest: injected %v", s.failCode)
	}
	projects, err := parseResourceNames(req.GetResourceNames())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	clauses, err := parseFilter(req.GetFilter())
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	desc := false
	switch req.GetOrderBy() {
	case "", "timestamp asc":
	case "timestamp desc":
		desc = true
	default:
		return nil, status.Errorf(codes.InvalidArgument, "order_by %q: want \"timestamp asc\" or \"timestamp desc\"", req.GetOrderBy())
	}
	size := int(req.GetPageSize())
	if size < 0 || size > maxPageSize {
		return nil, status.Errorf(codes.InvalidArgument, "page_size %d: must be 0 to %d", size, maxPageSize)
	}
	if size == 0 {
		size = defaultPageSize
	}
	offset, err := parseToken(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}

	var matched []*loggingpb.LogEntry
	for _, e := range s.entries {
		if projects[project(e)] && matches(e, clauses) {
			matched = append(matched, e)
		}
	}
	slices.SortStableFunc(matched, func(a, b *loggingpb.LogEntry) int {
		c := cmp.Or(a.GetTimestamp().AsTime().Compare(b.GetTimestamp().AsTime()), cmp.Compare(a.GetInsertId(), b.GetInsertId()))
		if desc {
			return -c
		}
		return c
	})
	resp := &loggingpb.ListLogEntriesResponse{}
	end := min(offset+size, len(matched))
	for _, e := range matched[min(offset, len(matched)):end] {
		resp.Entries = append(resp.Entries, proto.CloneOf(e))
	}
	if end < len(matched) {
		resp.NextPageToken = token(req, end)
	}
	return resp, nil
}

// parseResourceNames accepts projects/P names only, the form runmedic sends.
func parseResourceNames(names []string) (map[string]bool, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("resource_names is required")
	}
	out := map[string]bool{}
	for _, n := range names {
		p, ok := strings.CutPrefix(n, "projects/")
		if !ok || p == "" || strings.Contains(p, "/") {
			return nil, fmt.Errorf("resource_names %q: want projects/PROJECT", n)
		}
		out[p] = true
	}
	return out, nil
}

// project is the project of an entry's log_name, projects/P/logs/L.
func project(e *loggingpb.LogEntry) string {
	p, _ := strings.CutPrefix(e.GetLogName(), "projects/")
	p, _, _ = strings.Cut(p, "/")
	return p
}

// token encodes where the next page starts, bound to the request's resource names, filter and
// order: the real API requires them to be identical across pages (the page size may change).
func token(req *loggingpb.ListLogEntriesRequest, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(offset) + "/" + fingerprint(req)))
}

func parseToken(req *loggingpb.ListLogEntriesRequest) (int, error) {
	if req.GetPageToken() == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(req.GetPageToken())
	offset, fp, ok := strings.Cut(string(raw), "/")
	n, errN := strconv.Atoi(offset)
	if err != nil || !ok || errN != nil || n < 0 {
		return 0, fmt.Errorf("page_token %q: not issued by this server", req.GetPageToken())
	}
	if fp != fingerprint(req) {
		return 0, fmt.Errorf("page_token %q: issued for a request with other parameters", req.GetPageToken())
	}
	return n, nil
}

func fingerprint(req *loggingpb.ListLogEntriesRequest) string {
	h := fnv.New64a()
	for _, part := range append(slices.Clone(req.GetResourceNames()), req.GetFilter(), req.GetOrderBy()) {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}
