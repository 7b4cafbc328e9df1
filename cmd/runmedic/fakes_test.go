package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// lockedBuffer is a bytes.Buffer written by a running command and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestFakesOnOnePort serves the three fakes on one address, as the README allows, and captures a
// snapshot through it: the per-revision series and the OOM kills of the scenario come back.
func TestFakesOnOnePort(t *testing.T) {
	src := filepath.Join("..", "..", "tests", "scenarios", "regression-rollback")
	dir := t.TempDir()
	for _, name := range []string{"incident.json", "snapshot.json"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "snapshot.json"))
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := snapshot.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	newest := fixture.Revisions[0].Name
	fixture.Metrics.MemoryByRevision = map[string][]snapshot.Point{newest: fixture.Metrics.MemoryUtilization}
	fixture.Logs = &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{{Revision: newest, Count: 4,
		LimitMiB: 2048, MaxUsedMiB: 2150.5, First: fixture.CapturedAt.Add(-50 * time.Minute), Last: fixture.CapturedAt.Add(-5 * time.Minute)}}}
	raw, err = json.Marshal(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "snapshot.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int)
	go func() {
		done <- run(ctx, env{stdin: strings.NewReader(""), stdout: out, stderr: errOut, getenv: func(string) string { return "" }},
			[]string{"fakes", "--scenario", dir, "--run-addr", addr, "--monitoring-addr", addr, "--logging-addr", addr})
	}()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("fakes exit = %d; stderr: %s", code, errOut.String())
		}
	}()
	want := "export RUNMEDIC_RUN_ENDPOINT=" + addr + " RUNMEDIC_MONITORING_ENDPOINT=" + addr + " RUNMEDIC_LOGGING_ENDPOINT=" + addr
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("fakes printed %q, stderr %q; want %q", out.String(), errOut.String(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}

	vars := map[string]string{"RUNMEDIC_RUN_ENDPOINT": addr, "RUNMEDIC_MONITORING_ENDPOINT": addr, "RUNMEDIC_LOGGING_ENDPOINT": addr}
	code, stdout, stderr := runCLI(t, vars, "snapshot", "--service", fixture.Target.Name())
	if code != exitOK {
		t.Fatalf("snapshot exit = %d; stderr: %s", code, stderr)
	}
	got, err := snapshot.Load([]byte(stdout))
	if err != nil {
		t.Fatalf("captured snapshot does not load: %v", err)
	}
	// The fakes moved the scenario's times so that its capture time is the minute they started.
	if got.Logs == nil || len(got.Logs.OOMKills) != 1 {
		t.Fatalf("captured logs %+v, want one revision's kills", got.Logs)
	}
	shift := got.Logs.OOMKills[0].Last.Sub(fixture.Logs.OOMKills[0].Last)
	if lag := got.CapturedAt.Sub(fixture.CapturedAt.Add(shift)); lag < 0 || lag > time.Minute+10*time.Second {
		t.Errorf("captured at %v, %v after the shifted scenario; want within the minute", got.CapturedAt, lag)
	}
	if diff := cmp.Diff(fixture.Shifted(shift).Logs, got.Logs); diff != "" {
		t.Errorf("captured logs (-want +got):\n%s", diff)
	}
	if n, want := len(got.Metrics.MemoryByRevision[newest]), len(fixture.Metrics.MemoryUtilization); n != want {
		t.Errorf("captured %d points of %s, want %d", n, newest, want)
	}
	if len(got.Revisions) != len(fixture.Revisions) {
		t.Errorf("captured %d revisions, want %d", len(got.Revisions), len(fixture.Revisions))
	}
}
