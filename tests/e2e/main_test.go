// Package e2e runs the whole loop with real components: the Pub/Sub emulator delivers real-format
// alerts over push subscriptions to the function served over HTTP by the functions framework,
// which remediates the fake Cloud Run service through the real client libraries and publishes
// audit events back to the emulator.
//
// One emulator and one framework server serve the whole package. Each test builds its own
// function.Handler over its own fakes and topics; the served HTTP function (function.Receiver, as
// the deployed entry point) turns each raw push body into a CloudEvent whose source names the
// alert topic (taken from the push URL path) and routes it to the handler of the test that owns
// that topic.
package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/fnserver"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/pubsubtest"
)

// project is the emulator's project, and the project the scenarios' services live in.
const project = "aiprod-484120"

// pubsubMaxMessage is Pub/Sub's largest message.
const pubsubMaxMessage = 10_000_000

// entryPoint is the name the routing function is registered and served under.
const entryPoint = "RemediateE2E"

var (
	emu     *pubsubtest.Emulator
	baseURL string // the framework server, http://127.0.0.1:PORT

	routes sync.Map // CloudEvent source (//pubsub.googleapis.com/projects/P/topics/T) -> *route
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run starts the emulator and the framework server. A failure to start either fails the
// package: they are the point of these tests, never optional.
func run(m *testing.M) int {
	var err error
	emu, err = pubsubtest.Start(context.Background(), project)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: start pubsub emulator: %v\n", err)
		return 1
	}
	defer func() {
		if err := emu.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "stop pubsub emulator: %v\n", err)
		}
	}()
	// Every push reaches a test's handler, whose own cap on the message data is what these tests
	// see: the receiver's cap on the body, before any routing, is the bench's and function's.
	rc := &function.Receiver{Handle: dispatch, MaxBody: function.RequestLimit(pubsubMaxMessage)}
	functions.HTTP(entryPoint, rc.ServeHTTP)
	if baseURL, _, err = fnserver.Start(context.Background(), entryPoint, 0); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		return 1
	}
	// The framework's server has no shutdown; it ends with this process.
	return m.Run()
}

// dispatch is the served function: it hands the event to the handler of the test that owns
// the event's topic and records the delivery.
func dispatch(ctx context.Context, e event.Event) error {
	v, ok := routes.Load(e.Source())
	if !ok {
		return fmt.Errorf("no test serves source %q", e.Source())
	}
	r := v.(*route)
	err := r.handler.Event(ctx, e)
	r.record(delivery{ID: e.ID(), Err: err})
	return err
}

// delivery is one invocation of a test's handler: the CloudEvent id (the Pub/Sub message id)
// and what the handler returned (nil is an ack).
type delivery struct {
	ID  string
	Err error
}

// route is one test's handler and the deliveries it has seen.
type route struct {
	handler interface {
		Event(context.Context, event.Event) error
	}
	mu         sync.Mutex
	deliveries []delivery
}

func (r *route) record(d delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, d)
}

// Deliveries returns a copy of the deliveries so far.
func (r *route) Deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.deliveries...)
}
