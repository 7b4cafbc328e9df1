package main

import (
	"context"
	"fmt"
	"io"

	"github.com/runmedic/runmedic/internal/clients"
)

// endpoint is one API a live command talks to, and the variable that points it at a local fake.
type endpoint struct {
	api, env, google string
}

var liveEndpoints = []endpoint{
	{"Cloud Run", clients.EnvRunEndpoint, "run.googleapis.com"},
	{"Monitoring", clients.EnvMonitoringEndpoint, "monitoring.googleapis.com"},
}

// printEndpoints says, once, which API answers each call: a local fake or Google's. It reports
// whether any is Google's, that is whether the command acts on real projects.
func printEndpoints(w io.Writer, getenv func(string) string) (real bool) {
	for _, ep := range liveEndpoints {
		if addr := getenv(ep.env); addr != "" {
			fmt.Fprintf(w, "%-11s API: %s (local fake, %s)\n", ep.api, addr, ep.env)
			continue
		}
		real = true
		fmt.Fprintf(w, "%-11s API: %s (Google, as the Application Default Credentials identity)\n", ep.api, ep.google)
	}
	return real
}

// newClients connects a live command's clients after saying which endpoints they use.
func newClients(ctx context.Context, e env, opts clients.Options) (*clients.Set, error) {
	printEndpoints(e.stderr, e.getenv)
	return clients.New(ctx, e.getenv, opts)
}
