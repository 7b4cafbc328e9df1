package fleet

import (
	"context"
	"slices"
	"time"

	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Managed are the services the views show: those the config names, then those its "*" rules
// admit that opted in with their mode label, listed once through Lister, in the given projects
// when any are named. A location that cannot be listed is reported beside the rest.
func (r Reader) Managed(ctx context.Context, projects []string, now time.Time) ([]snapshot.Target, error) {
	out := Targets(r.Config, projects)
	if r.Lister == nil {
		return out, nil
	}
	d := &discover.Discoverer{Config: r.Config, Lister: r.Lister}
	members, err := d.Services(ctx, now)
	for _, m := range members {
		if len(projects) > 0 && !contains(projects, m.Target.Project) || slices.Contains(out, m.Target) {
			continue
		}
		out = append(out, m.Target)
	}
	return out, err
}
