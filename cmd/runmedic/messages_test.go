package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanMessages(t *testing.T) {
	dir := filepath.Join("..", "..", "tests", "scenarios", "memory-at-ceiling")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }},
		[]string{"plan", "--incident", filepath.Join(dir, "incident.json"), "--snapshot", filepath.Join(dir, "snapshot.json"), "--messages"})
	if code != exitOK {
		t.Fatalf("plan --messages = %d, stderr %s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"\n== Messages\n",
		"\n-- page@0m to backend-lead@aiprod.ai\n",
		`"dedup_key": "runmedic/projects/aiprod-484120/locations/europe-west1/services/aiprod-api/0.nrwotmyokd9n"`,
		"Slack:\nEscalated memory incident on aiprod-api: insufficient memory\n*What happened*\n",
		"Next: service-lead at T+15m.",
		"Google Chat:\nEscalated memory incident",
		"\n-- page@30m to engineering-manager\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan --messages lacks %q; output:\n%s", want, out)
		}
	}
	stdout.Reset()
	stderr.Reset()
	code = run(context.Background(), env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }},
		[]string{"plan", "--incident", filepath.Join(dir, "incident.json"), "--snapshot", filepath.Join(dir, "snapshot.json"), "--messages", "-o", "json"})
	if code != exitError || !strings.Contains(stderr.String(), "--messages prints text") {
		t.Errorf("plan --messages -o json = %d, stderr %q; want exit 1 and one line", code, stderr.String())
	}
}
