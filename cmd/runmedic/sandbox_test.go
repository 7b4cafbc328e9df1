package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSandbox runs the whole local loop as the command does and checks what it prints.
func TestSandbox(t *testing.T) {
	cmd, stdout, stderr := helperCommand(t, nil, "sandbox", "--scenario", filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory"))
	if err := cmd.Run(); err != nil {
		t.Fatalf("sandbox: %v; stderr:\n%s", err, stderr)
	}
	out := stdout.String()
	for _, want := range []string{
		"== Plan\nrunmedic plan for incident 0.nrwotmyokd9n\n",
		`~ template.memory: "2Gi" -> "4Gi"`,
		"== Change received by Cloud Run (fake)\n",
		"~ memory                 2Gi -> 4Gi\n",
		"    cpu                    1\n",
		"  new revision: aiprod-api-00043-",
		"== Audit event\n",
		`"outcome": "applied"`,
		`"step": "raise_memory"`,
		"== Messages received (PagerDuty, Slack and Chat recorders)\n",
		"-- PagerDuty change event\n",
		`"summary": "runmedic raise_memory on aiprod-api: memory 2Gi → 4Gi"`,
		`"routing_key": "sandbox-routing-key"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sandbox output lacks %q; output:\n%s", want, out)
		}
	}
	// The scenario pages three people through one routing key: the one event is shown once.
	if n := strings.Count(out, "-- PagerDuty change event\n"); n != 1 || !strings.Contains(out, "(received 3 times, the same event for each recipient it pages)") {
		t.Errorf("the PagerDuty change event is shown %d times, want once with its count; output:\n%s", n, out)
	}
}

// TestSandboxInterrupted: Ctrl-C while the emulator starts exits 130 with one quiet line, not the
// emulator's log.
func TestSandboxInterrupted(t *testing.T) {
	cmd, _, _ := helperCommand(t, nil, "sandbox", "--scenario", filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory"))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var stderr strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Starting the Pub/Sub emulator") {
			break
		}
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("sandbox after Ctrl-C: %v, want exit %d; stderr:\n%s", err, exitInterrupted, stderr.String())
	}
	want := "Starting the Pub/Sub emulator…\nInterrupted; everything the sandbox started is stopped.\n"
	if stderr.String() != want {
		t.Errorf("sandbox after Ctrl-C: stderr = %q, want exactly %q", stderr.String(), want)
	}
}

func TestSandboxRejectsMissingScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := filepath.Join(t.TempDir(), "nope")
	code := run(context.Background(), env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, []string{"sandbox", "--scenario", dir})
	if code != exitError || !strings.HasPrefix(stderr.String(), "Error: scenario nope: ") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("sandbox --scenario %s = %d, stderr %q; want exit 1 and one line naming the scenario", dir, code, stderr.String())
	}
}
