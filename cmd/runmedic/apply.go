package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/snapshot"
)

func runApply(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "apply", "--incident F --live [--auto-approve] [flags]",
		"Plan an incident against the live service, show the plan, ask for `yes`, and apply it through\n"+
			"the same guard as the Cloud Function, recording runmedic's state on the service. The plan\n"+
			"applied is exactly the plan shown: if the service changes in between, nothing is applied.\n\n"+
			"Exit codes: 0 applied or nothing to change, 3 the plan will not be applied (the guard refused\n"+
			"it, or shadow mode), 1 error or not confirmed.")
	var (
		pf                         policyFlags
		incident, service          string
		live, autoApprove, noColor bool
	)
	fs.StringVar(&incident, "incident", "", "notification JSON file (required)")
	fs.BoolVar(&live, "live", false, "act on the live service (required: apply never works on a snapshot)")
	fs.StringVar(&service, "service", "", "projects/P/locations/L/services/S to act on instead of the incident's")
	fs.BoolVar(&autoApprove, "auto-approve", false, "apply without asking")
	fs.BoolVar(&noColor, "no-color", false, "never colour the output")
	pf.register(fs)
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if !live {
		return fail(e, errors.New("apply changes the live service: add --live (use `runmedic plan --snapshot` to try a snapshot)"))
	}
	sc, err := readScenario(incident, "")
	if err != nil {
		return fail(e, err)
	}
	a, err := liveAlert(sc, service)
	if err != nil {
		return fail(e, err)
	}
	r, closeClients, err := liveRemediator(ctx, e, pf, sc.Config, true)
	if err != nil {
		return fail(e, err)
	}
	defer closeClients()
	run, err := r.Prepare(ctx, a)
	if err != nil {
		return fail(e, liveError(e, err))
	}
	return confirmAndExecute(ctx, e, r, run, autoApprove, noColor)
}

// confirmAndExecute shows the run's plan, asks for `yes` unless autoApprove, executes it and
// prints what happened.
func confirmAndExecute(ctx context.Context, e env, r *remediate.Remediator, run *remediate.Run, autoApprove, noColor bool) int {
	p := run.Outcome.Plan
	opts := plan.TextOptions{Color: e.stdoutIsTerminal && !noColor && e.getenv("NO_COLOR") == "", Applying: true}
	if err := plan.RenderText(e.stdout, p, opts); err != nil {
		return fail(e, err)
	}
	switch {
	case len(p.Changes) == 0 && run.Outcome.Step == "unpin":
		// Traffic already moved: only runmedic's record of the pin is left to clear.
		if _, err := r.Execute(ctx, run); err != nil {
			return fail(e, err)
		}
		return exitOK
	case len(p.Changes) == 0:
		return exitOK
	case !p.Applyable:
		fmt.Fprintf(e.stderr, "Not applied: %s\n", notApplyable(p))
		return exitRefused
	case !autoApprove:
		if !e.stdinIsTerminal {
			return fail(e, errors.New("stdin is not a terminal: pass --auto-approve to apply without asking"))
		}
		fmt.Fprint(e.stdout, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			fmt.Fprintln(e.stdout, "\nApply cancelled.")
			return exitError
		}
	}
	ev, err := executeWithProgress(ctx, e, r, run, applyProgressEvery)
	if errors.Is(err, cloudrun.ErrConflict) {
		return fail(e, errors.New("the service changed since the plan was made; nothing was applied; run apply again"))
	}
	if err != nil {
		return fail(e, liveError(e, err))
	}
	fmt.Fprintf(e.stdout, "\nApply complete! %d changed.\n", len(p.Changes))
	if ev.Result != nil {
		if ev.Result.Revision != "" {
			fmt.Fprintf(e.stdout, "  new revision: %s (ready: %t)\n", ev.Result.Revision, ev.Result.Ready)
		}
		fmt.Fprintf(e.stdout, "  operation:    %s\n", ev.Result.Operation)
	}
	if obs, err := r.Observer.Observe(ctx, run.Alert.Target); err == nil {
		fmt.Fprintf(e.stdout, "  traffic:      %s\n", describeTraffic(obs.Service.Traffic))
	}
	return exitOK
}

// applyProgressEvery is how often apply says it is still waiting for Cloud Run.
var applyProgressEvery = 5 * time.Second

// executeWithProgress executes the run, saying what it is doing and, every interval while Cloud
// Run's operation runs, how long it has been: a rollout takes tens of seconds, and silence at
// 3 a.m. reads as a hang.
func executeWithProgress(ctx context.Context, e env, r *remediate.Remediator, run *remediate.Run, interval time.Duration) (audit.Event, error) {
	fmt.Fprintf(e.stdout, "\nApplying to %s: UpdateService, then waiting for the new revision to be Ready…\n", run.Outcome.Plan.Target)
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(e.stdout, "  still applying (%s elapsed)\n", time.Since(start).Round(time.Second))
			}
		}
	}()
	ev, err := r.Execute(ctx, run)
	close(done)
	wg.Wait()
	if err == nil {
		fmt.Fprintf(e.stdout, "  done in %s\n", time.Since(start).Round(100*time.Millisecond))
	}
	return ev, err
}

// notApplyable says why a plan with changes cannot be applied.
func notApplyable(p plan.Plan) string {
	if len(p.Guard.Refusals) > 0 {
		var rules []string
		for _, r := range p.Guard.Refusals {
			rules = append(rules, r.Rule+": "+r.Message)
		}
		return "refused by " + strings.Join(rules, "; ")
	}
	return fmt.Sprintf("mode %s plans and records, never applies", p.Guard.Mode)
}

func describeTraffic(ts []snapshot.TrafficTarget) string {
	var parts []string
	for _, t := range ts {
		name := t.Revision
		if t.Type == snapshot.TrafficLatest {
			name = "LATEST"
		}
		parts = append(parts, fmt.Sprintf("%s %d%%", name, t.Percent))
	}
	return strings.Join(parts, ", ")
}
