// Package fnserver serves a registered CloudEvent function through the functions framework on
// loopback, as `runmedic serve`, the sandbox and the end-to-end tests need it. The framework
// serves the FUNCTION_TARGET function at "/" for every path, so a Pub/Sub push body posted to
// /projects/P/topics/T is converted to a CloudEvent exactly as in Cloud Functions.
//
// The framework's server cannot be shut down (funcframework exposes only a blocking
// ListenAndServe): it lives as long as the process.
package fnserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

// ReadyWithin bounds how long a started server may take to accept connections.
const ReadyWithin = 10 * time.Second

// Start serves the function registered as target on 127.0.0.1:port and returns its URL once the
// port accepts connections. Port 0 picks a free port (retrying if another process takes it
// first). done receives the framework's error if it stops serving.
func Start(ctx context.Context, target string, port int) (url string, done <-chan error, err error) {
	if port != 0 {
		return start(ctx, target, port)
	}
	for range 3 { // a port found free can be taken before the framework binds it
		l, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			return "", nil, fmt.Errorf("find a free port: %w", lerr)
		}
		free := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if url, done, err = start(ctx, target, free); err == nil {
			return url, done, nil
		}
	}
	return "", nil, err
}

func start(ctx context.Context, target string, port int) (string, <-chan error, error) {
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
	ctx, cancel := context.WithTimeout(ctx, ReadyWithin)
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
