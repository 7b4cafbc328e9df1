// Package pubsubtest runs the real Pub/Sub emulator (the one shipped with the Google Cloud CLI) for
// tests and local runs, so publishing, pulling and push delivery are exercised against the same
// server semantics the product meets in production rather than an in-process imitation.
//
// The process itself (its group, its watchdog, its stop) is package emulator's; New registers
// Close with t.Cleanup.
package pubsubtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"cloud.google.com/go/pubsub/v2"

	"github.com/runmedic/runmedic/internal/emulator"
)

// StartTimeout bounds how long Start waits for the emulator to answer when ctx has no earlier
// deadline. The Java server usually needs a few seconds.
const StartTimeout = emulator.StartTimeout

// spec is how gcloud starts the Pub/Sub emulator.
func spec(project string) emulator.Spec {
	return emulator.Spec{
		Name:      "pubsub emulator",
		Component: "pubsub-emulator",
		Launcher:  "bin/cloud-pubsub-emulator",
		Args:      []string{"beta", "emulators", "pubsub", "start", "--project=" + project},
	}
}

// Emulator is one running emulator process group with a client for it. It is safe for
// concurrent use; Close is idempotent.
type Emulator struct {
	project string
	host    string
	proc    *emulator.Process
	client  *pubsub.Client

	closeOnce sync.Once
	closeErr  error
}

// New starts an emulator for a test and stops it in t.Cleanup. A missing gcloud, emulator
// component or Java runtime fails the test: those are part of the toolchain, not optional.
func New(t testing.TB, project string) *Emulator {
	t.Helper()
	e, err := Start(context.Background(), project)
	if err != nil {
		t.Fatalf("start pubsub emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("stop pubsub emulator: %v", err)
		}
	})
	return e
}

// Start launches the emulator for project on a free loopback port and returns once its port
// answers. ctx bounds only the wait, never the emulator's lifetime: call Close to stop it.
func Start(ctx context.Context, project string) (*Emulator, error) {
	if project == "" {
		return nil, errors.New("pubsub emulator: empty project")
	}
	proc, err := emulator.Start(ctx, spec(project))
	if err != nil {
		return nil, err
	}
	e := &Emulator{project: project, host: proc.Host(), proc: proc}
	e.client, err = pubsub.NewClient(context.Background(), project, e.ClientOptions()...)
	if err != nil {
		proc.Close()
		return nil, fmt.Errorf("pubsub emulator: client for %s: %w", e.host, err)
	}
	return e, nil
}

// Host is the emulator address, the value PUBSUB_EMULATOR_HOST would take: "127.0.0.1:PORT".
func (e *Emulator) Host() string { return e.host }

// Project is the project the emulator was started for.
func (e *Emulator) Project() string { return e.project }

// Output is the last few kilobytes the emulator wrote to stdout and stderr; empty after Close.
func (e *Emulator) Output() string { return e.proc.Output() }

// Close stops the emulator's whole process group and waits until no process of it remains.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		if e.client != nil {
			e.client.Close() // the connection is going away with the server; its error says nothing
		}
		e.closeErr = e.proc.Close()
	})
	return e.closeErr
}
