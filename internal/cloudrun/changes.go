package cloudrun

import (
	"encoding/json"
	"fmt"
	"math"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// applyChanges sets each change's After value on svc. Values may be typed (string, int,
// []snapshot.TrafficTarget) or what encoding/json made of them (float64, []any of map[string]any).
// An unknown path or a value of the wrong shape is an error and svc must then be discarded.
func applyChanges(svc *runpb.Service, changes []snapshot.Change) error {
	t := svc.GetTemplate()
	i := servingIndex(t.GetContainers())
	if i < 0 {
		return fmt.Errorf("service has no container to change")
	}
	ctr := t.Containers[i]
	setLimit := func(key, value string) {
		if ctr.Resources == nil {
			ctr.Resources = &runpb.ResourceRequirements{}
		}
		if ctr.Resources.Limits == nil {
			ctr.Resources.Limits = map[string]string{}
		}
		ctr.Resources.Limits[key] = value
	}
	for _, ch := range changes {
		switch ch.Path {
		case snapshot.PathMemory:
			s, err := memoryValue(ch.After)
			if err != nil {
				return fmt.Errorf("change %s: %w", ch.Path, err)
			}
			setLimit("memory", s)
		case snapshot.PathCPU:
			s, err := cpuValue(ch.After)
			if err != nil {
				return fmt.Errorf("change %s: %w", ch.Path, err)
			}
			setLimit("cpu", s)
		case snapshot.PathMaxConcurrency:
			n, err := snapshot.IntValue(ch.After)
			if err != nil || n <= 0 || n > math.MaxInt32 {
				return fmt.Errorf("change %s: %v is not a positive whole number", ch.Path, ch.After)
			}
			t.MaxInstanceRequestConcurrency = int32(n)
		case snapshot.PathImage:
			s, ok := ch.After.(string)
			if !ok || s == "" {
				return fmt.Errorf("change %s: %v is not an image reference", ch.Path, ch.After)
			}
			ctr.Image = s
		case snapshot.PathRestart:
			s := fmt.Sprint(ch.After)
			if ch.After == nil || s == "" {
				return fmt.Errorf("change %s: needs a non-empty value to mark the new revision", ch.Path)
			}
			if t.Annotations == nil {
				t.Annotations = map[string]string{}
			}
			t.Annotations[RestartAnnotation] = s
		case snapshot.PathTraffic:
			tt, err := trafficValue(ch.After)
			if err != nil {
				return fmt.Errorf("change %s: %w", ch.Path, err)
			}
			svc.Traffic = tt
		default:
			return fmt.Errorf("change %s: unknown path", ch.Path)
		}
	}
	return nil
}

func memoryValue(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v (%T) is not a memory quantity like 2Gi", v, v)
	}
	if _, err := quantity.ParseMemory(s); err != nil {
		return "", err
	}
	return s, nil
}

// cpuValue accepts "2", "1000m" or a number (a JSON document may say 2).
func cpuValue(v any) (string, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case int, int32, int64, float64, json.Number:
		s = fmt.Sprint(x)
	default:
		return "", fmt.Errorf("%v (%T) is not a cpu quantity like 2 or 1000m", v, v)
	}
	if _, err := quantity.ParseCPU(s); err != nil {
		return "", err
	}
	return s, nil
}

// trafficValue converts a split to Cloud Run's targets. Cloud Run itself checks that it sums to
// 100 and names Ready revisions.
func trafficValue(v any) ([]*runpb.TrafficTarget, error) {
	targets, err := snapshot.TrafficValue(v)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, fmt.Errorf("empty traffic split")
	}
	out := make([]*runpb.TrafficTarget, 0, len(targets))
	for _, t := range targets {
		tt := &runpb.TrafficTarget{Revision: t.Revision, Percent: int32(t.Percent), Tag: t.Tag}
		switch t.Type {
		case snapshot.TrafficLatest:
			tt.Type = runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
		case snapshot.TrafficRevision:
			tt.Type = runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
		default:
			return nil, fmt.Errorf("traffic type %q is not LATEST or REVISION", t.Type)
		}
		out = append(out, tt)
	}
	return out, nil
}
