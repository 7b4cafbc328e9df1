package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// The scale-out storm: scaleServices services, each with scaleIncidents distinct open incidents,
// each published scaleCopies times.
const (
	scaleServices  = 4
	scaleIncidents = 2
	scaleCopies    = 4
)

// TestTwoServeProcessesOneChange scales the function out to two OS processes: two `runmedic
// serve` processes on loopback share the Pub/Sub emulator, the Cloud Run, Monitoring and Logging
// fakes and the Firestore ledger. The alert topic has a push subscription to each, so every
// message (duplicates and distinct incidents alike) reaches both processes, which race for it.
// Each service still changes exactly once: the ledger's claim, not the instance count, is what
// makes runmedic safe to run on more than one instance.
func TestTwoServeProcessesOneChange(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	bin := buildRunmedic(t)

	sc, err := scenario.Load(filepath.Join("..", "scenarios", "insufficient-memory"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := snapshot.Load(sc.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	run, mon, lg := cloudruntest.New(t), monitoringtest.New(t), loggingtest.New(t)
	shift := time.Now().UTC().Truncate(time.Minute).Sub(base.CapturedAt)
	var config strings.Builder
	config.WriteString("services:\n")
	var targets []snapshot.Target
	var messages [][]byte
	for s := range scaleServices {
		name := fmt.Sprintf("scale-%d", s)
		snap, err := snapshot.Load(bytes.ReplaceAll(sc.Snapshot, []byte(base.Target.Service), []byte(name)))
		if err != nil {
			t.Fatal(err)
		}
		snap = snap.Shifted(shift)
		if err := run.SeedFromSnapshot(snap); err != nil {
			t.Fatal(err)
		}
		mon.SeedFromSnapshot(snap)
		lg.SeedFromSnapshot(snap)
		targets = append(targets, snap.Target)
		fmt.Fprintf(&config, "  - {project: %s, location: %s, service: %s}\n", snap.Target.Project, snap.Target.Location, name)
		for i := range scaleIncidents {
			raw := bytes.ReplaceAll(sc.Incident, []byte(base.Target.Service), []byte(name))
			raw = bytes.ReplaceAll(raw, []byte(base.Incident.ID), []byte(fmt.Sprintf("0.scale%dx%d", s, i)))
			inc, err := scenario.ShiftIncident(raw, shift)
			if err != nil {
				t.Fatal(err)
			}
			for range scaleCopies {
				messages = append(messages, inc)
			}
		}
	}
	configFile := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(configFile, []byte(config.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	id := topicID(t)
	alerts, auditTopic, auditSub := id+"-alerts", id+"-audit", id+"-audit"
	for _, topic := range []string{alerts, auditTopic} {
		if err := emu.CreateTopic(ctx, topic); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { deleteOrLog(t, "topic", emu.DeleteTopic(context.Background(), topic)) })
	}
	if err := emu.CreatePullSubscription(ctx, auditSub, auditTopic); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteOrLog(t, "subscription", emu.DeleteSubscription(context.Background(), auditSub)) })

	ledgerProject := firestoretest.Project(t)
	env := []string{
		clients.EnvRunEndpoint + "=" + run.Addr(),
		clients.EnvMonitoringEndpoint + "=" + mon.Addr(),
		clients.EnvLoggingEndpoint + "=" + lg.Addr(),
		clients.EnvAuditTopic + "=" + emu.TopicName(auditTopic),
		clients.EnvNotifyTopic + "=",
		"PUBSUB_EMULATOR_HOST=" + emu.Host(),
		ledger.EnvEmulator + "=" + firestoretest.Shared(t).Host(),
		ledger.EnvProject + "=" + ledgerProject,
		ledger.EnvDatabase + "=scale-out",
		function.EnvConfig + "=" + configFile,
	}
	var procs []*serveProcess
	for n := range 2 {
		p := startServe(t, bin, env)
		procs = append(procs, p)
		sub := fmt.Sprintf("%s-push-%d", id, n)
		if err := emu.CreatePushSubscription(ctx, sub, alerts, p.url+"/"+emu.TopicName(alerts)); err != nil {
			t.Fatal(err)
		}
		// Stop the pushes before the process goes.
		t.Cleanup(func() { deleteOrLog(t, "subscription", emu.DeleteSubscription(context.Background(), sub)) })
	}

	for _, m := range messages {
		if _, err := emu.Publish(ctx, alerts, m, nil); err != nil {
			t.Fatal(err)
		}
	}

	// Each process answers every message once at least: one audit event per delivery. Pub/Sub
	// may redeliver, so the count can be reached before the run that changed a service has
	// published its event: pull until every service's applied event is in too.
	want := 2 * len(messages)
	var evs []audit.Event
	appliedIn := func() bool {
		seen := map[string]bool{}
		for _, e := range evs {
			if e.Applied && e.Outcome == audit.Applied {
				seen[e.Target] = true
			}
		}
		return len(seen) == len(targets)
	}
	deadline := time.Now().Add(2 * deliveryWait)
	for (len(evs) < want || !appliedIn()) && time.Now().Before(deadline) {
		msgs, err := emu.Pull(ctx, auditSub, 100, 500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			var e audit.Event
			if err := json.Unmarshal(m.Data, &e); err != nil {
				t.Fatalf("audit message %s: %v", m.Data, err)
			}
			evs = append(evs, e)
		}
	}
	if len(evs) < want {
		t.Fatalf("%d audit events within %s, want at least %d (one per delivery to each process)", len(evs), 2*deliveryWait, want)
	}
	for n, p := range procs {
		if got := p.deliveries(); got < len(messages) {
			t.Errorf("process %d logged %d deliveries, want at least %d: every message reaches both", n, got, len(messages))
		}
	}

	t.Logf("%d messages, %d audit events; deliveries logged by each process: %d, %d", len(messages), len(evs), procs[0].deliveries(), procs[1].deliveries())
	// An applied event may be published again by a run that read the change's record before its
	// publisher marked it published; the audit trail is at least once, told apart by event id.
	applied := map[string]map[string]bool{} // target -> applied event ids
	for _, e := range evs {
		if e.Applied && e.Outcome == audit.Applied {
			if applied[e.Target] == nil {
				applied[e.Target] = map[string]bool{}
			}
			applied[e.Target][e.ID] = true
		}
	}
	store, err := ledger.Open(ctx, ledgerProject, "scale-out", ledger.EmulatorOptions(firestoretest.Shared(t).Host())...)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, tg := range targets {
		if n := run.UpdateCount(tg.Name()); n != 1 {
			t.Errorf("%s: %d updates, want exactly 1", tg.Service, n)
		}
		if got := memoryOf(run.Service(tg.Name())); got != "4Gi" {
			t.Errorf("%s: memory %s, want 4Gi", tg.Service, got)
		}
		if n := len(applied[tg.Name()]); n != 1 {
			t.Errorf("%s: %d distinct applied audit events, want 1", tg.Service, n)
		}
		entry, err := store.Load(ctx, tg, "", time.Now())
		if err != nil {
			t.Fatalf("load the ledger of %s: %v", tg.Service, err)
		}
		changes := 0
		for _, a := range entry.State.Actions {
			if len(a.Changes) > 0 {
				changes++
			}
		}
		if changes != 1 {
			t.Errorf("%s: the ledger holds %d changes (%+v), want 1", tg.Service, changes, entry.State.Actions)
		}
	}
	if t.Failed() {
		for n, p := range procs {
			t.Logf("process %d stderr:\n%s\nlast log lines:\n%s", n, p.stderr.String(), p.stdout.tail(10))
		}
	}
}

// buildRunmedic builds the runmedic command into a temporary directory.
func buildRunmedic(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "runmedic")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/runmedic/runmedic/cmd/runmedic")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build runmedic: %v\n%s", err, out)
	}
	return bin
}

// serveProcess is one `runmedic serve` child process, killed when the test ends.
type serveProcess struct {
	url    string
	stdout *syncBuffer // the function's log lines, one per delivery
	stderr *syncBuffer
}

// startServe starts `runmedic serve` on a free loopback port with env added to the test's
// environment, and waits until it listens.
func startServe(t *testing.T, bin string, env []string) *serveProcess {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := &serveProcess{url: fmt.Sprintf("http://127.0.0.1:%d", port), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	cmd := exec.Command(bin, "serve", "--port", strconv.Itoa(port))
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start runmedic serve: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(deliveryWait)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("runmedic serve not listening on %s within %s; stderr:\n%s", addr, deliveryWait, p.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// deliveries is how many deliveries the process has logged: each ends with one line naming its
// Pub/Sub message.
func (p *serveProcess) deliveries() int {
	return strings.Count(p.stdout.String(), `"delivery":`)
}
