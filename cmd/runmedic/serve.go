package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/clients"
)

// serveReady bounds how long a started framework server may take to accept connections.
const serveReady = 10 * time.Second

func runServe(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "serve", "[--port P]",
		"Serve the Cloud Function on 127.0.0.1 through the functions framework, as Cloud Functions\n"+
			"runs it. It takes Pub/Sub push bodies posted to /projects/P/topics/T (the emulator's push\n"+
			"subscriptions) and CloudEvents posted to /. It is configured by the environment:\n"+
			"  "+clients.EnvRunEndpoint+", "+clients.EnvMonitoringEndpoint+"  host:port of local fakes\n"+
			"  PUBSUB_EMULATOR_HOST                                     the Pub/Sub emulator\n"+
			"  "+clients.EnvAuditTopic+", "+clients.EnvNotifyTopic+"               projects/P/topics/T\n"+
			"  "+function.EnvConfig+", "+function.EnvPolicies+"                     config file, policy directory\n"+
			"Stop it with Ctrl-C.")
	port := fs.Int("port", 8080, "port to listen on (127.0.0.1 only)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *port < 1 || *port > 65535 {
		return fail(e, fmt.Errorf("--port %d: want 1-65535", *port))
	}
	url, done, err := startFramework(ctx, function.EntryPoint, *port)
	if err != nil {
		return fail(e, err)
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

// startFramework serves the registered function named target through the functions framework
// on 127.0.0.1:port and returns once the port accepts connections. The framework serves the
// FUNCTION_TARGET function at "/" for every path, so Pub/Sub push bodies posted to
// /projects/P/topics/T are converted to CloudEvents exactly as in Cloud Functions. done receives
// the framework's error if it stops serving.
//
// The framework's server cannot be shut down (funcframework exposes only a blocking
// ListenAndServe): it lives as long as the process, so commands that start one end the process
// when they are done.
func startFramework(ctx context.Context, target string, port int) (url string, done <-chan error, err error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// Binding first tells a busy port apart from a server that is ours: dialling alone would
	// find whatever already listens there.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	l.Close()
	if err := os.Setenv("FUNCTION_TARGET", target); err != nil {
		return "", nil, fmt.Errorf("set FUNCTION_TARGET: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- funcframework.StartHostPort("127.0.0.1", strconv.Itoa(port)) }()
	ctx, cancel := context.WithTimeout(ctx, serveReady)
	defer cancel()
	for {
		conn, dialErr := net.DialTimeout("tcp", addr, 250*time.Millisecond)
		if dialErr == nil {
			conn.Close()
			return "http://" + addr, errc, nil
		}
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("server stopped")
			}
			return "", nil, fmt.Errorf("serve function %s on %s: %w", target, addr, err)
		case <-ctx.Done():
			return "", nil, fmt.Errorf("serve function %s on %s: not accepting connections: %w", target, addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
