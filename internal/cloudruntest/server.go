// Package cloudruntest is an in-process fake of the Cloud Run Admin API v2 (Services, Revisions and
// the long-running Operations service) served over gRPC on 127.0.0.1. Tests drive it with the real
// cloud.google.com/go/run/apiv2 clients, so what is tested is the code that runs in production.
//
// The fake keeps Cloud Run's observable semantics: etags and generations move on every successful
// update, a template change creates a revision named <service>-<5-digit generation>-<3 letters>,
// traffic is validated (sums to 100, names existing Ready revisions), reserved annotation prefixes
// and memory/CPU combinations are rejected with Cloud Run's error codes, validate_only changes
// nothing, and updates return long-running operations that can be scripted to need polling or to
// fail because the new revision never becomes Ready.
//
// Tests should assert the fake's final state (Service, Revisions, UpdateCount), not call order.
package cloudruntest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"path"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Server is a running fake. All state sits under mu; every method is safe for concurrent use.
type Server struct {
	lis  net.Listener
	gsrv *grpc.Server

	mu       sync.Mutex
	rng      *rand.Rand
	services map[string]*serviceState // by full service name
	ops      map[string]*operation    // by operation name
	faults   map[string]*fault        // by short method name, e.g. "UpdateService"
	calls    map[string]int           // calls received, by short method name
	polls    int                      // GetOperation calls an update needs before it is done
	rollout  time.Duration            // how long an update takes to roll out on clock; 0: polls decide
	clock    func() time.Time         // the time rollouts are judged by
}

// serviceState is one service and everything Cloud Run keeps beside it.
type serviceState struct {
	svc         *runpb.Service
	revisions   []*runpb.Revision // creation order, oldest first
	updates     int               // successful, state-changing UpdateService calls
	validations int               // validate_only UpdateService calls that passed validation
	failReady   bool              // new revisions of this service never become Ready
}

type fault struct {
	code codes.Code
	n    int
}

// Start starts a fake on a random 127.0.0.1 port. The caller must Close it.
func Start() (*Server, error) { return StartOn("127.0.0.1:0") }

// StartOn is Start on a given loopback address, e.g. "127.0.0.1:9010" for a fake that a shell
// session points RUNMEDIC_*_ENDPOINT at.
func StartOn(addr string) (*Server, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{
		lis:      lis,
		rng:      rand.New(rand.NewPCG(1, 2)), // fixed seed: revision suffixes are stable across runs
		services: map[string]*serviceState{},
		ops:      map[string]*operation{},
		faults:   map[string]*fault{},
		calls:    map[string]int{},
	}
	s.gsrv = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	runpb.RegisterServicesServer(s.gsrv, &servicesServer{s: s})
	runpb.RegisterRevisionsServer(s.gsrv, &revisionsServer{s: s})
	longrunningpb.RegisterOperationsServer(s.gsrv, &operationsServer{s: s})
	go s.gsrv.Serve(lis) //nolint:errcheck // Serve returns when Close stops the server.
	return s, nil
}

// New starts a fake for a test and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("start cloud run fake: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops the server and drops every connection.
func (s *Server) Close() {
	s.gsrv.Stop()
}

// Addr is the host:port the fake listens on.
func (s *Server) Addr() string {
	return s.lis.Addr().String()
}

// ClientOptions connect a real Cloud Run client to the fake: plaintext, no credentials.
func (s *Server) ClientOptions() []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(s.Addr()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// FailNext makes the next n calls of method (the short gRPC method name: "GetService",
// "UpdateService", "ListRevisions", "GetRevision", "GetOperation") fail with code before they
// touch any state. validate_only updates are UpdateService calls too.
func (s *Server) FailNext(method string, code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = &fault{code: code, n: n}
}

// SetOperationPolls makes every later update return an operation that is done only after n
// GetOperation calls (0, the default, returns it done).
func (s *Server) SetOperationPolls(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls = n
}

// SetRolloutTime makes every later update return an operation that is done only once d has
// passed on clock since it was issued, the way Cloud Run takes time to make a new revision Ready
// (WaitOperation still finishes it at once). A zero d restores the default.
func (s *Server) SetRolloutTime(d time.Duration, clock func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollout, s.clock = d, clock
}

// SetRevisionReadyFailure makes every revision the named service creates from now on fail its
// Ready condition, the way a container that never listens on its port does: the update's
// operation ends in an error, latest_ready_revision and the traffic actually served stay on the
// previous revision.
func (s *Server) SetRevisionReadyFailure(service string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.services[service]; ok {
		st.failReady = true
	}
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	method := path.Base(info.FullMethod)
	s.mu.Lock()
	s.calls[method]++
	f := s.faults[method]
	if f != nil && f.n > 0 {
		f.n--
		s.mu.Unlock()
		return nil, status.Errorf(f.code, "injected %s failure", method)
	}
	s.mu.Unlock()
	return handler(ctx, req)
}

// nextTime is a creation time later than every revision of st, so "newest first" is well defined
// even when revisions are created within one clock tick.
func nextTime(st *serviceState) time.Time {
	now := time.Now().UTC().Truncate(time.Second)
	for _, r := range st.revisions {
		if t := r.GetCreateTime().AsTime(); !now.After(t) {
			now = t.Add(time.Second)
		}
	}
	return now
}

// randomLetters returns n lowercase letters from the server's seeded generator.
func (s *Server) randomLetters(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + s.rng.IntN(26))
	}
	return string(b)
}

// newEtag is an opaque quoted fingerprint, as Cloud Run returns.
func (s *Server) newEtag() string {
	return fmt.Sprintf("%q", fmt.Sprintf("%016x", s.rng.Uint64()))
}
