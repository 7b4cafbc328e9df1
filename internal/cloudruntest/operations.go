package cloudruntest

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// operation is an update in flight: done after remaining more GetOperation calls.
type operation struct {
	service   string // the service it reconciles
	remaining int
	readyAt   time.Time                // with SetRolloutTime: not done before then, on the fake's clock
	final     *longrunningpb.Operation // the operation once done
}

type operationsServer struct {
	longrunningpb.UnimplementedOperationsServer
	s *Server
}

// newOperation records an update's operation. The service is the response (and, as Cloud Run
// does, the metadata); failure, when set, is the operation's error; polls is how many
// GetOperation calls it needs before it is done. Callers hold s.mu.
func (s *Server) newOperation(service string, svc *runpb.Service, failure error, polls int) *longrunningpb.Operation {
	project, location, _ := splitServiceName(service)
	name := fmt.Sprintf("projects/%s/locations/%s/operations/%s", project, location, s.uuid())
	svc.Reconciling = false
	meta, _ := anypb.New(svc) // a runpb.Service always marshals
	final := &longrunningpb.Operation{Name: name, Metadata: meta, Done: true}
	if failure != nil {
		final.Result = &longrunningpb.Operation_Error{Error: status.Convert(failure).Proto()}
	} else {
		final.Result = &longrunningpb.Operation_Response{Response: meta}
	}
	op := &operation{service: service, remaining: polls, final: final} // readable when done, as Cloud Run keeps it
	if s.rollout > 0 {
		op.readyAt = s.clock().Add(s.rollout)
	}
	s.ops[name] = op
	if polls == 0 && op.readyAt.IsZero() {
		return final
	}
	if st, ok := s.services[service]; ok {
		st.svc.Reconciling = true
	}
	return &longrunningpb.Operation{Name: name, Metadata: meta}
}

// GetOperation advances the operation by one poll.
func (f *operationsServer) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	op, ok := f.s.ops[req.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "operation %s not found", req.GetName())
	}
	if op.remaining > 0 {
		op.remaining--
	}
	if op.remaining > 0 || (!op.readyAt.IsZero() && f.s.clock().Before(op.readyAt)) {
		return &longrunningpb.Operation{Name: op.final.GetName(), Metadata: op.final.GetMetadata()}, nil
	}
	if st, ok := f.s.services[op.service]; ok {
		st.svc.Reconciling = false
	}
	return proto.Clone(op.final).(*longrunningpb.Operation), nil
}

// WaitOperation finishes the operation at once.
func (f *operationsServer) WaitOperation(ctx context.Context, req *longrunningpb.WaitOperationRequest) (*longrunningpb.Operation, error) {
	f.s.mu.Lock()
	if op, ok := f.s.ops[req.GetName()]; ok {
		op.remaining, op.readyAt = 1, time.Time{}
	}
	f.s.mu.Unlock()
	return f.GetOperation(ctx, &longrunningpb.GetOperationRequest{Name: req.GetName()})
}

// uuid is a version-4-shaped identifier from the seeded generator.
func (s *Server) uuid() string {
	a, b := s.rng.Uint64(), s.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", a>>32, (a>>16)&0xffff, a&0xfff, b>>52, b&0xffffffffffff)
}
