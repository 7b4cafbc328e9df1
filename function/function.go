// Package function is runmedic's Cloud Function: the entry point "Remediate" receives Cloud
// Monitoring alerts (and verify ticks) as Pub/Sub CloudEvents and hands them to the remediator.
// It stays thin: wire the clients once, decode, remediate, map the outcome to ack or retry.
//
// The entry point is registered as an HTTP function: Eventarc's push is an HTTP request either
// way, and Receiver decodes the CloudEvent from it synchronously instead of through the
// framework's CloudEvent receiver (see Receiver for why).
package function

import (
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/gctune"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/policies"
)

// EntryPoint is the name the function is registered and deployed under.
const EntryPoint = "Remediate"

// Environment variables read at the first event, besides those of package clients.
const (
	EnvConfig   = "RUNMEDIC_CONFIG"   // a YAML file merged over the bundled config
	EnvPolicies = "RUNMEDIC_POLICIES" // a directory of Rego policies replacing the bundled ones
)

func init() {
	// Spelled out, not EntryPoint: deploy.sh checks the staged package registers this name.
	functions.HTTP("Remediate", Remediate)
}

var (
	mu      sync.Mutex
	handler *Handler // made once it could be made; a failure is tried again on the next event
	tuneGC  sync.Once
)

// stdout is the function's log, before and after the handler exists.
var stdout = audit.NewLogger(os.Stdout)

// receiver serves the entry point.
var receiver = &Receiver{Handle: handleEvent, Log: stdout}

// Remediate is the Cloud Function: one delivery, a CloudEvent over HTTP (see Receiver). Its
// name is the entry point's, so a build that calls the exported symbol by name serves it as an
// HTTP function too.
func Remediate(w http.ResponseWriter, r *http.Request) { receiver.ServeHTTP(w, r) }

// handleEvent handles one event. Clients and the compiled policy are made on the first event and
// reused. A failure to make them is logged and returned, so Pub/Sub redelivers, and is not kept:
// the next event tries again, so a passing fault does not disable the instance.
func handleEvent(ctx context.Context, e event.Event) error {
	h, err := current()
	if err != nil {
		stdout.Log(audit.Error, fmt.Sprintf("event %s: start the function: %v; retried", e.ID(), err), nil, nil)
		return err
	}
	return h.Event(ctx, e)
}

func current() (*Handler, error) {
	mu.Lock()
	defer mu.Unlock()
	if handler == nil {
		// A decision allocates much and keeps little: collect less often, under the memory limit.
		tuneGC.Do(func() { gctune.Tune(os.Getenv) })
		h, err := newHandler(context.Background(), os.Getenv)
		if err != nil {
			return nil, err
		}
		handler = h
	}
	return handler, nil
}

// warmTimeout bounds the ledger's first request at start-up.
const warmTimeout = 10 * time.Second

// newHandler wires the production handler from the environment.
func newHandler(ctx context.Context, getenv func(string) string) (*Handler, error) {
	var fsys fs.FS = policies.FS
	if dir := getenv(EnvPolicies); dir != "" {
		fsys = os.DirFS(dir)
	}
	var overlay []byte
	path := getenv(EnvConfig)
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvConfig, err)
		}
		overlay = b
	}
	// The same config as the CLI decides with for the same policy set and file.
	cfg, err := config.ForPolicies(fsys, overlay, EnvConfig+" "+path)
	if err != nil {
		return nil, err
	}
	store, err := clients.Ledger(ctx, getenv) // lives as long as the instance
	if err != nil {
		return nil, err
	}
	// The ledger's connection opens while the policies compile, not in the first delivery.
	go func() {
		ctx, cancel := context.WithTimeout(ctx, warmTimeout)
		defer cancel()
		_ = store.Warm(ctx) // best effort: the first delivery meets any lasting failure
	}()
	// The other clients are made while the policies compile too.
	type made struct {
		cs  *clients.Set
		err error
	}
	madec := make(chan made, 1)
	go func() {
		cs, err := clients.New(ctx, getenv, clients.Options{Topics: true})
		madec <- made{cs, err}
	}()
	eng, err := policy.New(ctx, fsys, cfg)
	m := <-madec
	if err != nil || m.err != nil {
		if m.cs != nil {
			m.cs.Close()
		}
		store.Close()
		return nil, cmp.Or(err, m.err)
	}
	cs := m.cs
	log := stdout
	r := &remediate.Remediator{
		Policy: eng, Config: cfg,
		Observer: cs.Run, Applier: cs.Run, Metrics: cs.Monitoring, Logs: cs.Logs,
		Ledger: store, Rollouts: cs.Run, Log: log, Now: time.Now,
		Fleet: &discover.Discoverer{Config: cfg, Lister: cs.Run}, // the services "*" rules admit
	}
	// A nil *topic.Publisher must stay a nil interface, or the remediator would call it.
	if cs.Audit != nil {
		r.Audit = cs.Audit
	}
	if cs.Notify != nil {
		r.Notify = cs.Notify
	}
	people, _, err := clients.People(ctx, cfg, getenv) // lives as long as the instance
	if err != nil {
		cs.Close()
		return nil, err
	}
	if people != nil {
		r.People = people
	}
	snoozes, err := clients.Snoozes(ctx, getenv)
	if err != nil {
		cs.Close()
		return nil, err
	}
	if snoozes != nil {
		r.Snoozes = snoozes
	}
	return &Handler{
		Remediator:  r,
		Log:         log,
		MaxEventAge: cfg.Defaults.MaxEventAge.Duration,
		Timeout:     deliveryTimeout(getenv("CLOUD_RUN_TIMEOUT_SECONDS")),
		Project:     getenv("GOOGLE_CLOUD_PROJECT"),
		Now:         time.Now,
	}, nil
}

// deliveryTimeout is DeliveryTimeout, or 30 s less than the function's own timeout when the
// platform says what it is (CLOUD_RUN_TIMEOUT_SECONDS), so a delivery always ends with its log
// line and its record before the platform stops it.
func deliveryTimeout(platformSeconds string) time.Duration {
	secs, err := strconv.Atoi(platformSeconds)
	if err != nil || secs <= 60 {
		return DeliveryTimeout
	}
	return min(DeliveryTimeout, time.Duration(secs)*time.Second-30*time.Second)
}
