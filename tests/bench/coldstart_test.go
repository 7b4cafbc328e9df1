package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// BenchmarkColdStart runs cmd/coldstart, the function binary, once per iteration against fresh
// fakes seeded with the insufficient-memory scenario as of now: exec to the response of the first
// delivery (which wires the clients, compiles the policies, observes, decides and applies), and
// the process's peak resident memory.
func BenchmarkColdStart(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "coldstart")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/coldstart")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	fx, err := fixture()
	if err != nil {
		b.Fatal(err)
	}
	var samples []time.Duration
	peak := 0
	for b.Loop() {
		b.StopTimer()
		run, mon := cloudruntest.New(b), monitoringtest.New(b)
		snap, err := snapshot.Load([]byte(fx.snapshot))
		if err != nil {
			b.Fatal(err)
		}
		shift := time.Now().UTC().Truncate(time.Minute).Sub(snap.CapturedAt)
		snap = snap.Shifted(shift)
		if err := run.SeedFromSnapshot(snap); err != nil {
			b.Fatal(err)
		}
		mon.SeedFromSnapshot(snap)
		lg := loggingtest.New(b)
		lg.SeedFromSnapshot(snap)
		inc, err := shiftStart(fx.incident, shift)
		if err != nil {
			b.Fatal(err)
		}
		f := &fleet{tb: b, topic: "coldstart", incident: map[string]string{scenarioService: inc}}
		bodyFile := filepath.Join(b.TempDir(), "push.json")
		if err := os.WriteFile(bodyFile, f.pushBody(scenarioService, scenarioInc, "coldstart-1"), 0o644); err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(bin, bodyFile)
		cmd.Env = append(os.Environ(),
			clients.EnvRunEndpoint+"="+run.Addr(), clients.EnvMonitoringEndpoint+"="+mon.Addr(),
			clients.EnvLoggingEndpoint+"="+lg.Addr(),
			// The ledger in a project of its own each time: the first delivery finds no history.
			ledger.EnvEmulator+"="+firestoretest.Shared(b).Host(), ledger.EnvProject+"="+firestoretest.Project(b),
			"FUNCTION_TARGET=", "PUBSUB_EMULATOR_HOST=")
		stderr, err := cmd.StderrPipe()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, status, hwm := "", 0, 0
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "coldstart ") {
				line = l
				break
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		if _, err := fmt.Sscanf(line, "coldstart status=%d vmhwm_kib=%d", &status, &hwm); err != nil {
			b.Fatalf("coldstart said %q: %v", line, err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("coldstart: %v", err)
		}
		if status != 200 {
			b.Fatalf("first delivery: HTTP %d, want 200", status)
		}
		if n := run.UpdateCount(snap.Target.Name()); n == 0 {
			b.Fatal("the first delivery changed nothing: it did not reach a decision to apply")
		}
		samples = append(samples, elapsed)
		peak = max(peak, hwm)
		b.StartTimer()
	}
	p50, _ := percentiles(samples)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(slicesMax(samples).Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
