package cloudruntest

import (
	"fmt"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/protobuf/proto"
)

// Service returns a copy of the stored service, or nil when there is none. name is the full
// resource name.
func (s *Server) Service(name string) *runpb.Service {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.services[name]
	if !ok {
		return nil
	}
	return proto.Clone(st.svc).(*runpb.Service)
}

// Revisions returns copies of the service's revisions, newest first.
func (s *Server) Revisions(service string) []*runpb.Revision {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.services[service]
	if !ok {
		return nil
	}
	return newestFirst(st.revisions)
}

// UpdateCount is the number of UpdateService calls that changed the service (validate_only calls
// and rejected calls are not counted; see ValidateCount).
func (s *Server) UpdateCount(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.services[service]; ok {
		return st.updates
	}
	return 0
}

// ValidateCount is the number of validate_only UpdateService calls that passed validation.
func (s *Server) ValidateCount(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.services[service]; ok {
		return st.validations
	}
	return 0
}

// Modify changes a service out of band, as another deployer would between a read and a write:
// fn edits a copy, which is stored without validation with a new generation and etag. A template
// change creates a revision, like any deploy. It is not counted by UpdateCount.
func (s *Server) Modify(service string, fn func(*runpb.Service)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.services[service]
	if !ok {
		return fmt.Errorf("modify service %s: not found", service)
	}
	next := proto.Clone(st.svc).(*runpb.Service)
	fn(next)
	newRev, err := s.newRevisionName(st, next, false)
	if err != nil {
		return fmt.Errorf("modify service %s: %w", service, err)
	}
	s.commit(st, next, newRev)
	return nil
}

// Calls is the number of calls of method (the short gRPC method name, e.g. "GetService") the
// fake received, failed ones included: what a caller read, for tests that bound reads.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}
