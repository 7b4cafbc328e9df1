package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	imIncident = "../../tests/scenarios/insufficient-memory/incident.json"
	imSnapshot = "../../tests/scenarios/insufficient-memory/snapshot.json"
)

// writeTemp writes content to a file named name in a fresh temporary directory.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// editedFile is a copy of src with old replaced by new (once), which must occur.
func editedFile(t *testing.T, src, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", src, old)
	}
	return writeTemp(t, filepath.Base(src), strings.Replace(string(b), old, new, 1))
}

// TestErrorsSayWhatToFix: each error names the file, where in it, and what to do.
func TestErrorsSayWhatToFix(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"swapped files", []string{"plan", "--incident", imSnapshot, "--snapshot", imIncident},
			[]string{"the incident and the snapshot are swapped", "swap --incident and --snapshot"}},
		{"snapshot of another service", []string{"plan", "--snapshot", imSnapshot,
			"--incident", editedFile(t, imIncident, `"service_name": "aiprod-api"`, `"service_name": "billing"`)},
			[]string{"is a snapshot of projects/aiprod-484120/locations/europe-west1/services/aiprod-api",
				"is an incident for projects/aiprod-484120/locations/europe-west1/services/billing"}},
		{"snapshot JSON syntax", []string{"plan", "--incident", imIncident,
			"--snapshot", writeTemp(t, "snapshot.json", "{\n  \"version\": 1,\n  \"captured_at\" \"x\"\n}")},
			[]string{"snapshot.json: invalid snapshot: line 3, column 17: invalid character"}},
		{"snapshot unknown field", []string{"plan", "--incident", imIncident,
			"--snapshot", writeTemp(t, "snapshot.json", "{\n  \"version\": 1,\n  \"capturd_at\": \"x\"\n}")},
			[]string{"line 3, column 3: unknown field \"capturd_at\""}},
		{"incident field", []string{"plan", "--snapshot", imSnapshot,
			"--incident", editedFile(t, imIncident, `"started_at": 1770200640`, `"started_at": "2026-02-04"`)},
			[]string{`incident.started_at: want Unix seconds, got "2026-02-04" (line 8, column 5)`}},
		{"incident JSON syntax", []string{"plan", "--snapshot", imSnapshot, "--incident", writeTemp(t, "incident.json", "{\n  \"incident\": {,\n}")},
			[]string{"payload is not JSON: line 2, column 16"}},
		{"config key", []string{"plan", "--incident", imIncident, "--snapshot", imSnapshot,
			"--config", writeTemp(t, "config.yaml", "defaults:\n  escalation:\n    - after: 5m\n      notfy: backend-lead\n")},
			[]string{"unknown key defaults.escalation[0].notfy (line 4, column 7): did you mean notify?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != exitError {
				t.Fatalf("runmedic %v = exit %d, want 1\n%s%s", tt.args, code, out, errOut)
			}
			if strings.Count(errOut, "\n") != 1 {
				t.Errorf("runmedic %v stderr is not one line:\n%s", tt.args, errOut)
			}
			for _, s := range tt.want {
				if !strings.Contains(errOut, s) {
					t.Errorf("runmedic %v stderr lacks %q:\n%s", tt.args, s, errOut)
				}
			}
		})
	}
}

func TestPlanExplainJSON(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "plan", "--incident", imIncident, "--snapshot", imSnapshot, "--explain", "-o", "json")
	if code != exitChanges {
		t.Fatalf("plan --explain -o json = exit %d, want 2\n%s", code, errOut)
	}
	var p struct {
		Changes []json.RawMessage `json:"changes"`
		Explain struct {
			Signals map[string]any `json:"signals"`
			Steps   []struct {
				File string `json:"file"`
				Rule string `json:"rule"`
			} `json:"steps"`
		} `json:"explain"`
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --explain -o json is not JSON: %v\n%s", err, out)
	}
	if len(p.Changes) != 1 {
		t.Errorf("plan --explain -o json has %d changes, want the plan's 1", len(p.Changes))
	}
	if p.Explain.Signals["memory_now"] == nil {
		t.Errorf("explain.signals lacks memory_now: %v", p.Explain.Signals)
	}
	held := map[string]bool{}
	for _, s := range p.Explain.Steps {
		held[s.Rule] = s.File != ""
	}
	if !held["decision"] {
		t.Errorf("explain.steps lack the decision rule with its file: %+v", p.Explain.Steps)
	}
	_, plain, _ := runCLI(t, nil, "plan", "--incident", imIncident, "--snapshot", imSnapshot, "-o", "json")
	if plain == out {
		t.Errorf("plan --explain -o json is identical to plan -o json")
	}
}

func TestDevNullIsNotATerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("isTerminal(%s) = true: apply would prompt on it", os.DevNull)
	}
}

func TestReplayBrokenPolicies(t *testing.T) {
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "oom.rego"), []byte("package runmedic.oom\n\ndecision := {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "replay", "../../tests/scenarios", "--against", broken)
	if code != exitError || !strings.Contains(errOut, "--against "+broken+": load policies: oom.rego:") || strings.Contains(out, "differ") {
		t.Errorf("replay --against a broken set = exit %d, stdout %q, stderr %q; want exit 1 with the load error, no table", code, out, errOut)
	}

	undecided := t.TempDir()
	rule := "package runmedic.oom\n\ndecision := {\"action\": \"reboot\", \"diagnosis\": \"unknown\", \"reason\": \"r\", \"evidence\": [], \"params\": {}}\n"
	if err := os.WriteFile(filepath.Join(undecided, "oom.rego"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, nil, "replay", "../../tests/scenarios/insufficient-memory", "--policies", undecided)
	if code != exitError || !strings.Contains(out, `unknown action "reboot"`) || !strings.Contains(errOut, "the policies failed to decide 1 of 1 scenarios") {
		t.Errorf("replay with a policy that decides nothing valid = exit %d; want 1 with the table and the count\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
}

func TestReplaySaysWhichSideIsWhich(t *testing.T) {
	code, _, errOut := runCLI(t, nil, "replay", "../../tests/scenarios/insufficient-memory", "--against", "../../policies")
	if code != exitOK {
		t.Fatalf("replay --against the same set = exit %d, want 0\n%s", code, errOut)
	}
	for _, want := range []string{"Before:    built in (compiled into this binary)", "After:     ../../policies (--against)", "Scenarios: ../../tests/scenarios/insufficient-memory"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("replay --against stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestPlanExplainText(t *testing.T) {
	args := []string{"plan", "--incident", imIncident, "--snapshot", imSnapshot, "--explain"}
	_, out, _ := runCLI(t, nil, args...)
	for _, want := range []string{
		"decision, branches in priority order (the first that holds wins):",
		"not taken: count(acted_on_incident) > 0  (0 > 0)",
		`not taken: diagnosis == "regression"  ("insufficient_memory" == "regression")`,
		"else := raise_memory_decision if {\n",
		"^ this branch decided",
		`diagnosis = "insufficient_memory"   # Diagnosis`,
		"constants and functions hidden; --explain-all shows them",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan --explain lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "oom_level = 0.95") {
		t.Errorf("plan --explain shows a constant:\n%s", out)
	}
	_, all, _ := runCLI(t, nil, "plan", "--incident", imIncident, "--snapshot", imSnapshot, "--explain-all")
	if !strings.Contains(all, "oom_level = 0.95") {
		t.Errorf("plan --explain-all hides the constants:\n%s", all)
	}
}
