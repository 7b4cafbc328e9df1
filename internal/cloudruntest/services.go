package cloudruntest

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type servicesServer struct {
	runpb.UnimplementedServicesServer
	s *Server
}

func (f *servicesServer) GetService(_ context.Context, req *runpb.GetServiceRequest) (*runpb.Service, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	st, err := f.s.lookup(req.GetName())
	if err != nil {
		return nil, err
	}
	return proto.Clone(st.svc).(*runpb.Service), nil
}

// UpdateService validates the requested service against the stored one, then (unless
// validate_only) commits it: generation and etag move, a template change creates a revision.
func (f *servicesServer) UpdateService(_ context.Context, req *runpb.UpdateServiceRequest) (*longrunningpb.Operation, error) {
	s := f.s
	s.mu.Lock()
	defer s.mu.Unlock()
	in := req.GetService()
	if in == nil || in.GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "service.name: field is required")
	}
	st, err := s.lookup(in.GetName())
	if err != nil {
		return nil, err
	}
	cur := st.svc
	if in.GetEtag() != "" && in.GetEtag() != cur.GetEtag() {
		return nil, status.Errorf(codes.Aborted,
			"etag mismatch: service %s was modified (etag %s, request %s); read it again and retry",
			in.GetName(), cur.GetEtag(), in.GetEtag())
	}
	if err := validateService(in, cur); err != nil {
		return nil, err
	}
	newRev, err := s.newRevisionName(st, in, req.GetForceNewRevision())
	if err != nil {
		return nil, err
	}
	if err := validateTraffic(st, in.GetTraffic(), newRev); err != nil {
		return nil, err
	}
	if req.GetValidateOnly() {
		st.validations++
		return s.newOperation(in.GetName(), proto.Clone(in).(*runpb.Service), nil, 0), nil
	}
	next, failure := s.commit(st, in, newRev)
	st.updates++
	return s.newOperation(next.GetName(), proto.Clone(next).(*runpb.Service), failure, s.polls), nil
}

// commit stores in as the new spec of st and reconciles it, creating revision newRev unless it
// is empty. failure is set when the new revision is not Ready. Callers hold s.mu.
func (s *Server) commit(st *serviceState, in *runpb.Service, newRev string) (next *runpb.Service, failure error) {
	cur := st.svc
	now := timestamppb.New(nextTime(st))
	next = &runpb.Service{
		Name:                  cur.GetName(),
		Description:           in.GetDescription(),
		Uid:                   cur.GetUid(),
		Generation:            cur.GetGeneration() + 1,
		Labels:                in.GetLabels(),
		Annotations:           in.GetAnnotations(),
		CreateTime:            cur.GetCreateTime(),
		UpdateTime:            now,
		Creator:               cur.GetCreator(),
		LastModifier:          cur.GetLastModifier(),
		Ingress:               in.GetIngress(),
		LaunchStage:           in.GetLaunchStage(),
		Template:              proto.Clone(in.GetTemplate()).(*runpb.RevisionTemplate),
		Traffic:               cloneTraffic(in.GetTraffic()),
		Scaling:               in.GetScaling(),
		Urls:                  cur.GetUrls(),
		Uri:                   cur.GetUri(),
		LatestReadyRevision:   cur.GetLatestReadyRevision(),
		LatestCreatedRevision: cur.GetLatestCreatedRevision(),
		TrafficStatuses:       cur.GetTrafficStatuses(),
	}
	if len(next.Traffic) == 0 {
		next.Traffic = []*runpb.TrafficTarget{{Type: latestType, Percent: 100}}
	}
	next.ObservedGeneration = next.Generation
	next.Etag = s.newEtag()

	if newRev != "" {
		rev := s.buildRevision(st, next, newRev, now)
		st.revisions = append(st.revisions, rev)
		next.LatestCreatedRevision = rev.GetName()
		if st.failReady {
			msg := fmt.Sprintf("Revision '%s' is not ready and cannot serve traffic. The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable within the allocated timeout.", newRev)
			failure = status.Error(codes.FailedPrecondition, msg)
			next.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_FAILED, msg, now)
			next.Conditions = []*runpb.Condition{condition("ConfigurationsReady", runpb.Condition_CONDITION_FAILED, msg, now)}
		} else {
			next.LatestReadyRevision = rev.GetName()
		}
	}
	if failure == nil {
		next.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_SUCCEEDED, "", now)
		next.TrafficStatuses = trafficStatuses(next)
	}
	st.svc = next
	return next, failure
}

