package discover_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/discover"
)

// BenchmarkServices discovers 500 services (every other one opted in) in one project and
// location through the real client and the Cloud Run fake on loopback: "listing" lists them
// each time (5 pages), "cached" is a call inside the TTL.
func BenchmarkServices(b *testing.B) {
	srv := cloudruntest.New(b)
	for i := range 500 {
		svc := &runpb.Service{
			Name:     fmt.Sprintf("projects/p1/locations/europe-west1/services/svc-%04d", i),
			Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "img"}}},
		}
		if i%2 == 0 {
			svc.Labels = map[string]string{config.ModeLabel: "enforce"}
		}
		if err := srv.AddService(svc); err != nil {
			b.Fatal(err)
		}
	}
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	base, err := config.Default()
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := config.Parse([]byte("services:\n  - {project: p1, location: europe-west1, service: \"*\"}\n"), base)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		step time.Duration // how far the clock moves between calls
	}{
		{"listing", discover.DefaultTTL},
		{"cached", time.Second},
	} {
		b.Run(bc.name, func(b *testing.B) {
			d := &discover.Discoverer{Config: cfg, Lister: c}
			now := t0
			if _, err := d.Services(context.Background(), now); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for range b.N {
				now = now.Add(bc.step)
				got, err := d.Services(context.Background(), now)
				if err != nil || len(got) != 250 {
					b.Fatalf("Services = %d members, %v; want 250", len(got), err)
				}
			}
		})
	}
}
