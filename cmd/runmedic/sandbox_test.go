package main

import (
	"bytes"
	"context"
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
}

func TestSandboxRejectsMissingScenario(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := filepath.Join(t.TempDir(), "nope")
	code := run(context.Background(), env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, []string{"sandbox", "--scenario", dir})
	if code != exitError || !strings.HasPrefix(stderr.String(), "Error: scenario nope: ") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("sandbox --scenario %s = %d, stderr %q; want exit 1 and one line naming the scenario", dir, code, stderr.String())
	}
}