// newRevisionName decides whether the update creates a revision and what it is called. It
// returns "" when the template is unchanged (traffic, labels or annotations only).
func (s *Server) newRevisionName(st *serviceState, in *runpb.Service, force bool) (string, error) {
	want := templateSpec(in.GetTemplate())
	if named := in.GetTemplate().GetRevision(); named != "" {
		if !strings.HasPrefix(named, shortName(st.svc.GetName())+"-") {
			return "", status.Errorf(codes.InvalidArgument,
				"template.revision: Revision name must be prefixed by the name of the enclosing Service or Configuration with a trailing -: '%s'", named)
		}
		if rev := st.revision(named); rev != nil {
			if !proto.Equal(revisionSpec(rev), want) {
				return "", status.Errorf(codes.AlreadyExists,
					"Revision named '%s' with different configuration already exists.", named)
			}
			return "", nil
		}
		return named, nil
	}
	if !force && proto.Equal(templateSpec(st.svc.GetTemplate()), want) {
		return "", nil
	}
	return fmt.Sprintf("%s-%05d-%s", shortName(st.svc.GetName()), st.svc.GetGeneration()+1, s.randomLetters(3)), nil
}

func (s *Server) lookup(name string) (*serviceState, error) {
	st, ok := s.services[name]
	if ok {
		return st, nil
	}
	project, location, service := splitServiceName(name)
	if service == "" {
		return nil, status.Errorf(codes.InvalidArgument, "name: %q is not projects/*/locations/*/services/*", name)
	}
	return nil, status.Errorf(codes.NotFound,
		"Resource '%s' of kind 'SERVICE' in region '%s' in project '%s' does not exist.", service, location, project)
}

// splitServiceName returns the parts of projects/P/locations/L/services/S, or empty strings.
func splitServiceName(name string) (project, location, service string) {
	p := strings.Split(name, "/")
	if len(p) != 6 || p[0] != "projects" || p[2] != "locations" || p[4] != "services" {
		return "", "", ""
	}
	return p[1], p[3], p[5]
}

func condition(typ string, state runpb.Condition_State, msg string, at *timestamppb.Timestamp) *runpb.Condition {
	c := &runpb.Condition{Type: typ, State: state, Message: msg, LastTransitionTime: at}
	if state == runpb.Condition_CONDITION_FAILED {
		c.Severity = runpb.Condition_ERROR
	}
	return c
}

// ListServices returns the services of projects/P/locations/L by name, page_size at a time
// (all of them when it is 0); page_token is the offset of the first service of the page.
// Cloud Run refuses the "-" wildcard location, and so does the fake.
func (f *servicesServer) ListServices(_ context.Context, req *runpb.ListServicesRequest) (*runpb.ListServicesResponse, error) {
	p := strings.Split(req.GetParent(), "/")
	if len(p) != 4 || p[0] != "projects" || p[2] != "locations" || p[1] == "" || p[3] == "" || p[3] == "-" {
		return nil, status.Errorf(codes.InvalidArgument, "parent: %q is not projects/*/locations/* with a named location", req.GetParent())
	}
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	prefix := req.GetParent() + "/services/"
	var names []string
	for name := range f.s.services {
		if strings.HasPrefix(name, prefix) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(names) {
			return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not valid", tok)
		}
		start = n
	}
	end := len(names)
	if n := int(req.GetPageSize()); n > 0 && start+n < end {
		end = start + n
	}
	resp := &runpb.ListServicesResponse{}
	for _, name := range names[start:end] {
		resp.Services = append(resp.Services, proto.Clone(f.s.services[name].svc).(*runpb.Service))
	}
	if end < len(names) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}
