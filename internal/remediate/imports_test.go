package remediate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// TestTickImportsLegacyAtBoundedRate: with the ledger, a tick reads at most ImportBatch idle
// services to find legacy annotations; one that has one is imported, the others are marked in
// the ledger, and once all are checked an idle fleet costs a tick no Cloud Run read, in this
// process or in a new one.
func TestTickImportsLegacyAtBoundedRate(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	idle := remediate.ImportBatch + 10
	add := func(name string, ann map[string]string) snapshot.Target {
		s := e.snap
		s.Target.Service = name
		s.Service.Annotations = ann
		if err := e.run.SeedFromSnapshot(s); err != nil {
			t.Fatal(err)
		}
		e.r.Config.Services = append(e.r.Config.Services, config.ServiceRule{Project: s.Target.Project, Location: s.Target.Location, Service: name})
		return s.Target
	}
	old := snapshot.Action{Incident: "old-1", Action: "raise_memory", At: e.t0.Add(-3 * time.Hour), Outcome: "verified"}
	ann, err := state.Encode(state.State{Version: state.Version, Actions: []snapshot.Action{old}})
	if err != nil {
		t.Fatal(err)
	}
	var legacy snapshot.Target
	for i := range idle {
		if i == idle-1 { // last, so that it is found by the second tick
			legacy = add("legacy", map[string]string{state.Annotation: ann})
			continue
		}
		add(fmt.Sprintf("idle-%02d", i), nil)
	}
	managed := len(e.r.Config.Services)

	gets := func() int { return e.run.Calls("GetService") }
	tick := func(r *remediate.Remediator) int {
		t.Helper()
		before := gets()
		if _, err := r.Tick(e.ctx); err != nil {
			t.Fatalf("tick: %v", err)
		}
		return gets() - before
	}
	if n := tick(e.r); n != remediate.ImportBatch {
		t.Errorf("first tick read %d services, want the batch of %d", n, remediate.ImportBatch)
	}
	// The rest, the legacy service among them: it is read once to check, once to reconcile.
	if n, want := tick(e.r), managed-remediate.ImportBatch+1; n != want {
		t.Errorf("second tick read %d services, want %d", n, want)
	}
	entry, err := e.ledger.Peek(e.ctx, legacy, "", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(entry.State.Actions) != 1 || entry.State.Actions[0].Incident != "old-1" {
		t.Errorf("legacy history in the ledger: %+v, want the imported action of old-1", entry.State.Actions)
	}
	if n := tick(e.r); n != 0 {
		t.Errorf("idle fleet, every service checked: tick read %d services, want 0", n)
	}
	if n := tick(e.instance()); n != 0 {
		t.Errorf("a new process: tick read %d services, want 0 (the ledger remembers the checks)", n)
	}
}

// TestTickDiscoversOptedInServices: with a "*" rule, the tick checks the services discovery
// finds opted in, importing a legacy annotation, and never reads one that opted out.
func TestTickDiscoversOptedInServices(t *testing.T) {
	e := newEnv(t, "insufficient-memory", nil)
	old := snapshot.Action{Incident: "old-2", Action: "raise_memory", At: e.t0.Add(-3 * time.Hour), Outcome: "verified"}
	ann, err := state.Encode(state.State{Version: state.Version, Actions: []snapshot.Action{old}})
	if err != nil {
		t.Fatal(err)
	}
	add := func(name, mode string, ann map[string]string) snapshot.Target {
		s := e.snap
		s.Target.Service = name
		s.Service.Labels = map[string]string{config.ModeLabel: mode}
		s.Service.Annotations = ann
		if err := e.run.SeedFromSnapshot(s); err != nil {
			t.Fatal(err)
		}
		return s.Target
	}
	found := add("found", "enforce", nil)
	legacy := add("found-legacy", "shadow", map[string]string{state.Annotation: ann})
	off := add("opted-out", "off", map[string]string{state.Annotation: ann})
	e.r.Config.Services = append(e.r.Config.Services, config.ServiceRule{Project: found.Project, Location: found.Location, Service: config.AnyService})
	e.r.Fleet = &discover.Discoverer{Config: e.r.Config, Lister: e.r.Observer.(*cloudrun.Client)}

	if _, err := e.r.Tick(e.ctx); err != nil {
		t.Fatalf("tick: %v", err)
	}
	left, err := e.ledger.Unimported(e.ctx, []snapshot.Target{found, legacy, off})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 || left[0] != off {
		t.Errorf("unimported after a tick = %v, want the opted-out service alone", left)
	}
	entry, err := e.ledger.Peek(e.ctx, legacy, "", e.clock.Now())
	if err != nil || len(entry.State.Actions) != 1 || entry.State.Actions[0].Incident != "old-2" {
		t.Errorf("discovered service's legacy history in the ledger = %+v, %v; want old-2 imported", entry.State.Actions, err)
	}
}
