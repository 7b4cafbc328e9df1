package main

import (
	"context"
	"errors"
)

func runUnpin(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "unpin", "--service projects/P/locations/L/services/S [--auto-approve] [flags]",
		"Release the traffic pin runmedic set with a rollback: all traffic back to the latest Ready\n"+
			"revision. It is a plan and an apply through the same guard as every other change.")
	var (
		pf                   policyFlags
		service              string
		autoApprove, noColor bool
	)
	fs.StringVar(&service, "service", "", "the service whose pin to release (required)")
	fs.BoolVar(&autoApprove, "auto-approve", false, "apply without asking")
	fs.BoolVar(&noColor, "no-color", false, "never colour the output")
	pf.register(fs)
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if service == "" {
		return fail(e, errors.New("--service is required"))
	}
	target, err := parseService(service)
	if err != nil {
		return fail(e, err)
	}
	r, closeClients, err := liveRemediator(ctx, e, pf, nil, true)
	if err != nil {
		return fail(e, err)
	}
	defer closeClients()
	run, err := r.PrepareUnpin(ctx, target)
	if err != nil {
		return fail(e, liveError(e, err))
	}
	return confirmAndExecute(ctx, e, r, run, autoApprove, noColor)
}
