package snapshot

import "time"

// Shifted returns a copy of s with every time moved by d: the capture time, the incident, the
// revisions, the metric points (per revision too), the OOM-kill times and the history. Seeding live fakes from a fixture uses it so the
// fixture's "now" becomes the clock's, with every age and window unchanged.
func (s Snapshot) Shifted(d time.Duration) Snapshot {
	out := s
	out.CapturedAt = s.CapturedAt.Add(d)
	out.Incident.StartedAt = s.Incident.StartedAt.Add(d)
	if s.Incident.EndedAt != nil {
		t := s.Incident.EndedAt.Add(d)
		out.Incident.EndedAt = &t
	}
	out.Revisions = make([]Revision, len(s.Revisions))
	for i, r := range s.Revisions {
		r.CreatedAt = r.CreatedAt.Add(d)
		out.Revisions[i] = r
	}
	shift := func(ps []Point) []Point {
		if ps == nil {
			return nil
		}
		o := make([]Point, len(ps))
		for i, p := range ps {
			o[i] = Point{At: p.At.Add(d), Value: p.Value}
		}
		return o
	}
	out.Metrics = Metrics{
		MemoryUtilization: shift(s.Metrics.MemoryUtilization),
		InstanceCount:     shift(s.Metrics.InstanceCount),
		RequestCount:      shift(s.Metrics.RequestCount),
		ServerErrorCount:  shift(s.Metrics.ServerErrorCount),
	}
	if s.Metrics.MemoryByRevision != nil {
		out.Metrics.MemoryByRevision = make(map[string][]Point, len(s.Metrics.MemoryByRevision))
		for rev, ps := range s.Metrics.MemoryByRevision {
			out.Metrics.MemoryByRevision[rev] = shift(ps)
		}
	}
	if s.Logs != nil {
		logs := *s.Logs
		logs.OOMKills = make([]OOMKill, len(s.Logs.OOMKills))
		for i, k := range s.Logs.OOMKills {
			k.First, k.Last = k.First.Add(d), k.Last.Add(d)
			logs.OOMKills[i] = k
		}
		out.Logs = &logs
	}
	out.History = make([]Action, len(s.History))
	for i, a := range s.History {
		a.At = a.At.Add(d)
		out.History[i] = a
	}
	return out
}
