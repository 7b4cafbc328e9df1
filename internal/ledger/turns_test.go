package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// gate, once armed, holds a store's first BeginTransaction until opened, counts its commits,
// and aborts the commits it is told to (by number, from 1).
type gate struct {
	held    chan struct{} // closed when the first BeginTransaction is held
	open    chan struct{} // close to let it through
	mu      sync.Mutex
	armed   bool
	begins  int
	commits int // commits sent, aborted ones included
	abort   map[int]bool
}

func newGate() *gate {
	return &gate{held: make(chan struct{}), open: make(chan struct{}), abort: map[int]bool{}}
}

// arm starts holding and counting; commits numbered in abort are aborted.
func (g *gate) arm(abort ...int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = true
	for _, n := range abort {
		g.abort[n] = true
	}
}

func (g *gate) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	g.mu.Lock()
	if !g.armed {
		g.mu.Unlock()
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	switch method {
	case "/google.firestore.v1.Firestore/BeginTransaction":
		g.begins++
		if g.begins == 1 {
			g.mu.Unlock()
			close(g.held)
			<-g.open
			return invoker(ctx, method, req, reply, cc, opts...)
		}
	case "/google.firestore.v1.Firestore/Commit":
		g.commits++
		if g.abort[g.commits] {
			g.mu.Unlock()
			return status.Error(codes.Aborted, "injected contention")
		}
	}
	g.mu.Unlock()
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (g *gate) commitsSent() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.commits
}

// groupedClaim is one claim of claimGrouped.
type groupedClaim struct {
	target  snapshot.Target
	version int64
	act     *snapshot.Action // the claimed action; nil: raise_memory at t0 plus the claim's index in seconds
}

// claimGrouped makes the claims in order on s behind g: the first takes the turn and is held in
// its transaction while the others queue behind it, one after another, so that they are decided
// together, in that order, in the next transaction. It returns each claim's result.
func claimGrouped(t *testing.T, s *ledger.Store, g *gate, claims []groupedClaim, lim ledger.Limits) []error {
	t.Helper()
	errs := make([]error, len(claims))
	g.arm()
	var wg sync.WaitGroup
	for i, c := range claims {
		wg.Go(func() {
			at := t0.Add(time.Duration(i) * time.Second)
			act := action("0.a", "raise_memory", at)
			if c.act != nil {
				act = *c.act
			}
			errs[i] = s.Claim(context.Background(), c.target, c.version, ledger.NewClaim(c.target, act, nil, nil, at), lim)
		})
		if i == 0 {
			<-g.held
			continue
		}
		for s.Queued() < i {
			time.Sleep(time.Millisecond)
		}
	}
	close(g.open)
	wg.Wait()
	return errs
}

func services(n int) []groupedClaim {
	out := make([]groupedClaim, n)
	for i := range out {
		out[i].target = target
		out[i].target.Service = fmt.Sprintf("svc-%02d", i)
	}
	return out
}

// TestGroupedClaimsCountFleetLimitsInOrder: claims decided in one transaction count against the
// fleet limits in their order of arrival, as if each had its own transaction.
func TestGroupedClaimsCountFleetLimitsInOrder(t *testing.T) {
	for _, tc := range []struct {
		name string
		lim  ledger.Limits
	}{
		{"changes per hour", ledger.Limits{MaxChangesPerHour: 5}},
		{"concurrent rollouts", ledger.Limits{MaxConcurrentRollouts: 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			s := firestoretest.Shared(t).Store(t, grpc.WithChainUnaryInterceptor(g.unary))
			claims := services(12)
			errs := claimGrouped(t, s, g, claims, tc.lim)
			for i, err := range errs {
				if i < 5 && err != nil {
					t.Errorf("claim %d (within the limit) = %v, want nil", i, err)
				}
				if i >= 5 && !errors.Is(err, ledger.ErrFleetLimit) {
					t.Errorf("claim %d (beyond the limit) = %v, want ErrFleetLimit", i, err)
				}
			}
			if n := g.commitsSent(); n != 2 {
				t.Errorf("%d commits, want 2: the first claim's and one for the 11 queued behind it", n)
			}
			for i, c := range claims {
				e, err := s.Load(context.Background(), c.target, "", t0)
				if err != nil {
					t.Fatal(err)
				}
				if want := i < 5; (len(e.Claims) == 1) != want || (e.Version == 1) != want {
					t.Errorf("%s: claims %+v version %d, want claimed %v", c.target.Service, e.Claims, e.Version, want)
				}
			}
		})
	}
}

