package fleet_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/fleettest"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/status"
)

// BenchmarkStatus100 reads 100 services (copies of the fleet fixture) through the real clients
// and the fakes, eight at a time, as `runmedic status` does.
func BenchmarkStatus100(b *testing.B) {
	f := fleettest.Start(b, now)
	snaps, err := fleettest.Snapshots(now)
	if err != nil {
		b.Fatal(err)
	}
	r := reader(b, f)
	r.Config.Services = nil
	var targets []snapshot.Target
	for i := range 100 {
		s := snaps[i%3]
		s.Target.Service = fmt.Sprintf("svc-%03d", i)
		s.Service.Annotations = map[string]string{}
		for k, v := range snaps[i%3].Service.Annotations {
			s.Service.Annotations[k] = v
		}
		if err := f.Run.SeedFromSnapshot(s); err != nil {
			b.Fatal(err)
		}
		f.Monitoring.SeedFromSnapshot(s)
		f.Logging.SeedFromSnapshot(s)
		targets = append(targets, s.Target)
		r.Config.Services = append(r.Config.Services, config.ServiceRule{Project: s.Target.Project, Location: s.Target.Location, Service: s.Target.Service})
	}
	b.ResetTimer()
	for b.Loop() {
		rows := status.Collect(context.Background(), targets, status.Limit, func(ctx context.Context, tg snapshot.Target) (status.Row, error) {
			return r.Row(ctx, tg, now)
		})
		if rows[99].Error != "" {
			b.Fatal(rows[99].Error)
		}
	}
}
