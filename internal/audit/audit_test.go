package audit

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

const target = "projects/aiprod-484120/locations/europe-west1/services/aiprod-api"

// appliedEvent is a complete event: a memory raise that went through.
func appliedEvent() Event {
	return Event{
		Time:          time.Date(2026, 2, 4, 10, 31, 5, 0, time.UTC),
		Incident:      "0.nrwotmyokd9n",
		IncidentState: snapshot.StateOpen,
		Target:        target,
		Step:          string(decision.RaiseMemory),
		Delivery:      "2070443601311540",
		Decision: &decision.Decision{
			Action:    decision.RaiseMemory,
			Diagnosis: decision.InsufficientMemory,
			Reason:    "memory high and flat at 93% of 2Gi",
			Evidence:  []string{"memory_now=0.93", "memory_slope_per_hour=0.01"},
			Params:    decision.Params{Memory: "4Gi", CPU: "2"},
			Policy:    "runmedic.oom",
		},
		Changes: []snapshot.Change{
			{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")},
			{Path: snapshot.PathCPU, Before: snapshot.TextValue("1"), After: snapshot.TextValue("2")},
		},
		Guard:   &plan.Verdict{Allowed: true, Mode: "enforce", Refusals: []plan.Refusal{}},
		Applied: true,
		Result: &Result{
			Revision:  "aiprod-api-00043-xyz",
			Operation: "projects/aiprod-484120/locations/europe-west1/operations/op-1",
			Ready:     true,
		},
		Outcome: Applied,
	}.WithID()
}

// refusedEvent is an event the guard stopped.
func refusedEvent() Event {
	return Event{
		Time:          time.Date(2026, 2, 4, 10, 40, 0, 0, time.UTC),
		Incident:      "0.nrwotmyokd9n",
		IncidentState: snapshot.StateOpen,
		Target:        target,
		Step:          string(decision.RaiseMemory),
		Delivery:      "2070443601311541",
		Decision:      &decision.Decision{Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory, Evidence: []string{}, Policy: "runmedic.oom"},
		Guard: &plan.Verdict{Allowed: false, Mode: "enforce", Refusals: []plan.Refusal{
			{Rule: "cooldown", Message: "last change 9m ago, cooldown 15m"},
		}},
		Outcome: Refused,
	}.WithID()
}
