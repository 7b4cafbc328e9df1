package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/grpcproxy"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/scenario"
)

func runFakes(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "fakes", "[--scenario DIR] [--run-addr A] [--monitoring-addr A] [--logging-addr A]",
		"Serve fake Cloud Run Admin, Monitoring and Logging APIs and the Firestore emulator (the\n"+
			"ledger) on loopback, seeded from a scenario whose times are moved so that its capture time is\n"+
			"now, until interrupted. Point runmedic at them with the printed exports to try `plan --live`,\n"+
			"`apply`, `serve` and `snapshot` without a project.\n"+
			"Fakes given the same address share one port.")
	var dir, runAddr, monAddr, logAddr string
	fs.StringVar(&dir, "scenario", filepath.Join("tests", "scenarios", "insufficient-memory"), "scenario folder to seed the fakes from")
	fs.StringVar(&runAddr, "run-addr", "127.0.0.1:9010", "address of the fake Cloud Run Admin API")
	fs.StringVar(&monAddr, "monitoring-addr", "127.0.0.1:9011", "address of the fake Monitoring API")
	fs.StringVar(&logAddr, "logging-addr", "127.0.0.1:9012", "address of the fake Logging API")
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

	// A fake whose address another fake shares listens on a free port behind a proxy there.
	uses := map[string]int{runAddr: 0, monAddr: 0, logAddr: 0}
	for _, a := range []string{runAddr, monAddr, logAddr} {
		uses[a]++
	}
	own := func(addr string) string {
		if uses[addr] > 1 {
			return "127.0.0.1:0"
		}
		return addr
	}
	run, err := cloudruntest.StartOn(own(runAddr))
	if err != nil {
		return fail(e, fmt.Errorf("fake Cloud Run on %s: %w", runAddr, err))
	}
	defer run.Close()
	if err := run.SeedFromSnapshot(snap); err != nil {
		return fail(e, err)
	}
	mon, err := monitoringtest.StartOn(own(monAddr))
	if err != nil {
		return fail(e, fmt.Errorf("fake Monitoring on %s: %w", monAddr, err))
	}
	defer mon.Close()
	mon.SeedFromSnapshot(snap)
	lg, err := loggingtest.StartOn(own(logAddr))
	if err != nil {
		return fail(e, fmt.Errorf("fake Logging on %s: %w", logAddr, err))
	}
	defer lg.Close()
	lg.SeedFromSnapshot(snap)

	served := map[string]string{runAddr: run.Addr(), monAddr: mon.Addr(), logAddr: lg.Addr()}
	routes := map[string][]grpcproxy.Route{}
	routes[runAddr] = append(routes[runAddr],
		grpcproxy.Route{Prefix: "google.cloud.run.", Backend: run.Addr()},
		grpcproxy.Route{Prefix: "google.longrunning.", Backend: run.Addr()})
	routes[monAddr] = append(routes[monAddr], grpcproxy.Route{Prefix: "google.monitoring.", Backend: mon.Addr()})
	routes[logAddr] = append(routes[logAddr], grpcproxy.Route{Prefix: "google.logging.", Backend: lg.Addr()})
	for addr, n := range uses {
		if n < 2 {
			continue
		}
		p, err := grpcproxy.Start(addr, routes[addr]...)
		if err != nil {
			return fail(e, fmt.Errorf("shared fakes on %s: %w", addr, err))
		}
		defer p.Close()
		served[addr] = p.Addr()
	}
	fmt.Fprintf(e.stdout, "Serving %s from %s until interrupted (Ctrl-C).\n", snap.Target.Name(), dir)
	fmt.Fprintf(e.stdout, "export RUNMEDIC_RUN_ENDPOINT=%s RUNMEDIC_MONITORING_ENDPOINT=%s RUNMEDIC_LOGGING_ENDPOINT=%s\n",
		served[runAddr], served[monAddr], served[logAddr])
	// The emulator takes a few seconds to start; the fakes answer meanwhile.
	ledgerDone := make(chan struct{})
	go func() {
		defer close(ledgerDone)
		fsEmu, err := firestoretest.Start(ctx)
		if err != nil {
			if ctx.Err() == nil {
				fmt.Fprintf(e.stderr, "Error: %v\n", err)
			}
			return
		}
		defer fsEmu.Close()
		fmt.Fprintf(e.stdout, "export %s=%s %s=%s\n", ledger.EnvEmulator, fsEmu.Host(), ledger.EnvProject, snap.Target.Project)
		<-ctx.Done()
	}()
	<-ctx.Done()
	<-ledgerDone
	fmt.Fprintln(e.stdout, "Stopped.")
	return exitOK
}
