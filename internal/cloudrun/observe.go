package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"
	"sort"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Cloud Run's values for what a template leaves unset.
const (
	defaultMemory      = "512Mi"
	defaultCPU         = "1"
	defaultConcurrency = 80
)

// Observation is one read of a service, in the orchestrator's own terms: StateAnnotation holds
// the value of StateAnnotation and Claim the value of ClaimAnnotation.
type Observation = snapshot.Observation

// Observe reads the service and all its revisions.
func (c *Client) Observe(ctx context.Context, target snapshot.Target) (_ Observation, err error) {
	defer func() { err = transient(err) }()
	name := target.Name()
	svc, err := c.services.GetService(ctx, &runpb.GetServiceRequest{Name: name}, readOpts()...)
	if err != nil {
		return Observation{}, fmt.Errorf("get service %s: %w", name, err)
	}
	var revs []*runpb.Revision
	it := c.revisions.ListRevisions(ctx, &runpb.ListRevisionsRequest{Parent: name}, readOpts()...)
	for {
		r, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return Observation{}, fmt.Errorf("list revisions of %s: %w", name, err)
		}
		revs = append(revs, r)
	}
	return Observation{
		Service:         serviceSnapshot(svc),
		Revisions:       revisionSnapshots(svc, revs),
		StateAnnotation: svc.GetAnnotations()[StateAnnotation],
		Claim:           svc.GetAnnotations()[ClaimAnnotation],
		Reconciling:     svc.GetReconciling(),
	}, nil
}

// serviceSnapshot flattens svc around its serving container.
func serviceSnapshot(svc *runpb.Service) snapshot.Service {
	t := svc.GetTemplate()
	out := snapshot.Service{
		Etag:                  svc.GetEtag(),
		Generation:            svc.GetGeneration(),
		Labels:                maps.Clone(svc.GetLabels()),
		Annotations:           maps.Clone(svc.GetAnnotations()),
		Traffic:               trafficSnapshot(svc.GetTraffic()),
		LatestReadyRevision:   shortName(svc.GetLatestReadyRevision()),
		LatestCreatedRevision: shortName(svc.GetLatestCreatedRevision()),
		Template: snapshot.Template{
			MaxConcurrency: concurrency(t.GetMaxInstanceRequestConcurrency()),
			MinInstances:   int(t.GetScaling().GetMinInstanceCount()),
			MaxInstances:   int(t.GetScaling().GetMaxInstanceCount()),
		},
	}
	if out.Labels == nil {
		out.Labels = map[string]string{}
	}
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	delete(out.Annotations, StateAnnotation)
	delete(out.Annotations, ClaimAnnotation)
	serving := servingIndex(t.GetContainers())
	if serving >= 0 {
		ctr := t.GetContainers()[serving]
		out.Template.Image = ctr.GetImage()
		out.Template.Memory, out.Template.CPU = limits(ctr)
	}
	if len(t.GetContainers()) > 1 {
		for i, ctr := range t.GetContainers() {
			mem, cpu := limits(ctr)
			out.Containers = append(out.Containers, snapshot.Container{
				Name: ctr.GetName(), Image: ctr.GetImage(), Memory: mem, CPU: cpu, Serving: i == serving,
			})
		}
	}
	return out
}

// revisionSnapshots converts revs, newest first, with the traffic each serves now: from
// traffic_statuses once Cloud Run reports them, else from the configured traffic.
func revisionSnapshots(svc *runpb.Service, revs []*runpb.Revision) []snapshot.Revision {
	percent := servedPercent(svc)
	out := make([]snapshot.Revision, 0, len(revs))
	for _, r := range revs {
		short := shortName(r.GetName())
		rs := snapshot.Revision{
			Name:           short,
			CreatedAt:      r.GetCreateTime().AsTime().UTC(),
			Ready:          revisionReady(r),
			MaxConcurrency: concurrency(r.GetMaxInstanceRequestConcurrency()),
			TrafficPercent: percent[short],
		}
		if i := servingIndex(r.GetContainers()); i >= 0 {
			rs.Image = r.GetContainers()[i].GetImage()
			rs.Memory, rs.CPU = limits(r.GetContainers()[i])
		}
		out = append(out, rs)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
}

// servedPercent maps short revision names to the percent of traffic they serve.
func servedPercent(svc *runpb.Service) map[string]int {
	out := map[string]int{}
	latest := shortName(svc.GetLatestReadyRevision())
	if st := svc.GetTrafficStatuses(); len(st) > 0 {
		for _, t := range st {
			out[resolve(t.GetType(), t.GetRevision(), latest)] += int(t.GetPercent())
		}
		return out
	}
	traffic := svc.GetTraffic()
	if len(traffic) == 0 {
		out[latest] = 100
	}
	for _, t := range traffic {
		out[resolve(t.GetType(), t.GetRevision(), latest)] += int(t.GetPercent())
	}
	return out
}

func resolve(typ runpb.TrafficTargetAllocationType, rev, latest string) string {
	if typ == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST && rev == "" {
		return latest
	}
	return shortName(rev)
}

// trafficSnapshot converts the configured traffic; none configured means LATEST 100 %.
func trafficSnapshot(in []*runpb.TrafficTarget) []snapshot.TrafficTarget {
	if len(in) == 0 {
		return []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
	}
	out := make([]snapshot.TrafficTarget, 0, len(in))
	for _, t := range in {
		typ := snapshot.TrafficRevision
		if t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST {
			typ = snapshot.TrafficLatest
		}
		out = append(out, snapshot.TrafficTarget{Type: typ, Revision: t.GetRevision(), Percent: int(t.GetPercent()), Tag: t.GetTag()})
	}
	return out
}

// servingIndex is the container that receives traffic: the one with a port, else the first; -1
// when there is none.
func servingIndex(ctrs []*runpb.Container) int {
	for i, c := range ctrs {
		if len(c.GetPorts()) > 0 {
			return i
		}
	}
	if len(ctrs) > 0 {
		return 0
	}
	return -1
}

func limits(c *runpb.Container) (memory, cpu string) {
	l := c.GetResources().GetLimits()
	memory, cpu = l["memory"], l["cpu"]
	if memory == "" {
		memory = defaultMemory
	}
	if cpu == "" {
		cpu = defaultCPU
	}
	return memory, cpu
}

func concurrency(n int32) int {
	if n == 0 {
		return defaultConcurrency
	}
	return int(n)
}

func revisionReady(r *runpb.Revision) bool {
	for _, c := range r.GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetState() == runpb.Condition_CONDITION_SUCCEEDED
		}
	}
	return false
}

// shortName is the last segment of a resource name; short names and "" pass through.
func shortName(name string) string {
	if name == "" {
		return ""
	}
	return path.Base(name)
}
