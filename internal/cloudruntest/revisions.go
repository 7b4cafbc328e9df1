package cloudruntest

import (
	"context"
	"path"
	"sort"
	"strconv"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

const (
	latestType   = runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
	revisionType = runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
)

type revisionsServer struct {
	runpb.UnimplementedRevisionsServer
	s *Server
}

// ListRevisions returns the service's revisions newest first, as Cloud Run does. page_token is
// the offset of the first revision of the page.
func (f *revisionsServer) ListRevisions(_ context.Context, req *runpb.ListRevisionsRequest) (*runpb.ListRevisionsResponse, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	st, err := f.s.lookup(req.GetParent())
	if err != nil {
		return nil, err
	}
	all := newestFirst(st.revisions)
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		start, err = strconv.Atoi(tok)
		if err != nil || start < 0 || start > len(all) {
			return nil, status.Errorf(codes.InvalidArgument, "page_token: %q is not valid", tok)
		}
	}
	end := len(all)
	if n := int(req.GetPageSize()); n > 0 && start+n < end {
		end = start + n
	}
	resp := &runpb.ListRevisionsResponse{Revisions: all[start:end]}
	if end < len(all) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

func (f *revisionsServer) GetRevision(_ context.Context, req *runpb.GetRevisionRequest) (*runpb.Revision, error) {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	name := req.GetName()
	if st, ok := f.s.services[path.Dir(path.Dir(name))]; ok {
		if rev := st.revision(path.Base(name)); rev != nil {
			return proto.Clone(rev).(*runpb.Revision), nil
		}
	}
	return nil, status.Errorf(codes.NotFound,
		"Resource '%s' of kind 'REVISION' does not exist.", path.Base(name))
}

// newestFirst returns clones of revs sorted by create_time, newest first.
func newestFirst(revs []*runpb.Revision) []*runpb.Revision {
	out := make([]*runpb.Revision, len(revs))
	for i, r := range revs {
		out[i] = proto.Clone(r).(*runpb.Revision)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].GetCreateTime().AsTime().After(out[j].GetCreateTime().AsTime())
	})
	return out
}

// revision finds a revision by its short name.
func (st *serviceState) revision(short string) *runpb.Revision {
	for _, r := range st.revisions {
		if shortName(r.GetName()) == short {
			return r
		}
	}
	return nil
}

// buildRevision materialises svc's template as revision short, Ready unless the service is
// scripted to fail.
func (s *Server) buildRevision(st *serviceState, svc *runpb.Service, short string, at *timestamppb.Timestamp) *runpb.Revision {
	t := svc.GetTemplate()
	rev := &runpb.Revision{
		Name:                          svc.GetName() + "/revisions/" + short,
		Uid:                           s.newEtag(),
		Generation:                    1,
		Labels:                        t.GetLabels(),
		Annotations:                   t.GetAnnotations(),
		CreateTime:                    at,
		UpdateTime:                    at,
		Service:                       svc.GetName(),
		Scaling:                       t.GetScaling(),
		MaxInstanceRequestConcurrency: t.GetMaxInstanceRequestConcurrency(),
		Timeout:                       t.GetTimeout(),
		ServiceAccount:                t.GetServiceAccount(),
		Containers:                    t.GetContainers(),
		Volumes:                       t.GetVolumes(),
		ExecutionEnvironment:          t.GetExecutionEnvironment(),
		ObservedGeneration:            1,
		Etag:                          s.newEtag(),
	}
	rev = proto.Clone(rev).(*runpb.Revision)
	if st.failReady {
		rev.Conditions = []*runpb.Condition{condition("Ready", runpb.Condition_CONDITION_FAILED,
			"The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.", at)}
	} else {
		rev.Conditions = []*runpb.Condition{condition("Ready", runpb.Condition_CONDITION_SUCCEEDED, "", at)}
	}
	return rev
}

// templateSpec is the part of a template that defines a revision; two templates with equal specs
// produce the same revision. revisionSpec is the same projection of an existing revision.
func templateSpec(t *runpb.RevisionTemplate) *runpb.RevisionTemplate {
	return &runpb.RevisionTemplate{
		Labels:                        t.GetLabels(),
		Annotations:                   t.GetAnnotations(),
		Scaling:                       t.GetScaling(),
		Timeout:                       t.GetTimeout(),
		ServiceAccount:                t.GetServiceAccount(),
		Containers:                    t.GetContainers(),
		Volumes:                       t.GetVolumes(),
		ExecutionEnvironment:          t.GetExecutionEnvironment(),
		MaxInstanceRequestConcurrency: t.GetMaxInstanceRequestConcurrency(),
	}
}

func revisionSpec(r *runpb.Revision) *runpb.RevisionTemplate {
	return &runpb.RevisionTemplate{
		Labels:                        r.GetLabels(),
		Annotations:                   r.GetAnnotations(),
		Scaling:                       r.GetScaling(),
		Timeout:                       r.GetTimeout(),
		ServiceAccount:                r.GetServiceAccount(),
		Containers:                    r.GetContainers(),
		Volumes:                       r.GetVolumes(),
		ExecutionEnvironment:          r.GetExecutionEnvironment(),
		MaxInstanceRequestConcurrency: r.GetMaxInstanceRequestConcurrency(),
	}
}

func ready(r *runpb.Revision) bool {
	for _, c := range r.GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetState() == runpb.Condition_CONDITION_SUCCEEDED
		}
	}
	return false
}

// trafficStatuses is what svc serves once reconciled: its traffic with LATEST resolved to the
// latest ready revision.
func trafficStatuses(svc *runpb.Service) []*runpb.TrafficTargetStatus {
	var out []*runpb.TrafficTargetStatus
	for _, t := range svc.GetTraffic() {
		st := &runpb.TrafficTargetStatus{Type: t.GetType(), Revision: t.GetRevision(), Percent: t.GetPercent(), Tag: t.GetTag()}
		if t.GetType() == latestType {
			st.Revision = shortName(svc.GetLatestReadyRevision())
		}
		out = append(out, st)
	}
	return out
}

func cloneTraffic(in []*runpb.TrafficTarget) []*runpb.TrafficTarget {
	out := make([]*runpb.TrafficTarget, len(in))
	for i, t := range in {
		out[i] = proto.Clone(t).(*runpb.TrafficTarget)
	}
	return out
}

// shortName is the last segment of a resource name; short names pass through.
func shortName(name string) string {
	if name == "" {
		return ""
	}
	return path.Base(name)
}
