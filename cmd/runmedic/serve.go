package main

import (
	"context"
	"fmt"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/fnserver"
)

func runServe(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "serve", "[--port P]",
		"Serve the Cloud Function on 127.0.0.1 through the functions framework, as Cloud Functions\n"+
			"runs it. It takes Pub/Sub push bodies posted to /projects/P/topics/T (the emulator's push\n"+
			"subscriptions) and CloudEvents posted to /. It is configured by the environment:\n"+
			"  "+clients.EnvRunEndpoint+", "+clients.EnvMonitoringEndpoint+",\n"+
			"  "+clients.EnvLoggingEndpoint+"                                host:port of local fakes (may be one)\n"+
			"  PUBSUB_EMULATOR_HOST                                     the Pub/Sub emulator\n"+
			"  GOOGLE_CLOUD_PROJECT, RUNMEDIC_FIRESTORE_DATABASE         the ledger's project and database\n"+
			"  FIRESTORE_EMULATOR_HOST                                  the Firestore emulator\n"+
			"  "+clients.EnvAuditTopic+", "+clients.EnvNotifyTopic+"               projects/P/topics/T\n"+
			"  "+function.EnvConfig+", "+function.EnvPolicies+"                     config file, policy directory\n"+
			"Stop it with Ctrl-C.")
	port := fs.Int("port", 8080, "port to listen on (127.0.0.1 only)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if *port < 1 || *port > 65535 {
		return fail(e, fmt.Errorf("--port %d: want 1-65535", *port))
	}
	url, done, err := fnserver.Start(ctx, function.EntryPoint, *port)
	if err != nil {
		return fail(e, err)
	}
	if printEndpoints(e.stderr, e.getenv) {
		fmt.Fprintf(e.stderr, "Warning: without %s and %s this acts on real projects as the Application Default Credentials identity: every alert it receives can change a live service.\n",
			clients.EnvRunEndpoint, clients.EnvMonitoringEndpoint)
	}
	fmt.Fprintf(e.stderr, "Serving function %s on %s\n  Pub/Sub push endpoint: %s/projects/PROJECT/topics/TOPIC\n  CloudEvents:           %s/\n",
		function.EntryPoint, url, url, url)
	select {
	case err := <-done:
		return fail(e, fmt.Errorf("serve %s: %w", url, err))
	case <-ctx.Done():
		// The framework offers no shutdown: the listener closes when the process exits, which
		// main does as soon as this returns.
		fmt.Fprintln(e.stderr, "Stopped.")
		return exitOK
	}
}
