package bench

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ledgerWire sits on a fleet's Firestore client: it counts what the ledger costs (documents
// read and written, transactions committed) and injects faults into chosen calls.
type ledgerWire struct {
	mu           sync.Mutex
	reads        int
	writes       int
	transactions int

	method     string // "/google.firestore.v1.Firestore/Commit", …; "" injects nothing
	skip, fail int    // let skip calls through, then fail the next fail calls
	code       codes.Code
}

// options are the dial options that put w on a client.
func (w *ledgerWire) options() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(w.unary), grpc.WithChainStreamInterceptor(w.stream)}
}

// inject fails calls of method with code: the first skip pass, the next n fail.
func (w *ledgerWire) inject(method string, skip, n int, code codes.Code) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.method, w.skip, w.fail, w.code = "/google.firestore.v1.Firestore/"+method, skip, n, code
}

// fault is the injected error for a call of method, or nil.
func (w *ledgerWire) fault(method string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if method != w.method || w.fail == 0 {
		return nil
	}
	if w.skip > 0 {
		w.skip--
		return nil
	}
	w.fail--
	return status.Error(w.code, "injected ledger failure")
}

// cost is what was counted since the last call, and resets the counts.
func (w *ledgerWire) cost() (reads, writes, transactions int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	reads, writes, transactions = w.reads, w.writes, w.transactions
	w.reads, w.writes, w.transactions = 0, 0, 0
	return
}

func (w *ledgerWire) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if err := w.fault(method); err != nil {
		return err
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch r := req.(type) {
	case *firestorepb.CommitRequest:
		w.writes += len(r.GetWrites())
		w.transactions++
	case *firestorepb.GetDocumentRequest:
		w.reads++
	}
	return nil
}

func (w *ledgerWire) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	if err := w.fault(method); err != nil {
		return nil, err
	}
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, err
	}
	return &countingStream{ClientStream: s, w: w}, nil
}

// countingStream counts reads as Firestore bills them: each document a query or a batch get
// returns, each document a batch get finds missing, and one for a query that returns none.
type countingStream struct {
	grpc.ClientStream
	w     *ledgerWire
	query bool
	docs  int
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		if err == io.EOF && s.query && s.docs == 0 {
			s.w.add(1)
		}
		return err
	}
	switch r := m.(type) {
	case *firestorepb.RunQueryResponse:
		s.query = true
		if r.GetDocument() != nil {
			s.docs++
			s.w.add(1)
		}
	case *firestorepb.BatchGetDocumentsResponse:
		if r.GetFound() != nil || r.GetMissing() != "" {
			s.w.add(1)
		}
	}
	return nil
}

func (w *ledgerWire) add(reads int) {
	w.mu.Lock()
	w.reads += reads
	w.mu.Unlock()
}

// TestLedgerCostPerDelivery counts the Firestore documents read and written and the
// transactions committed by one delivery through HTTP: the first (it claims and issues a memory
// raise without waiting for its rollout), a duplicate of it (it reads the rollout, done, and
// records it), a second duplicate (it takes the memo of the run before it), and a verify tick
// with the incident watched. Reads are counted as Firestore bills them (a query that returns
// nothing is one read, a missing document is one).
func TestLedgerCostPerDelivery(t *testing.T) {
	f := newFleet(t, fleetOptions{})
	svc := f.services[0]
	f.wire.cost() // the fleet's setup
	row := func(what string) string {
		r, w, tx := f.wire.cost()
		return fmt.Sprintf("| %s | %d | %d | %d |", what, r, w, tx)
	}
	var rows []string
	for i, what := range []string{"first delivery (claims, issues the change)", "duplicate (records the rollout)", "second duplicate (coalesced)"} {
		if st, err := f.deliver(svc, "inc-1", fmt.Sprintf("msg-%d", i+1)); err != nil || !acked(st) {
			t.Fatalf("%s: %d, %v", what, st, err)
		}
		rows = append(rows, row(what))
	}
	if _, err := f.r.Tick(context.Background()); err != nil {
		t.Fatalf("tick: %v", err)
	}
	rows = append(rows, row("tick with one watched incident"))
	if !strings.HasSuffix(rows[0], " 2 |") || !strings.HasSuffix(rows[1], " 1 |") || !strings.HasSuffix(rows[2], "| 0 | 0 | 0 |") || !strings.HasSuffix(rows[3], "| 0 | 0 |") {
		t.Errorf("costs %q: want two transactions (claim, record) for the change, one to record its rollout, nothing for the coalesced duplicate, no writes for the tick", rows)
	}
	t.Log("\n| delivery | documents read | written | transactions |\n| --- | --- | --- | --- |")
	for _, r := range rows {
		t.Log(r)
	}
}
