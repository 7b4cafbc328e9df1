package cloudruntest

import (
	"fmt"
	"maps"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// AddService seeds a service and its revisions, as if Cloud Run had created them. Missing output
// fields are filled the way Cloud Run would: generation 1, an etag, full revision names (short
// names are accepted), revisions without conditions are Ready, latest created/ready revisions are
// the newest (ready) ones, empty traffic is LATEST 100 %, traffic_statuses resolve LATEST. With no
// revisions, one is created from the template.
func (s *Server) AddService(svc *runpb.Service, revisions ...*runpb.Revision) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	svc = proto.Clone(svc).(*runpb.Service)
	name := svc.GetName()
	if _, _, short := splitServiceName(name); short == "" {
		return fmt.Errorf("add service: name %q is not projects/*/locations/*/services/*", name)
	}
	if _, ok := s.services[name]; ok {
		return fmt.Errorf("add service %s: already exists", name)
	}
	if svc.Template == nil {
		return fmt.Errorf("add service %s: template is required", name)
	}
	if svc.Generation == 0 {
		svc.Generation = 1
	}
	if svc.Etag == "" {
		svc.Etag = s.newEtag()
	}
	svc.ObservedGeneration = svc.Generation
	if len(svc.Traffic) == 0 {
		svc.Traffic = []*runpb.TrafficTarget{{Type: latestType, Percent: 100}}
	}
	st := &serviceState{svc: svc}
	for _, r := range revisions {
		r = proto.Clone(r).(*runpb.Revision)
		if !strings.Contains(r.Name, "/") {
			r.Name = name + "/revisions/" + r.Name
		}
		r.Service = name
		if r.CreateTime == nil {
			r.CreateTime = timestamppb.New(nextTime(st))
		}
		if len(r.Conditions) == 0 {
			r.Conditions = []*runpb.Condition{condition("Ready", runpb.Condition_CONDITION_SUCCEEDED, "", r.CreateTime)}
		}
		st.revisions = append(st.revisions, r)
	}
	if len(st.revisions) == 0 {
		short := fmt.Sprintf("%s-%05d-%s", shortName(name), svc.Generation, s.randomLetters(3))
		st.revisions = append(st.revisions, s.buildRevision(st, svc, short, timestamppb.New(nextTime(st))))
	}
	newest := newestFirst(st.revisions)
	svc.LatestCreatedRevision = fullRevision(name, svc.LatestCreatedRevision, newest[0].GetName())
	readyName := ""
	for _, r := range newest {
		if ready(r) {
			readyName = r.GetName()
			break
		}
	}
	svc.LatestReadyRevision = fullRevision(name, svc.LatestReadyRevision, readyName)
	if len(svc.TrafficStatuses) == 0 {
		svc.TrafficStatuses = trafficStatuses(svc)
	}
	s.services[name] = st
	return nil
}

// fullRevision returns name's revision rev as a full resource name, or def when rev is empty.
func fullRevision(service, rev, def string) string {
	switch {
	case rev == "":
		return def
	case strings.Contains(rev, "/"):
		return rev
	}
	return service + "/revisions/" + rev
}

// SeedFromSnapshot seeds the service a snapshot describes: its template (one container listening
// on 8080, or the raw containers with the serving one listening), traffic, labels, annotations,
// etag and generation, and every revision with its image, limits, concurrency, age and
// readiness.
func (s *Server) SeedFromSnapshot(snap snapshot.Snapshot) error {
	in := snap.Service
	svc := &runpb.Service{
		Name:                  snap.Target.Name(),
		Generation:            in.Generation,
		Etag:                  in.Etag,
		Labels:                maps.Clone(in.Labels),
		Annotations:           maps.Clone(in.Annotations),
		LatestReadyRevision:   in.LatestReadyRevision,
		LatestCreatedRevision: in.LatestCreatedRevision,
		Template: &runpb.RevisionTemplate{
			MaxInstanceRequestConcurrency: int32(in.Template.MaxConcurrency),
			Scaling: &runpb.RevisionScaling{
				MinInstanceCount: int32(in.Template.MinInstances),
				MaxInstanceCount: int32(in.Template.MaxInstances),
			},
		},
	}
	if len(in.Containers) == 0 {
		svc.Template.Containers = []*runpb.Container{container("", in.Template.Image, in.Template.Memory, in.Template.CPU, true)}
	}
	for _, c := range in.Containers {
		svc.Template.Containers = append(svc.Template.Containers, container(c.Name, c.Image, c.Memory, c.CPU, c.Serving))
	}
	for _, t := range in.Traffic {
		typ := latestType
		if t.Type == snapshot.TrafficRevision {
			typ = revisionType
		}
		svc.Traffic = append(svc.Traffic, &runpb.TrafficTarget{Type: typ, Revision: t.Revision, Percent: int32(t.Percent), Tag: t.Tag})
	}
	if len(snap.History) > 0 {
		// runmedic keeps its history on the service; a fixture's history is seeded there too.
		ann, err := state.Encode(state.State{Version: state.Version, Actions: snap.History})
		if err != nil {
			return fmt.Errorf("seed from snapshot: history: %w", err)
		}
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[state.Annotation] = ann
	}
	var revs []*runpb.Revision
	for _, r := range snap.Revisions {
		state := runpb.Condition_CONDITION_SUCCEEDED
		if !r.Ready {
			state = runpb.Condition_CONDITION_FAILED
		}
		at := timestamppb.New(r.CreatedAt)
		rev := &runpb.Revision{
			Name:                          r.Name,
			CreateTime:                    at,
			MaxInstanceRequestConcurrency: int32(r.MaxConcurrency),
			Scaling:                       svc.Template.Scaling,
			Containers:                    []*runpb.Container{container("", r.Image, r.Memory, r.CPU, true)},
			Conditions:                    []*runpb.Condition{condition("Ready", state, "", at)},
		}
		if r.Name == in.LatestCreatedRevision {
			rev.Containers = svc.Template.Containers // the template is this revision's spec
			rev.MaxInstanceRequestConcurrency = svc.Template.MaxInstanceRequestConcurrency
		}
		revs = append(revs, rev)
	}
	if err := s.AddService(svc, revs...); err != nil {
		return fmt.Errorf("seed from snapshot: %w", err)
	}
	return nil
}

func container(name, image, memory, cpu string, serving bool) *runpb.Container {
	c := &runpb.Container{Name: name, Image: image, Resources: &runpb.ResourceRequirements{Limits: map[string]string{}}}
	if memory != "" {
		c.Resources.Limits["memory"] = memory
	}
	if cpu != "" {
		c.Resources.Limits["cpu"] = cpu
	}
	if serving {
		c.Ports = []*runpb.ContainerPort{{Name: "http1", ContainerPort: 8080}}
	}
	return c
}
