package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// liveFakes seeds fake Cloud Run and Monitoring from a scenario moved to now, as
// `runmedic fakes` does, and returns the environment that points runmedic at them.
func liveFakes(t *testing.T, name string) (*cloudruntest.Server, snapshot.Snapshot, map[string]string) {
	t.Helper()
	sc, err := scenario.Load(filepath.Join("..", "..", "tests", "scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sc.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	snap = snap.Shifted(time.Now().UTC().Truncate(time.Minute).Sub(snap.CapturedAt))
	run := cloudruntest.New(t)
	if err := run.SeedFromSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	mon := monitoringtest.New(t)
	mon.SeedFromSnapshot(snap)
	lg := loggingtest.New(t)
	lg.SeedFromSnapshot(snap)
	return run, snap, map[string]string{
		"RUNMEDIC_RUN_ENDPOINT":        run.Addr(),
		"RUNMEDIC_MONITORING_ENDPOINT": mon.Addr(),
		"RUNMEDIC_LOGGING_ENDPOINT":    lg.Addr(),
		ledger.EnvEmulator:             firestoretest.Shared(t).Host(),
		ledger.EnvProject:              firestoretest.Project(t),
	}
}

// ledgerState is runmedic's memory of target in the ledger vars point at.
func ledgerState(t *testing.T, vars map[string]string, target snapshot.Target) state.State {
	t.Helper()
	store, err := ledger.OpenFromEnv(context.Background(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	e, err := store.Load(context.Background(), target, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return e.State
}

// runCLI runs a command in-process and returns its exit code, stdout and stderr.
func runCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), env{
		stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return vars[k] },
	}, args)
	return code, out.String(), errOut.String()
}

// TestLiveApplyMatchesPlanOnce is the README's live walk-through against the fakes: plan --live
// predicts the change, apply makes exactly that change once, a second apply changes nothing.
func TestLiveApplyMatchesPlanOnce(t *testing.T) {
	srv, snap, vars := liveFakes(t, "insufficient-memory")
	incident := filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory", "incident.json")
	name := snap.Target.Name()

	code, out, stderr := runCLI(t, vars, "plan", "--incident", incident, "--live", "-o", "json")
	if code != exitChanges {
		t.Fatalf("plan --live exit = %d, want %d; stderr: %s", code, exitChanges, stderr)
	}
	var p struct {
		Changes []snapshot.Change `json:"changes"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan -o json: %v\n%s", err, out)
	}
	if len(p.Changes) != 1 || p.Changes[0].Path != snapshot.PathMemory || !p.Changes[0].After.Equal(snapshot.TextValue("4Gi")) {
		t.Fatalf("plan --live changes = %+v, want template.memory -> 4Gi", p.Changes)
	}
	if n := srv.UpdateCount(name); n != 0 {
		t.Fatalf("plan --live made %d updates, want 0 (read-only)", n)
	}

	code, out, stderr = runCLI(t, vars, "apply", "--incident", incident, "--live", "--auto-approve")
	if code != exitOK || !strings.Contains(out, "Apply complete! 1 changed.") {
		t.Fatalf("apply exit = %d, want 0 with 'Apply complete'; stdout:\n%s\nstderr: %s", code, out, stderr)
	}
	svc := srv.Service(name)
	if got := svc.GetTemplate().GetContainers()[0].GetResources().GetLimits()["memory"]; got != "4Gi" {
		t.Errorf("service memory after apply = %q, want 4Gi as planned", got)
	}
	st := ledgerState(t, vars, snap.Target)
	if len(st.Actions) != 1 || st.Actions[0].Action != "raise_memory" {
		t.Fatalf("ledger after apply = %+v, want one raise_memory action", st.Actions)
	}
	if rev := st.Actions[0].Revision; rev == "" || rev != svc.GetLatestReadyRevision()[strings.LastIndex(svc.GetLatestReadyRevision(), "/")+1:] {
		t.Errorf("recorded revision = %q, want the new latest ready revision %q", rev, svc.GetLatestReadyRevision())
	}
	revisions := len(srv.Revisions(name))

	code, out, stderr = runCLI(t, vars, "apply", "--incident", incident, "--live", "--auto-approve")
	if code != exitOK || !strings.Contains(out, "No changes.") {
		t.Fatalf("second apply exit = %d, want 0 with 'No changes.'; stdout:\n%s\nstderr: %s", code, out, stderr)
	}
	if got := len(srv.Revisions(name)); got != revisions {
		t.Errorf("second apply left %d revisions, want %d: it must change nothing", got, revisions)
	}
}

func TestApplyRefusesWithoutTerminalOrApproval(t *testing.T) {
	_, _, vars := liveFakes(t, "insufficient-memory")
	incident := filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory", "incident.json")
	code, _, stderr := runCLI(t, vars, "apply", "--incident", incident, "--live")
	if code != exitError || !strings.Contains(stderr, "pass --auto-approve") {
		t.Errorf("apply without a terminal = %d, %q; want exit 1 asking for --auto-approve", code, stderr)
	}
	code, _, stderr = runCLI(t, vars, "apply", "--incident", incident)
	if code != exitError || !strings.Contains(stderr, "add --live") {
		t.Errorf("apply without --live = %d, %q; want exit 1 asking for --live", code, stderr)
	}
}

func TestSnapshotRoundTripsThroughPlan(t *testing.T) {
	_, snap, vars := liveFakes(t, "regression-rollback")
	code, out, stderr := runCLI(t, vars, "snapshot", "--service", snap.Target.Name())
	if code != exitOK {
		t.Fatalf("snapshot exit = %d; stderr: %s", code, stderr)
	}
	got, err := snapshot.Load([]byte(out))
	if err != nil {
		t.Fatalf("captured snapshot does not load: %v", err)
	}
	if len(got.Revisions) != len(snap.Revisions) || got.Service.Template.Memory != snap.Service.Template.Memory {
		t.Errorf("captured %d revisions, memory %s; want %d, %s", len(got.Revisions), got.Service.Template.Memory, len(snap.Revisions), snap.Service.Template.Memory)
	}
	if len(got.Metrics.MemoryUtilization) != len(snap.Metrics.MemoryUtilization) {
		t.Errorf("captured %d memory points, want %d", len(got.Metrics.MemoryUtilization), len(snap.Metrics.MemoryUtilization))
	}
	if got.Logs == nil || !got.Logs.Available || len(got.Logs.OOMKills) != 0 {
		t.Errorf("captured logs %+v, want read, with no OOM kill", got.Logs)
	}
}

func TestLiveErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad service name", []string{"snapshot", "--service", "aiprod-api"}, "want projects/PROJECT/locations/LOCATION/services/SERVICE"},
		{"unpin without service", []string{"unpin"}, "--service is required"},
		{"plan with both inputs", []string{"plan", "--incident", "x.json", "--live", "--snapshot", "y.json"}, "exactly one of --snapshot F or --live"},
		{"unknown command", []string{"remedy"}, `unknown command "remedy"`},
		{"no command", nil, "no command; run `runmedic help`"},
		{"bad flag", []string{"plan", "--bogus"}, "flag provided but not defined: -bogus; run `runmedic plan -help`"},
		{"bad flag value", []string{"test", "--threshold", "abc"}, `invalid value "abc" for flag -threshold`},
		{"bad flag on apply", []string{"apply", "-o", "yaml"}, "flag provided but not defined: -o"},
		{"no API at the endpoints", []string{"snapshot", "--service", "projects/p/locations/l/services/s"}, "is `runmedic fakes` running?"},
	}
	// Nothing listens on port 1 of the loopback.
	dead := map[string]string{"RUNMEDIC_RUN_ENDPOINT": "127.0.0.1:1", "RUNMEDIC_MONITORING_ENDPOINT": "127.0.0.1:1",
		"RUNMEDIC_LOGGING_ENDPOINT": "127.0.0.1:1"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, dead, tt.args...)
			// A live command first says which endpoints it uses; the error is still one line.
			errLines := 0
			for line := range strings.Lines(stderr) {
				if strings.HasPrefix(line, "Error: ") {
					errLines++
				} else if !strings.Contains(line, " API: ") {
					t.Errorf("%v stderr has a line that is neither an endpoint nor the error: %q", tt.args, line)
				}
			}
			if code != exitError || !strings.Contains(stderr, tt.want) || errLines != 1 {
				t.Errorf("%v = exit %d, stderr %q; want exit 1 and one error line containing %q", tt.args, code, stderr, tt.want)
			}
		})
	}
}

// TestLiveReadsDoNotWriteTheLedger: plan --live and snapshot read the ledger through Peek: a
// service's legacy history is shown but not imported, so they change nothing anywhere.
func TestLiveReadsDoNotWriteTheLedger(t *testing.T) {
	_, snap, vars := liveFakes(t, "cooldown")
	if len(snap.History) == 0 {
		t.Fatal("the cooldown scenario has no history to import")
	}
	incident := filepath.Join("..", "..", "tests", "scenarios", "cooldown", "incident.json")
	if code, _, stderr := runCLI(t, vars, "plan", "--incident", incident, "--live"); code == exitError {
		t.Fatalf("plan --live failed: %s", stderr)
	}
	code, out, stderr := runCLI(t, vars, "snapshot", "--service", snap.Target.Name())
	if code != exitOK {
		t.Fatalf("snapshot exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"history"`) || strings.Contains(out, `"history": []`) {
		t.Errorf("snapshot lacks the legacy history:\n%s", out)
	}
	store, err := ledger.OpenFromEnv(context.Background(), func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	left, err := store.Unimported(context.Background(), []snapshot.Target{snap.Target})
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 1 {
		t.Errorf("after plan --live and snapshot the ledger imported %s; want nothing written", snap.Target.Name())
	}
}
