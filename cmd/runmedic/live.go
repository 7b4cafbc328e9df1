package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// liveRemediator connects to Cloud Run, Monitoring and Logging (or the fakes the environment
// points at) and returns a remediator with the clock as its time. Topics are connected only for
// commands that change something, so the audit trail records CLI applies as it records the
// function's.
// The policy set and config come from pf, with overlay (a --config file's content) merged last.
func liveRemediator(ctx context.Context, e env, pf policyFlags, overlay []byte, topics bool) (*remediate.Remediator, func(), error) {
	runner, err := pf.runner()
	if err != nil {
		return nil, nil, err
	}
	eng, cfg, err := runner.Engine(ctx, overlay)
	if err != nil {
		return nil, nil, err
	}
	cs, err := newClients(ctx, e, clients.Options{Topics: topics})
	if err != nil {
		return nil, nil, err
	}
	r := &remediate.Remediator{
		Policy: eng, Config: cfg, Observer: cs.Run, Applier: cs.Run, Metrics: cs.Monitoring, Logs: cs.Logs,
		Log: audit.NewLogger(e.stderr), Now: time.Now,
	}
	if cs.Audit != nil {
		r.Audit = cs.Audit
	}
	if cs.Notify != nil {
		r.Notify = cs.Notify
	}
	closeLedger, err := withLedger(ctx, e, r, false)
	if err != nil {
		cs.Close()
		return nil, nil, err
	}
	return r, func() { closeLedger(); cs.Close() }, nil
}

// withLedger gives r runmedic's ledger, as the function has it, when GOOGLE_CLOUD_PROJECT names
// its project (RUNMEDIC_FIRESTORE_DATABASE, FIRESTORE_EMULATOR_HOST as for the function), so a
// change made here is claimed and recorded like the function's. Without it r reads the service's
// legacy state annotation. readOnly gives r the ledger through Peek (see peekLedger), for the
// commands that only show something.
func withLedger(ctx context.Context, e env, r *remediate.Remediator, readOnly bool) (func(), error) {
	if e.getenv(ledger.EnvProject) == "" {
		return func() {}, nil
	}
	store, err := clients.Ledger(ctx, e.getenv)
	if err != nil {
		return nil, err
	}
	r.Ledger = store
	if readOnly {
		r.Ledger = peekLedger{store}
	}
	return func() { store.Close() }, nil
}

// parseService reads projects/P/locations/L/services/S.
func parseService(name string) (snapshot.Target, error) {
	p := strings.Split(name, "/")
	if len(p) != 6 || p[0] != "projects" || p[2] != "locations" || p[4] != "services" || p[1] == "" || p[3] == "" || p[5] == "" {
		return snapshot.Target{}, fmt.Errorf("--service %q: want projects/PROJECT/locations/LOCATION/services/SERVICE", name)
	}
	return snapshot.Target{Project: p[1], Location: p[3], Service: p[5]}, nil
}

// liveAlert decodes the scenario's incident and applies a --service override.
func liveAlert(sc scenario.Scenario, service string) (alert.Alert, error) {
	a, err := sc.Alert()
	if err != nil {
		return alert.Alert{}, err
	}
	if service != "" {
		if a.Target, err = parseService(service); err != nil {
			return alert.Alert{}, err
		}
	}
	return a, nil
}

// livePlan decides the incident against the live service exactly as the function would, through
// the remediator's Prepare (which also verifies a pending change and plans a revert that is owed),
// and changes nothing.
func livePlan(ctx context.Context, e env, sc scenario.Scenario, service string, eng *policy.Engine, cfg config.Config) (snapshot.Snapshot, remediate.Outcome, error) {
	a, err := liveAlert(sc, service)
	if err != nil {
		return snapshot.Snapshot{}, remediate.Outcome{}, err
	}
	cs, err := newClients(ctx, e, clients.Options{})
	if err != nil {
		return snapshot.Snapshot{}, remediate.Outcome{}, err
	}
	defer cs.Close()
	r := &remediate.Remediator{
		Policy: eng, Config: cfg, Observer: cs.Run, Applier: cs.Run, Metrics: cs.Monitoring, Logs: cs.Logs,
		Log: audit.NewLogger(e.stderr), Now: time.Now,
	}
	closeLedger, err := withLedger(ctx, e, r, true)
	if err != nil {
		return snapshot.Snapshot{}, remediate.Outcome{}, err
	}
	defer closeLedger()
	run, err := r.Prepare(ctx, a)
	if err != nil {
		return snapshot.Snapshot{}, remediate.Outcome{}, liveError(e, err)
	}
	return run.Snapshot, run.Outcome, nil
}

// liveError adds the likely fix to an error of a live call that could not reach its API.
func liveError(e env, err error) error {
	if status.Code(err) != codes.Unavailable && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if run := e.getenv(clients.EnvRunEndpoint); run != "" {
		return fmt.Errorf("%w; nothing answers at %s=%s or %s=%s: is `runmedic fakes` running?",
			err, clients.EnvRunEndpoint, run, clients.EnvMonitoringEndpoint, e.getenv(clients.EnvMonitoringEndpoint))
	}
	return fmt.Errorf("%w; the Google Cloud APIs are not reachable from here: check the network and proxy, or point %s and %s at local fakes",
		err, clients.EnvRunEndpoint, clients.EnvMonitoringEndpoint)
}
