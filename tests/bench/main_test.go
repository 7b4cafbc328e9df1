// Package bench holds runmedic's proof under pressure: benchmarks of every performance target
// in DESIGN.md, the storm, the soak and the fault matrix. Deliveries travel the production path:
// a Pub/Sub push body POSTed over loopback HTTP to the functions framework, whose HTTP function
// (function.Receiver, as the deployed entry point) turns it into a CloudEvent for
// function.Handler, whose remediator talks to the Cloud Run and Monitoring fakes through the
// real client libraries.
//
// One framework server serves the whole package (the framework has no shutdown; the server ends
// with the test process). Each fleet registers its handler under its own alert topic; the served
// function routes every CloudEvent by its source, the topic named in the push URL.
package bench

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/fnserver"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"
)

// entryPoint is the name the routing function is registered and served under.
const entryPoint = "RemediateBench"

var (
	baseURL string   // the framework server, http://127.0.0.1:PORT
	routes  sync.Map // CloudEvent source -> the eventHandler serving it
)

// eventHandler is one instance of the function: a fleet's *function.Handler, or a process of it.
type eventHandler interface {
	Event(ctx context.Context, e event.Event) error
}

func TestMain(m *testing.M) {
	functions.HTTP(entryPoint, (&function.Receiver{
		Handle: dispatch, MaxBody: childMaxBody(), Log: audit.NewLogger(os.Stderr),
	}).ServeHTTP)
	var err error
	if baseURL, _, err = fnserver.Start(context.Background(), entryPoint, 0); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// dispatch is the served function: it hands the event to the handler that serves the event's
// topic.
func dispatch(ctx context.Context, e event.Event) error {
	v, ok := routes.Load(e.Source())
	if !ok {
		return fmt.Errorf("no fleet serves source %q", e.Source())
	}
	return v.(eventHandler).Event(ctx, e)
}
