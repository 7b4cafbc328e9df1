package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func runSnapshot(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "snapshot", "--service projects/P/locations/L/services/S [--incident F] > snapshot.json",
		"Capture a live service (its template, traffic, revisions, three hours of metrics, per revision\n"+
			"too, the OOM kills in its logs and runmedic's history) as snapshot v1 JSON, read-only: a real incident saved for `plan` and `replay`.\n"+
			"With --incident the snapshot carries that incident; without, a placeholder open incident.")
	var service, incident string
	fs.StringVar(&service, "service", "", "the service to capture (required unless --incident names it)")
	fs.StringVar(&incident, "incident", "", "notification JSON whose incident (and, without --service, target) the snapshot carries")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	now := time.Now().UTC()
	a := alert.Alert{Incident: snapshot.Incident{
		ID: "manual-" + now.Format("20060102T150405Z"), State: snapshot.StateOpen, Policy: "manual",
		StartedAt: now, Labels: map[string]string{},
	}}
	if incident != "" {
		raw, err := os.ReadFile(incident)
		if err != nil {
			return fail(e, fmt.Errorf("read incident: %w", err))
		}
		if a, err = (scenario.Scenario{Incident: raw, IncidentName: incident}).Alert(); err != nil {
			return fail(e, err)
		}
	}
	if service != "" {
		t, err := parseService(service)
		if err != nil {
			return fail(e, err)
		}
		a.Target = t
	}
	if a.Target.Service == "" {
		return fail(e, fmt.Errorf("--service is required without --incident"))
	}
	cs, err := newClients(ctx, e, clients.Options{})
	if err != nil {
		return fail(e, err)
	}
	defer cs.Close()
	r := &remediate.Remediator{Observer: cs.Run, Metrics: cs.Monitoring, Logs: cs.Logs}
	closeLedger, err := withLedger(ctx, e, r, true) // the history is the ledger's when there is one
	if err != nil {
		return fail(e, err)
	}
	defer closeLedger()
	snap, _, warning, err := r.Observe(ctx, a, now)
	if err != nil {
		return fail(e, liveError(e, err))
	}
	if warning != nil {
		fmt.Fprintf(e.stderr, "Warning: %v; the snapshot's history is empty\n", warning)
	}
	if err := snap.Validate(); err != nil {
		return fail(e, fmt.Errorf("captured snapshot is not valid: %w", err))
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(snap); err != nil {
		return fail(e, err)
	}
	return exitOK
}
