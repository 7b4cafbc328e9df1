package plan_test

import (
	"fmt"
	"os"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func ExampleRenderText() {
	p := plan.Plan{
		FormatVersion: plan.FormatVersion,
		Incident:      "0.nrwotmyokd9n",
		Target:        "projects/aiprod-484120/locations/europe-west1/services/aiprod-api",
		Decision: decision.Decision{
			Action: decision.RaiseMemory, Diagnosis: decision.InsufficientMemory, Policy: "runmedic.oom",
			Reason: "memory is high and flat, not rising",
		},
		Changes: []snapshot.Change{
			{Path: snapshot.PathMemory, Before: snapshot.TextValue("4Gi"), After: snapshot.TextValue("8Gi")},
			{Path: snapshot.PathCPU, Before: snapshot.TextValue("1"), After: snapshot.TextValue("2")},
		},
		Notifications: []plan.Notification{{To: "backend-lead@aiprod.ai", After: "5m", Reason: "page if not recovering"}},
		Guard:         plan.Verdict{Allowed: true, Mode: "enforce", Refusals: []plan.Refusal{}},
		Applyable:     true,
	}
	if err := plan.RenderText(os.Stdout, p, plan.TextOptions{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// runmedic plan for incident 0.nrwotmyokd9n
	//   target: projects/aiprod-484120/locations/europe-west1/services/aiprod-api
	//
	// Decision: raise_memory (insufficient_memory) by runmedic.oom
	//   reason: memory is high and flat, not rising
	//
	// runmedic will perform the following actions:
	//
	//   # service "aiprod-api" will be updated in-place (a new revision will be created)
	//   ~ service "aiprod-api"
	//       ~ template.memory: "4Gi" -> "8Gi"
	//       ~ template.cpu:    "1" -> "2"
	//
	// Notifications:
	//   backend-lead@aiprod.ai  at T+5m  page if not recovering
	//
	// Guard: allowed, mode enforce
	//
	// Plan: 1 to change.
	//
	// To apply: runmedic apply --incident INCIDENT.json --live   (re-reads the live service, shows this plan again and asks for yes)
}
