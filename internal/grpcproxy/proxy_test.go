package grpcproxy_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/grpcproxy"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/logs"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var (
	now    = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)
	target = snapshot.Target{Project: "p", Location: "europe-west1", Service: "api"}
)

// TestOneAddressServesEveryFake reads Monitoring and Logging through one proxy address with the
// real clients, and checks that a backend's status comes back unchanged.
func TestOneAddressServesEveryFake(t *testing.T) {
	mon, lg, run := monitoringtest.New(t), loggingtest.New(t), cloudruntest.New(t)
	p, err := grpcproxy.Start("127.0.0.1:0",
		grpcproxy.Route{Prefix: "google.monitoring.", Backend: mon.Addr()},
		grpcproxy.Route{Prefix: "google.logging.", Backend: lg.Addr()},
		grpcproxy.Route{Prefix: "google.cloud.run.", Backend: run.Addr()},
		grpcproxy.Route{Prefix: "google.longrunning.", Backend: run.Addr()},
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	ctx := context.Background()
	opts := cloudrun.EndpointOptions(p.Addr())

	mon.Set(monitoringtest.Series{Metric: monitoring.MetricMemory, Target: target, Revision: "api-1",
		Points: []snapshot.Point{{At: now.Add(-time.Minute), Value: 0.5}, {At: now, Value: 0.6}}})
	mc, err := monitoring.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	m, err := mc.Series(ctx, target, now, time.Hour)
	if err != nil {
		t.Fatalf("Series through the proxy: %v", err)
	}
	if len(m.MemoryUtilization) != 2 || len(m.MemoryByRevision["api-1"]) != 2 {
		t.Errorf("Series through the proxy = %+v, want two points for the service and for api-1", m)
	}

	lg.SeedFromSnapshot(snapshot.Snapshot{Target: target, Logs: &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: "api-1", Count: 2, LimitMiB: 512, MaxUsedMiB: 530, First: now.Add(-time.Hour), Last: now},
	}}})
	lr, err := logs.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer lr.Close()
	if got := lr.OOMKills(ctx, target, now, 3*time.Hour); !got.Available || len(got.OOMKills) != 1 || got.OOMKills[0].Count != 2 {
		t.Errorf("OOMKills through the proxy = %+v, want 2 kills of api-1", got)
	}

	rc, err := cloudrun.New(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = rc.Observe(ctx, target)
	if status.Code(err) != codes.NotFound {
		t.Errorf("Observe of a service the fake lacks, through the proxy: %v, want NotFound", err)
	}
	mon.FailNext(codes.PermissionDenied, 1)
	if _, err := mc.Series(ctx, target, now, time.Hour); status.Code(err) != codes.PermissionDenied {
		t.Errorf("Series with the backend denying = %v, want PermissionDenied", err)
	}
}

func TestUnroutedServiceIsUnimplemented(t *testing.T) {
	lg := loggingtest.New(t)
	p, err := grpcproxy.Start("127.0.0.1:0", grpcproxy.Route{Prefix: "google.logging.", Backend: lg.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	mc, err := monitoring.New(context.Background(), cloudrun.EndpointOptions(p.Addr())...)
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	if _, err := mc.Series(context.Background(), target, now, time.Hour); status.Code(err) != codes.Unimplemented {
		t.Errorf("Series with no Monitoring backend = %v, want Unimplemented", err)
	}
}
