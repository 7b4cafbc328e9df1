package cloudruntest

import (
	"fmt"
	"sort"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/quantity"
)

// Cloud Run's defaults for a container without limits.
const (
	defaultMemory = "512Mi"
	defaultCPU    = "1"
)

// reservedPrefixes are the annotation and label namespaces the v2 API keeps for itself.
var reservedPrefixes = []string{"run.googleapis.com/", "cloud.googleapis.com/", "serving.knative.dev/", "autoscaling.knative.dev/"}

// validateService applies Cloud Run's checks on everything but traffic. cur is the stored
// service: reserved keys it already carries with the same value are tolerated, new ones are not.
func validateService(in, cur *runpb.Service) error {
	checks := []struct {
		field     string
		got, have map[string]string
	}{
		{"annotations", in.GetAnnotations(), cur.GetAnnotations()},
		{"labels", in.GetLabels(), cur.GetLabels()},
		{"template.annotations", in.GetTemplate().GetAnnotations(), cur.GetTemplate().GetAnnotations()},
		{"template.labels", in.GetTemplate().GetLabels(), cur.GetTemplate().GetLabels()},
	}
	for _, c := range checks {
		if err := reservedKeys(c.field, c.got, c.have); err != nil {
			return err
		}
	}
	t := in.GetTemplate()
	if len(t.GetContainers()) == 0 {
		return status.Error(codes.InvalidArgument, "template.containers: at least one container is required")
	}
	if n := t.GetMaxInstanceRequestConcurrency(); n < 0 || n > 1000 {
		return status.Errorf(codes.InvalidArgument,
			"template.max_instance_request_concurrency: must be between 0 and 1000, got %d", n)
	}
	if sc := t.GetScaling(); sc.GetMaxInstanceCount() > 0 && sc.GetMinInstanceCount() > sc.GetMaxInstanceCount() {
		return status.Errorf(codes.InvalidArgument,
			"template.scaling: min_instance_count %d is greater than max_instance_count %d", sc.GetMinInstanceCount(), sc.GetMaxInstanceCount())
	}
	for i, c := range t.GetContainers() {
		if c.GetImage() == "" {
			return status.Errorf(codes.InvalidArgument, "template.containers[%d].image: field is required", i)
		}
		if err := validateResources(i, c.GetResources().GetLimits()); err != nil {
			return err
		}
	}
	return nil
}

func reservedKeys(field string, got, have map[string]string) error {
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, p := range reservedPrefixes {
			if strings.HasPrefix(k, p) && (have == nil || have[k] != got[k]) {
				return status.Errorf(codes.InvalidArgument,
					"%s: Cloud Run API v2 does not support keys in the '%s' namespace: '%s'", field, strings.TrimSuffix(p, "/"), k)
			}
		}
	}
	return nil
}

// validateResources enforces the memory/CPU table: memory above 4Gi needs 2 CPU, above 8Gi 4,
// above 16Gi 6, above 24Gi 8; at most 32Gi; CPU is a fraction up to 1 or one of 1, 2, 4, 6, 8.
func validateResources(i int, limits map[string]string) error {
	mem, cpu := limits["memory"], limits["cpu"]
	if mem == "" {
		mem = defaultMemory
	}
	if cpu == "" {
		cpu = defaultCPU
	}
	field := fmt.Sprintf("template.containers[%d].resources.limits", i)
	mib, err := quantity.ParseMemory(mem)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "%s.memory: Invalid value specified for memory: '%s'.", field, mem)
	}
	milli, err := quantity.ParseCPU(cpu)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "%s.cpu: Invalid value specified for cpu: '%s'.", field, cpu)
	}
	if milli < 80 || (milli > 1000 && milli != 2000 && milli != 4000 && milli != 6000 && milli != 8000) {
		return status.Errorf(codes.InvalidArgument,
			"%s.cpu: Invalid value specified for cpu. For the specified value, cpu must be one of [1, 2, 4, 6, 8] or between 0.08 and 1: '%s'.", field, cpu)
	}
	if mib > quantity.MaxMemoryMiB {
		return status.Errorf(codes.InvalidArgument, "%s.memory: Invalid value specified for memory. Memory must be at most 32Gi: '%s'.", field, mem)
	}
	if mib < 128 {
		return status.Errorf(codes.InvalidArgument, "%s.memory: Invalid value specified for memory. Memory must be at least 128Mi: '%s'.", field, mem)
	}
	if need := quantity.MinCPUForMemory(mib); milli < need {
		return status.Errorf(codes.InvalidArgument,
			"%s.memory: Invalid value specified for memory. For %s CPU, memory must be between 128Mi and %s inclusive.",
			field, quantity.FormatCPU(milli), quantity.FormatMemory(maxMemoryFor(milli)))
	}
	return nil
}

func maxMemoryFor(milli int64) int64 {
	switch {
	case milli >= 8000:
		return 32 * 1024
	case milli >= 6000:
		return 24 * 1024
	case milli >= 4000:
		return 16 * 1024
	case milli >= 2000:
		return 8 * 1024
	}
	return 4 * 1024
}

// validateTraffic checks a traffic split: non-negative percents summing to 100, LATEST entries
// without a revision, REVISION entries naming an existing Ready revision (or newRev, the one this
// request creates), unique tags.
func validateTraffic(st *serviceState, traffic []*runpb.TrafficTarget, newRev string) error {
	if len(traffic) == 0 {
		return nil // Cloud Run routes 100 % to the latest Ready revision
	}
	sum := int32(0)
	tags := map[string]bool{}
	for i, t := range traffic {
		if t.GetPercent() < 0 || t.GetPercent() > 100 {
			return status.Errorf(codes.InvalidArgument, "traffic[%d].percent: must be between 0 and 100, got %d", i, t.GetPercent())
		}
		sum += t.GetPercent()
		if tag := t.GetTag(); tag != "" {
			if tags[tag] {
				return status.Errorf(codes.InvalidArgument, "traffic[%d].tag: tag '%s' is used more than once", i, tag)
			}
			tags[tag] = true
		}
		switch t.GetType() {
		case latestType:
			if t.GetRevision() != "" {
				return status.Errorf(codes.InvalidArgument, "traffic[%d]: a LATEST target must not name a revision", i)
			}
		case revisionType:
			name := t.GetRevision()
			if name == newRev && name != "" {
				continue
			}
			rev := st.revision(name)
			if rev == nil {
				return status.Errorf(codes.InvalidArgument,
					"Revision '%s' does not exist or is deleted. Update all traffic to route to currently available revisions.", name)
			}
			if t.GetPercent() > 0 && !ready(rev) {
				return status.Errorf(codes.InvalidArgument,
					"Revision '%s' is not ready and cannot serve traffic.", name)
			}
		default:
			return status.Errorf(codes.InvalidArgument, "traffic[%d].type: must be LATEST or REVISION", i)
		}
	}
	if sum != 100 {
		return status.Errorf(codes.InvalidArgument, "Traffic percentages must add up to 100, got %d.", sum)
	}
	return nil
}
