package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/scenario"
)

func runFakes(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "fakes", "[--scenario DIR] [--run-addr A] [--monitoring-addr A]",
		"Serve fake Cloud Run Admin and Monitoring APIs on loopback, seeded from a scenario whose\n"+
			"times are moved so that its capture time is now, until interrupted. Point runmedic at them\n"+
			"with the printed exports to try `plan --live`, `apply` and `snapshot` without a project.")
	var dir, runAddr, monAddr string
	fs.StringVar(&dir, "scenario", filepath.Join("tests", "scenarios", "insufficient-memory"), "scenario folder to seed the fakes from")
	fs.StringVar(&runAddr, "run-addr", "127.0.0.1:9010", "address of the fake Cloud Run Admin API")
	fs.StringVar(&monAddr, "monitoring-addr", "127.0.0.1:9011", "address of the fake Monitoring API")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	sc, err := scenario.Load(dir)
	if err != nil {
		return fail(e, err)
	}
	snap, err := sc.Prepare()
	if err != nil {
		return fail(e, err)
	}
	snap = snap.Shifted(time.Now().UTC().Truncate(time.Minute).Sub(snap.CapturedAt))
	run, err := cloudruntest.StartOn(runAddr)
	if err != nil {
		return fail(e, fmt.Errorf("fake Cloud Run on %s: %w", runAddr, err))
	}
	defer run.Close()
	if err := run.SeedFromSnapshot(snap); err != nil {
		return fail(e, err)
	}
	mon, err := monitoringtest.StartOn(monAddr)
	if err != nil {
		return fail(e, fmt.Errorf("fake Monitoring on %s: %w", monAddr, err))
	}
	defer mon.Close()
	mon.SeedFromSnapshot(snap)
	fmt.Fprintf(e.stdout, "Serving %s from %s until interrupted (Ctrl-C).\n", snap.Target.Name(), dir)
	fmt.Fprintf(e.stdout, "export RUNMEDIC_RUN_ENDPOINT=%s RUNMEDIC_MONITORING_ENDPOINT=%s\n", run.Addr(), mon.Addr())
	<-ctx.Done()
	fmt.Fprintln(e.stdout, "Stopped.")
	return exitOK
}
