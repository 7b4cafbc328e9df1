package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/fleettest"
)

// fleetCLI serves the three-service fleet at now and returns the environment and a config file
// listing it.
func fleetCLI(t *testing.T) (map[string]string, string) {
	t.Helper()
	f := fleettest.Start(t, time.Now())
	cfg := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(cfg, []byte(fleettest.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	return f.Env(), cfg
}

func TestStatusAgainstFakes(t *testing.T) {
	vars, cfg := fleetCLI(t)
	code, out, errOut := runCLI(t, vars, "status", "--config", cfg)
	if code != exitOK {
		t.Fatalf("status = %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"3 managed services", "aiprod-api", "verifying", "aiprod-web", "ok", "aiprod-worker", "pinned",
		"verification of raise_memory due", "failing sink: chat to backend-lead refused", "traffic pinned to aiprod-worker-00017-old"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = runCLI(t, vars, "status", "--config", cfg, "-o", "json", "--project", "aiprod-batch-77")
	var doc struct {
		Services []struct {
			Service string `json:"service"`
			Pin     *struct {
				Revision string `json:"revision"`
			} `json:"pin"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &doc); code != exitOK || err != nil {
		t.Fatalf("status -o json = %d, %v:\n%s", code, err, out)
	}
	if len(doc.Services) != 1 || doc.Services[0].Pin == nil || doc.Services[0].Pin.Revision != fleettest.WorkerOld {
		t.Errorf("status --project aiprod-batch-77 -o json = %+v, want aiprod-worker pinned", doc.Services)
	}

	page := filepath.Join(t.TempDir(), "fleet.html")
	if code, _, errOut := runCLI(t, vars, "status", "--config", cfg, "--html", page); code != exitOK {
		t.Fatalf("status --html = %d, %q", code, errOut)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "<svg"); n != 3 {
		t.Errorf("fleet page has %d charts, want 3", n)
	}
}

// TestStatusAgainstScenarioFakes is `runmedic fakes` with its default scenario and the default
// config: the one managed service shows.
func TestStatusAgainstScenarioFakes(t *testing.T) {
	_, _, vars := liveFakes(t, "insufficient-memory")
	code, out, errOut := runCLI(t, vars, "status")
	if code != exitOK || !strings.Contains(out, "1 managed service ") || !strings.Contains(out, "aiprod-api") {
		t.Errorf("status against the scenario fakes = %d:\n%s\n%s", code, out, errOut)
	}
}

func TestReportAgainstFakes(t *testing.T) {
	vars, cfg := fleetCLI(t)
	dir := t.TempDir()
	svg := filepath.Join(dir, "memory.svg")
	code, out, errOut := runCLI(t, vars, "report", "--config", cfg, "--incident", fleettest.Incident, "--chart", svg)
	if code != exitOK {
		t.Fatalf("report = %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"# Memory incident " + fleettest.Incident + " on aiprod-api", "template.memory 2Gi → 4Gi",
		fleettest.APIRaised, "not judged yet", "![", "(memory.svg)", "3 OOM kills"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.Contains(string(b), "2Gi→4Gi") {
		t.Errorf("report --chart wrote %d bytes (%v), want the chart with its change marked", len(b), err)
	}

	// Audit events add the deliveries, decisions and plans.
	events := filepath.Join(dir, "audit.jsonl")
	at := time.Now().UTC().Truncate(time.Minute).Add(-6 * time.Minute).Format(time.RFC3339)
	line := `{"time":"` + at + `","incident":"` + fleettest.Incident + `","incident_state":"open","target":"projects/aiprod-484120/locations/europe-west1/services/aiprod-api",` +
		`"step":"raise_memory","decision":{"action":"raise_memory","diagnosis":"insufficient_memory","reason":"flat at 93 %","evidence":["memory p99 0.93 for 30 minutes"],"params":{},"policy":"runmedic.oom"},` +
		`"changes":[{"path":"template.memory","before":"2Gi","after":"4Gi"}],"guard":{"allowed":true,"mode":"enforce","refusals":[]},"applied":true,` +
		`"result":{"revision":"` + fleettest.APIRaised + `","operation":"op","ready":true},"outcome":"applied"}`
	if err := os.WriteFile(events, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, vars, "report", "--config", cfg, "--incident", fleettest.Incident, "--audit", events, "-o", "html")
	if code != exitOK {
		t.Fatalf("report -o html --audit = %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"<svg", "insufficient_memory", "guard allows (enforce)", "memory p99 0.93 for 30 minutes"} {
		if !strings.Contains(out, want) {
			t.Errorf("report -o html lacks %q", want)
		}
	}
	if strings.Count(out, "raise_memory applied") != 1 {
		t.Errorf("the change is in the timeline %d times, want once (from the audit event)", strings.Count(out, "raise_memory applied"))
	}
}

func TestViewErrors(t *testing.T) {
	vars, cfg := fleetCLI(t)
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"time\": 3}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"status output", []string{"status", "-o", "xml"}, `-o "xml": want text or json`},
		{"status parallel", []string{"status", "--parallel", "0"}, "--parallel 0: want at least 1"},
		{"status no service", []string{"status", "--config", cfg, "--project", "elsewhere"}, "no managed service in elsewhere"},
		{"report no incident", []string{"report"}, "--incident is required"},
		{"report output", []string{"report", "--incident", "x", "-o", "pdf"}, `-o "pdf": want markdown or html`},
		{"report service", []string{"report", "--config", cfg, "--incident", "x", "--service", "aiprod-api"}, "want projects/P/locations/L/services/S"},
		{"report unknown", []string{"report", "--config", cfg, "--incident", "0.nothing"}, "no managed service has a record of it"},
		{"report audit", []string{"report", "--config", cfg, "--incident", "x", "--audit", bad}, "bad.jsonl:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, vars, tt.args...)
			if code != exitError || !strings.Contains(errOut, tt.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
				t.Errorf("%v = %d, stderr %q; want exit 1 and one line containing %q", tt.args, code, errOut, tt.want)
			}
		})
	}
}
