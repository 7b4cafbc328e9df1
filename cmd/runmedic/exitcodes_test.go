package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlanExitCodes: a script tells "apply this" (2) from "a person must look" (3).
func TestPlanExitCodes(t *testing.T) {
	tests := []struct {
		scenario string
		code     int
		want     string
	}{
		{"insufficient-memory", exitChanges, "To apply: runmedic apply --incident ../../tests/scenarios/insufficient-memory/incident.json --live"},
		{"cooldown", exitRefused, "This plan will not be applied: the guard refused it (cooldown)."},
		{"shadow-mode", exitRefused, "This plan will not be applied: "},
		{"memory-at-ceiling", exitOK, "Escalate: runmedic will page "},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			dir := filepath.Join("..", "..", "tests", "scenarios", tt.scenario)
			args := []string{"plan", "--incident", filepath.Join(dir, "incident.json"), "--snapshot", filepath.Join(dir, "snapshot.json")}
			if _, err := os.Stat(filepath.Join(dir, "config.yaml")); err == nil {
				args = append(args, "--config", filepath.Join(dir, "config.yaml"))
			}
			code, out, errOut := runCLI(t, nil, args...)
			if code != tt.code {
				t.Fatalf("runmedic %v = exit %d, want %d\n%s%s", args, code, tt.code, out, errOut)
			}
			if !strings.Contains(out, tt.want) {
				t.Errorf("runmedic %v output lacks %q:\n%s", args, tt.want, out)
			}
			if tt.code != exitChanges && strings.Contains(out, "To apply:") {
				t.Errorf("runmedic %v tells how to apply a plan that will not be applied:\n%s", args, out)
			}
		})
	}
}

// TestApplyShowsProgress: while Cloud Run's operation runs, apply says it is still working.
func TestApplyShowsProgress(t *testing.T) {
	srv, _, vars := liveFakes(t, "insufficient-memory")
	srv.SetOperationPolls(2)
	defer func(d time.Duration) { applyProgressEvery = d }(applyProgressEvery)
	applyProgressEvery = 100 * time.Millisecond
	incident := filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory", "incident.json")
	code, out, errOut := runCLI(t, vars, "apply", "--incident", incident, "--live", "--auto-approve")
	if code != exitOK {
		t.Fatalf("apply = exit %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"Applying to projects/aiprod-484120/locations/europe-west1/services/aiprod-api: UpdateService", "  still applying (", "  done in ", "Apply complete! 1 changed."} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "To apply:") {
		t.Errorf("apply tells how to apply:\n%s", out)
	}
}

// TestLiveCommandsNameTheirEndpoints: every live command says once which API answers it.
func TestLiveCommandsNameTheirEndpoints(t *testing.T) {
	_, snap, vars := liveFakes(t, "insufficient-memory")
	incident := filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory", "incident.json")
	for _, args := range [][]string{
		{"plan", "--incident", incident, "--live"},
		{"snapshot", "--service", snap.Target.Name()},
		{"apply", "--incident", incident, "--live", "--auto-approve"},
	} {
		_, _, errOut := runCLI(t, vars, args...)
		for _, want := range []string{
			"Cloud Run   API: " + vars["RUNMEDIC_RUN_ENDPOINT"] + " (local fake, RUNMEDIC_RUN_ENDPOINT)\n",
			"Monitoring  API: " + vars["RUNMEDIC_MONITORING_ENDPOINT"] + " (local fake, RUNMEDIC_MONITORING_ENDPOINT)\n",
		} {
			if n := strings.Count(errOut, want); n != 1 {
				t.Errorf("runmedic %v stderr has %q %d times, want once:\n%s", args[0], want, n, errOut)
			}
		}
	}
	var b strings.Builder
	if real := printEndpoints(&b, func(string) string { return "" }); !real || !strings.Contains(b.String(), "run.googleapis.com (Google, as the Application Default Credentials identity)") {
		t.Errorf("printEndpoints without fakes = %v, %q; want Google's endpoints, reported as real", real, b.String())
	}
}

// TestApplyRefusedPlan: apply of a plan the guard refuses changes nothing and exits 3.
func TestApplyRefusedPlan(t *testing.T) {
	srv, snap, vars := liveFakes(t, "cooldown")
	incident := filepath.Join("..", "..", "tests", "scenarios", "cooldown", "incident.json")
	code, out, errOut := runCLI(t, vars, "apply", "--incident", incident, "--live", "--auto-approve")
	if code != exitRefused || !strings.Contains(errOut, "Not applied: refused by cooldown: ") || !strings.Contains(out, "This plan will not be applied") {
		t.Errorf("apply of a refused plan = exit %d, want %d saying why\nstdout:\n%s\nstderr:\n%s", code, exitRefused, out, errOut)
	}
	if n := srv.UpdateCount(snap.Target.Name()); n != 0 {
		t.Errorf("apply of a refused plan issued %d updates, want 0", n)
	}
}

func TestProgramName(t *testing.T) {
	for argv0, want := range map[string]string{
		"./runmedic":   "./runmedic",
		"bin/runmedic": "bin/runmedic",
		"runmedic":     "runmedic",
		filepath.Join(os.TempDir(), "go-build1", "exe", "runmedic"): "runmedic", // go run
	} {
		if got := programName(argv0); got != want {
			t.Errorf("programName(%q) = %q, want %q", argv0, got, want)
		}
	}
}
