package fleet_test

import (
	"context"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/fleettest"
)

// TestManagedIncludesOptedIn: with a "*" rule, the views show the named services and the ones
// that opted in with their mode label, not the ones that opted out.
func TestManagedIncludesOptedIn(t *testing.T) {
	f := fleettest.Start(t, now)
	snaps, err := fleettest.Snapshots(f.Now)
	if err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]string{"aiprod-search": "enforce", "aiprod-legacy": "off"} {
		s := snaps[0]
		s.Target.Service = name
		s.Service.Labels = map[string]string{config.ModeLabel: mode}
		if err := f.Run.SeedFromSnapshot(s); err != nil {
			t.Fatal(err)
		}
	}
	r := reader(t, f)
	r.Lister = r.Run.(*cloudrun.Client)
	r.Config.Services = append(r.Config.Services, config.ServiceRule{Project: fleettest.Web.Project, Location: fleettest.Web.Location, Service: config.AnyService})
	got, err := r.Managed(context.Background(), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tg := range got {
		names = append(names, tg.Service)
	}
	if want := "aiprod-web aiprod-api aiprod-worker aiprod-search"; strings.Join(names, " ") != want {
		t.Errorf("managed = %v, want %s", names, want)
	}
	if only, _ := r.Managed(context.Background(), []string{"aiprod-batch-77"}, now); len(only) != 1 || only[0] != fleettest.Worker {
		t.Errorf("managed in aiprod-batch-77 = %v, want aiprod-worker alone", only)
	}
}
