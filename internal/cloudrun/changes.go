package cloudrun

import (
	"fmt"
	"math"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// applyChanges sets each change's After value on svc. An unknown path or a value of the wrong
// shape is an error and svc must then be discarded.
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
			n, err := ch.After.Int()
			if err != nil || n <= 0 || n > math.MaxInt32 {
				return fmt.Errorf("change %s: %v is not a positive whole number", ch.Path, ch.After)
			}
			t.MaxInstanceRequestConcurrency = int32(n)
		case snapshot.PathImage:
			s, ok := ch.After.Text()
			if ch.After.Kind() != snapshot.KindText || !ok || s == "" {
				return fmt.Errorf("change %s: %v is not an image reference", ch.Path, ch.After)
			}
			ctr.Image = s
		case snapshot.PathRestart:
			s, ok := ch.After.Text()
			if !ok || s == "" {
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

func memoryValue(v snapshot.Value) (string, error) {
	s, ok := v.Text()
	if !ok || v.Kind() != snapshot.KindText {
		return "", fmt.Errorf("%v is not a memory quantity like 2Gi", v)
	}
	if _, err := quantity.ParseMemory(s); err != nil {
		return "", err
	}
	return s, nil
}

// cpuValue accepts "2", "1000m" or a number (a JSON document may say 2).
func cpuValue(v snapshot.Value) (string, error) {
	s, ok := v.Text()
	if !ok && v.Kind() == snapshot.KindNumber {
		s, ok = v.String(), true // a fraction, 0.5, as the document wrote it
	}
	if !ok {
		return "", fmt.Errorf("%v is not a cpu quantity like 2 or 1000m", v)
	}
	if _, err := quantity.ParseCPU(s); err != nil {
		return "", err
	}
	return s, nil
}

// trafficValue converts a split to Cloud Run's targets. Cloud Run itself checks that it sums to
// 100 and names Ready revisions.
func trafficValue(v snapshot.Value) ([]*runpb.TrafficTarget, error) {
	targets, err := v.Traffic()
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