// TestStaleClaimInGroupFailsAlone: a claim made against an old version fails with ErrStale and
// the claims decided with it still succeed.
func TestStaleClaimInGroupFailsAlone(t *testing.T) {
	g := newGate()
	s := firestoretest.Shared(t).Store(t, grpc.WithChainUnaryInterceptor(g.unary))
	claims := services(6)
	// svc-03 moved on (a record) since its decision was made at version 0.
	e, err := s.Load(context.Background(), claims[3].target, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(context.Background(), claims[3].target, e.State, e.State.Record(action("0.z", "restart", t0))); err != nil {
		t.Fatal(err)
	}
	errs := claimGrouped(t, s, g, claims, ledger.Limits{})
	for i, err := range errs {
		if i == 3 && !errors.Is(err, ledger.ErrStale) {
			t.Errorf("claim %d (stale) = %v, want ErrStale", i, err)
		}
		if i != 3 && err != nil {
			t.Errorf("claim %d = %v, want nil", i, err)
		}
	}
}

// TestAbortedGroupRetried: a group's commit aborted by contention is decided again from fresh
// reads, and every claim still gets its own result.
func TestAbortedGroupRetried(t *testing.T) {
	g := newGate()
	s := firestoretest.Shared(t).Store(t, grpc.WithChainUnaryInterceptor(g.unary))
	claims := services(8)
	// svc-02's step was already claimed by another run.
	if err := s.Claim(context.Background(), claims[2].target, 0, ledger.NewClaim(claims[2].target, action("0.a", "raise_memory", t0), nil, nil, t0), ledger.Limits{}); err != nil {
		t.Fatal(err)
	}
	g.arm(2) // the group's first commit
	claims[2].version = 1
	errs := claimGrouped(t, s, g, claims, ledger.Limits{MaxChangesPerHour: 6})
	// svc-02's step is claimed; of the others, the first five fit the hour (svc-02's own claim
	// counts as the sixth change), the last does not.
	for i, err := range errs {
		switch {
		case i == 2:
			if !errors.Is(err, ledger.ErrClaimed) {
				t.Errorf("claim %d (already claimed) = %v, want ErrClaimed", i, err)
			}
		case i < 6:
			if err != nil {
				t.Errorf("claim %d = %v, want nil", i, err)
			}
		default:
			if !errors.Is(err, ledger.ErrFleetLimit) {
				t.Errorf("claim %d = %v, want ErrFleetLimit", i, err)
			}
		}
	}
	if n := g.commitsSent(); n != 3 {
		t.Errorf("%d commits, want 3: the first claim's, the group's aborted one and its retry", n)
	}
}

// TestCanceledWhileWaiting: a claim whose context ends while it waits for its turn returns at
// once with the context's error and is never written; the claims behind it are still decided.
func TestCanceledWhileWaiting(t *testing.T) {
	g := newGate()
	s := firestoretest.Shared(t).Store(t, grpc.WithChainUnaryInterceptor(g.unary))
	g.arm()
	claims := services(3)
	claim := func(ctx context.Context, i int) error {
		c := claims[i]
		return s.Claim(ctx, c.target, 0, ledger.NewClaim(c.target, action("0.a", "raise_memory", t0), nil, nil, t0), ledger.Limits{})
	}
	errs := make([]error, len(claims))
	var wg sync.WaitGroup
	wg.Go(func() { errs[0] = claim(context.Background(), 0) })
	<-g.held
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error, 1)
	go func() { canceled <- claim(ctx, 1) }()
	for s.Queued() < 1 {
		time.Sleep(time.Millisecond)
	}
	wg.Go(func() { errs[2] = claim(context.Background(), 2) })
	for s.Queued() < 2 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-canceled:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("canceled claim = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a canceled claim still waits for its turn")
	}
	close(g.open)
	wg.Wait()
	if errs[0] != nil || errs[2] != nil {
		t.Fatalf("claims around the canceled one = %v, %v, want nil", errs[0], errs[2])
	}
	for i, c := range claims {
		e, err := s.Load(context.Background(), c.target, "", t0)
		if err != nil {
			t.Fatal(err)
		}
		if want := i != 1; (len(e.Claims) == 1) != want {
			t.Errorf("%s: claims %+v, want claimed %v", c.target.Service, e.Claims, want)
		}
	}
}

// TestUnencodableClaimInGroupFailsAlone: a claim whose action cannot be written fails with its
// own error; the claims grouped with it are still decided, and the ones after it get their turn.
func TestUnencodableClaimInGroupFailsAlone(t *testing.T) {
	g := newGate()
	s := firestoretest.Shared(t).Store(t, grpc.WithChainUnaryInterceptor(g.unary))
	claims := services(4)
	bad := action("0.a", "raise_memory", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)) // no JSON time
	claims[2].act = &bad
	errs := claimGrouped(t, s, g, claims, ledger.Limits{MaxChangesPerHour: 3})
	for i, err := range errs {
		if want := i != 2; (err == nil) != want {
			t.Errorf("claim %d = %v, want success %v", i, err, want)
		}
	}
	if errs[2] != nil && (errors.Is(errs[2], ledger.ErrFleetLimit) || !strings.Contains(errs[2].Error(), "svc-02")) {
		t.Errorf("unencodable claim = %v, want an encoding error naming svc-02", errs[2])
	}
	next := claims[3].target
	next.Service = "svc-99"
	if err := s.Claim(context.Background(), next, 0, ledger.NewClaim(next, action("0.a", "raise_memory", t0), nil, nil, t0), ledger.Limits{}); err != nil {
		t.Errorf("claim after the group = %v, want nil", err)
	}
}
