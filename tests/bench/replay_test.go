package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/scenario"
)

// replayScenarios is how many scenarios BenchmarkReplay decides in one process.
const replayScenarios = 10_000

// BenchmarkReplay is `runmedic replay DIR -o csv` over 10,000 scenarios, one process per
// iteration: the committed scenarios linked round-robin into numbered folders of a temporary
// directory. It reports the wall time, the CPU time and the process's peak resident memory, and checks that
// every scenario has its row, in the folders' order. RUNMEDIC_BINARY measures another build of
// runmedic (an older one, for a before/after comparison) instead of this checkout's.
func BenchmarkReplay(b *testing.B) {
	bin := os.Getenv("RUNMEDIC_BINARY")
	if bin == "" {
		bin = filepath.Join(b.TempDir(), "runmedic")
		if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/runmedic").CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	dir, names := manyScenarios(b, replayScenarios)
	var walls []time.Duration
	peak, cpu := int64(0), time.Duration(0)
	for b.Loop() {
		cmd := exec.Command(bin, "replay", dir, "-o", "csv")
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		var got []string
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			got = append(got, strings.SplitN(sc.Text(), ",", 2)[0])
		}
		if err := cmd.Wait(); err != nil {
			b.Fatalf("runmedic replay: %v\n%s", err, stderr.String())
		}
		walls = append(walls, time.Since(start))
		peak = max(peak, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) // KiB on Linux
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		b.StopTimer()
		if len(got) != len(names)+1 {
			b.Fatalf("replay printed %d lines, want a header and %d rows", len(got), len(names))
		}
		for i, name := range names {
			if got[i+1] != name {
				b.Fatalf("row %d is %q, want %q: rows out of order", i, got[i+1], name)
			}
		}
		b.StartTimer()
	}
	p50, _ := percentiles(walls)
	b.ReportMetric(p50.Seconds(), "wall-s")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
	// CPU time depends less than wall time on what else the machine runs.
	b.ReportMetric(cpu.Seconds()/float64(len(walls)), "cpu-s")
}

// manyScenarios links the committed scenarios round-robin into n numbered folders under a
// temporary directory and returns it with the folders' names in replay's order.
func manyScenarios(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	src, err := scenario.List(filepath.Join("..", "scenarios"))
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	names := make([]string, n)
	for i := range n {
		sc := src[i%len(src)]
		names[i] = fmt.Sprintf("%05d-%s", i, filepath.Base(sc.Dir))
		to := filepath.Join(dir, names[i])
		if err := os.Mkdir(to, 0o755); err != nil {
			tb.Fatal(err)
		}
		for _, f := range []string{scenario.IncidentFile, scenario.SnapshotFile, scenario.ConfigFile} {
			from := filepath.Join(sc.Dir, f)
			if _, err := os.Stat(from); os.IsNotExist(err) {
				continue
			}
			if err := os.Link(from, filepath.Join(to, f)); err != nil {
				data, err := os.ReadFile(from)
				if err != nil {
					tb.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(to, f), data, 0o644); err != nil {
					tb.Fatal(err)
				}
			}
		}
	}
	sort.Strings(names)
	return dir, names
}
