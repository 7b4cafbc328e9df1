package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/fleettest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// TestViewsReadTheLedger: with GOOGLE_CLOUD_PROJECT and the emulator, status and report read
// runmedic's record from the ledger (the services' annotations are gone), and write nothing to
// it.
func TestViewsReadTheLedger(t *testing.T) {
	f := fleettest.Start(t, time.Now())
	cfg := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(cfg, []byte(fleettest.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	project := firestoretest.Project(t)
	store := firestoretest.Shared(t).StoreIn(t, project)
	for _, tg := range []snapshot.Target{fleettest.API, fleettest.Worker, fleettest.Web} {
		st, err := state.Decode(f.Run.Service(tg.Name()).GetAnnotations()[state.Annotation])
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Record(ctx, tg, state.State{Version: state.Version, Durable: true}, st); err != nil {
			t.Fatal(err)
		}
		if err := f.Run.Modify(tg.Name(), func(s *runpb.Service) { delete(s.Annotations, state.Annotation) }); err != nil {
			t.Fatal(err)
		}
	}
	vars := f.Env()
	if code, out, _ := runCLI(t, vars, "status", "--config", cfg); code != exitOK || strings.Contains(out, "verifying") {
		t.Fatalf("status without the ledger = %d, want no record shown (the annotations are gone):\n%s", code, out)
	}
	vars[ledger.EnvProject], vars[ledger.EnvEmulator] = project, firestoretest.Shared(t).Host()
	code, out, errOut := runCLI(t, vars, "status", "--config", cfg)
	if code != exitOK {
		t.Fatalf("status = %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"aiprod-api", "verifying", "aiprod-worker", "pinned", "failing sink: chat to backend-lead refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("status from the ledger lacks %q:\n%s", want, out)
		}
	}
	// Without --service, the incident is found in the ledger.
	code, out, errOut = runCLI(t, vars, "report", "--config", cfg, "--incident", fleettest.Incident)
	if code != exitOK {
		t.Fatalf("report = %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"on aiprod-api", "template.memory 2Gi → 4Gi", fleettest.APIRaised, "not judged yet"} {
		if !strings.Contains(out, want) {
			t.Errorf("report from the ledger lacks %q:\n%s", want, out)
		}
	}
	for _, tg := range []snapshot.Target{fleettest.API, fleettest.Worker, fleettest.Web} {
		e, err := store.Peek(ctx, tg, "", time.Now())
		if err != nil || e.Version != 1 {
			t.Errorf("%s ledger version after the views = %d, %v; want 1, the seeding write alone", tg.Service, e.Version, err)
		}
	}
}
