// Package bench holds runmedic's proof under pressure: benchmarks of every performance target
// in DESIGN.md, the storm, the soak and the fault matrix. Deliveries travel the production path:
// a Pub/Sub push body POSTed over loopback HTTP to the functions framework, which turns it into
// a CloudEvent for function.Handler, whose remediator talks to the Cloud Run and Monitoring fakes
// through the real client libraries.
//
// One framework server serves the whole package (the framework has no shutdown; the server ends
// with the test process). Each fleet registers its handler under its own alert topic; the served
// function routes every CloudEvent by its source, the topic named in the push URL.
package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"
)

// entryPoint is the name the routing function is registered and served under.
const entryPoint = "RemediateBench"

var (
	baseURL string   // the framework server, http://127.0.0.1:PORT
	routes  sync.Map // CloudEvent source -> *fleet
)

func TestMain(m *testing.M) {
	functions.CloudEvent(entryPoint, dispatch)
	var err error
	if baseURL, err = serveFramework(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// dispatch is the served function: it hands the event to the handler of the fleet that owns the
// event's topic.
func dispatch(ctx context.Context, e event.Event) error {
	v, ok := routes.Load(e.Source())
	if !ok {
		return fmt.Errorf("no fleet serves source %q", e.Source())
	}
	return v.(*fleet).handler.Event(ctx, e)
}

// serveFramework serves the FUNCTION_TARGET function through the functions framework on a free
// loopback port, as `runmedic serve` does, and returns its URL once it accepts connections.
func serveFramework() (string, error) {
	if err := os.Setenv("FUNCTION_TARGET", entryPoint); err != nil {
		return "", err
	}
	var last error
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", fmt.Errorf("find free port: %w", err)
		}
		addr := l.Addr().String()
		l.Close()
		_, port, _ := net.SplitHostPort(addr)
		errc := make(chan error, 1)
		go func() { errc <- funcframework.StartHostPort("127.0.0.1", port) }()
		if last = waitAccepting(addr, errc); last == nil {
			return "http://" + addr, nil
		}
	}
	return "", fmt.Errorf("serve function on loopback: %w", last)
}

func waitAccepting(addr string, errc <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.DialTimeout("tcp", addr, 250*time.Millisecond); err == nil {
			conn.Close()
			return nil
		}
		select {
		case err := <-errc:
			if err == nil {
				err = errors.New("server stopped")
			}
			return err
		case <-time.After(20 * time.Millisecond):
		}
	}
	return errors.New(addr + " not accepting connections after 10s")
}
