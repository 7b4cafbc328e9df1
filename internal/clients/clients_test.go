package clients_test

import (
	"context"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestEndpointsFromEnvironment connects each client to the fake its variable names.
func TestEndpointsFromEnvironment(t *testing.T) {
	run, mon, lg := cloudruntest.New(t), monitoringtest.New(t), loggingtest.New(t)
	now := time.Now().UTC().Truncate(time.Minute)
	target := snapshot.Target{Project: "p", Location: "europe-west1", Service: "api"}
	mon.SetSeries("run.googleapis.com/container/memory/utilizations", target, []snapshot.Point{{At: now, Value: 0.5}}, nil)
	lg.Add(loggingtest.Entry(target, "api-00001", now.Add(-time.Minute), loggingtest.OOMText(512, 530)))
	vars := map[string]string{
		clients.EnvRunEndpoint:        run.Addr(),
		clients.EnvMonitoringEndpoint: mon.Addr(),
		clients.EnvLoggingEndpoint:    lg.Addr(),
	}
	cs, err := clients.New(context.Background(), func(k string) string { return vars[k] }, clients.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer cs.Close()
	m, err := cs.Monitoring.Series(context.Background(), target, now, time.Hour)
	if err != nil || len(m.MemoryUtilization) != 1 {
		t.Errorf("Series through %s = %+v, %v; want one point", clients.EnvMonitoringEndpoint, m, err)
	}
	logs := cs.Logs.OOMKills(context.Background(), target, now, time.Hour)
	if !logs.Available || len(logs.OOMKills) != 1 || logs.OOMKills[0].MaxUsedMiB != 530 {
		t.Errorf("OOMKills through %s = %+v, want one kill at 530 MiB", clients.EnvLoggingEndpoint, logs)
	}
}
