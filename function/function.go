// Package function is runmedic's Cloud Function: the entry point "Remediate" receives Cloud
// Monitoring alerts (and verify ticks) as Pub/Sub CloudEvents and hands them to the remediator.
// It stays thin: wire the clients once, decode, remediate, map the outcome to ack or retry.
package function

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/config"
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
	functions.CloudEvent("Remediate", Remediate)
}

var (
	once       sync.Once
	handler    *Handler
	handlerErr error
)

// Remediate is the Cloud Function. Clients and the compiled policy are made on the first event
// and reused; a failure to make them is returned, so Pub/Sub redelivers once it is fixed.
func Remediate(ctx context.Context, e event.Event) error {
	once.Do(func() { handler, handlerErr = newHandler(context.Background(), os.Getenv) })
	if handlerErr != nil {
		return handlerErr
	}
	return handler.Event(ctx, e)
}

// newHandler wires the production handler from the environment.
func newHandler(ctx context.Context, getenv func(string) string) (*Handler, error) {
	cfg, err := config.Default()
	if err != nil {
		return nil, err
	}
	if path := getenv(EnvConfig); path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvConfig, err)
		}
		if cfg, err = config.Parse(b, cfg); err != nil {
			return nil, fmt.Errorf("%s %s: %w", EnvConfig, path, err)
		}
	}
	var fsys fs.FS = policies.FS
	if dir := getenv(EnvPolicies); dir != "" {
		fsys = os.DirFS(dir)
	}
	eng, err := policy.New(ctx, fsys, cfg)
	if err != nil {
		return nil, err
	}
	cs, err := clients.New(ctx, getenv, clients.Options{Topics: true})
	if err != nil {
		return nil, err
	}
	log := audit.NewLogger(os.Stdout)
	r := &remediate.Remediator{
		Policy: eng, Config: cfg,
		Observer: cs.Run, Applier: cs.Run, Metrics: cs.Monitoring,
		Log: log, Now: time.Now,
	}
	// A nil *audit.Publisher must stay a nil interface, or the remediator would call it.
	if cs.Audit != nil {
		r.Audit = cs.Audit
	}
	if cs.Notify != nil {
		r.Notify = cs.Notify
	}
	return &Handler{
		Remediator:  r,
		Log:         log,
		MaxEventAge: cfg.Defaults.MaxEventAge.Duration,
		Project:     getenv("GOOGLE_CLOUD_PROJECT"),
		Now:         time.Now,
	}, nil
}
