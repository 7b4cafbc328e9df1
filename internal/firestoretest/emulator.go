// Package firestoretest runs the real Firestore emulator (the one shipped with the Google Cloud CLI)
// for tests and local runs, so the ledger's transactions, preconditions and queries meet the same
// server semantics as in production. One emulator serves a whole test binary (Shared); tests
// isolate themselves by project: every Store a test opens lives in a project of its own.
package firestoretest

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"google.golang.org/api/option"
	"google.golang.org/grpc"

	"github.com/runmedic/runmedic/internal/emulator"
	"github.com/runmedic/runmedic/internal/ledger"
)

// spec is how gcloud starts the Firestore emulator (Native mode).
var spec = emulator.Spec{
	Name:      "firestore emulator",
	Component: "cloud-firestore-emulator",
	Launcher:  "cloud_firestore_emulator",
	Args:      []string{"beta", "emulators", "firestore", "start"},
}

// Emulator is one running Firestore emulator.
type Emulator struct {
	proc *emulator.Process
}

// Start launches the emulator on a free loopback port and returns once it answers. A missing
// gcloud, emulator component or Java runtime is an error naming it. Close stops it.
func Start(ctx context.Context) (*Emulator, error) {
	p, err := emulator.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &Emulator{proc: p}, nil
}

// Host is the emulator address, the value FIRESTORE_EMULATOR_HOST would take.
func (e *Emulator) Host() string { return e.proc.Host() }

// Output is the last few kilobytes the emulator wrote.
func (e *Emulator) Output() string { return e.proc.Output() }

// Close stops the emulator's process group.
func (e *Emulator) Close() error { return e.proc.Close() }

var (
	shared    *Emulator
	sharedErr error
	sharedMu  sync.Mutex
)

// Shared is the test binary's one emulator, started on first use. It fails the test (never
// skips) when the emulator cannot start. It stops when the binary exits: the emulator package's
// watchdog kills its process group then.
func Shared(t testing.TB) *Emulator {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(context.Background())
	}
	if sharedErr != nil {
		t.Fatalf("start firestore emulator: %v", sharedErr)
	}
	return shared
}

// ClientOptions connect a Firestore client to the emulator without touching the process-wide
// FIRESTORE_EMULATOR_HOST: plaintext gRPC, the emulator's owner credentials, and dial any extra
// options (interceptors that count or inject faults).
func (e *Emulator) ClientOptions(dial ...grpc.DialOption) []option.ClientOption {
	opts := ledger.EmulatorOptions(e.Host())
	for _, d := range dial {
		opts = append(opts, option.WithGRPCDialOption(d))
	}
	return opts
}

var projects atomic.Int64

var unsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// Project is a project id no other test of this binary uses: the emulator keeps each project's
// data apart.
func Project(t testing.TB) string {
	name := strings.Trim(unsafe.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("t%d-%s", projects.Add(1), name)
}

// Store opens a ledger for the test in a project of its own, closed at cleanup. dial adds gRPC
// dial options to its client.
func (e *Emulator) Store(t testing.TB, dial ...grpc.DialOption) *ledger.Store {
	t.Helper()
	return e.StoreIn(t, Project(t), dial...)
}

// StoreIn opens a ledger for the test in project, so two stores (two runmedic instances) can
// share one ledger through separate clients.
func (e *Emulator) StoreIn(t testing.TB, project string, dial ...grpc.DialOption) *ledger.Store {
	t.Helper()
	s, err := ledger.Open(context.Background(), project, ledger.DefaultDatabase, e.ClientOptions(dial...)...)
	if err != nil {
		t.Fatalf("open ledger: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
