package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// changedPolicies is a copy of the bundled policies with one more deny rule: nothing is applied
// to a service whose memory is already 4Gi or more.
func changedPolicies(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"oom.rego", "oom_test.rego"} {
		b, err := os.ReadFile(filepath.Join("../../policies", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rule := "package runmedic.oom\n\ndeny contains \"4Gi and more: people decide\" if input.signals.memory_limit_mib >= 4096\n"
	if err := os.WriteFile(filepath.Join(dir, "big.rego"), []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReplay(t *testing.T) {
	changed := changedPolicies(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		absent   []string
	}{
		{"table", []string{"replay", "../../tests/scenarios"}, exitOK,
			[]string{"insufficient-memory", "template.memory 2Gi -> 4Gi", "refused: cooldown", "shadow", "66 scenarios:"}, nil},
		{"one scenario, flags after", []string{"replay", "../../tests/scenarios/regression-rollback", "--explain"}, exitOK,
			[]string{"traffic -> aiprod-api-00042-abc 100%", "rules:", "regression = true", "signals:", "1 scenario:"}, nil},
		{"csv", []string{"replay", "-o", "csv", "../../tests/scenarios/cooldown"}, exitOK,
			[]string{"scenario,diagnosis,action,change,guard,error\n", "cooldown,insufficient_memory,raise_memory"}, nil},
		{"against the same policies", []string{"replay", "../../tests/scenarios", "--against", "../../policies"}, exitOK,
			[]string{"0 of 66 scenarios differ"}, nil},
		{"against changed policies", []string{"replay", "../../tests/scenarios", "--against", changed}, exitChanges,
			[]string{"raise-needs-cpu", "refused: policy", " of 66 scenarios differ"}, []string{"insufficient-memory"}},
		{"history", []string{"replay", "--history", "../../internal/replay/testdata/history.jsonl", "--within", "1h"}, exitOK,
			[]string{"closed by itself after 5m", "escalated after 5m", "5 shadow decisions: 1 closed by itself within 60m"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, nil, tt.args...)
			if code != tt.code {
				t.Fatalf("runmedic %v = exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, out, errOut)
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("runmedic %v output lacks %q:\n%s", tt.args, s, out)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(out, s) {
					t.Errorf("runmedic %v output has %q:\n%s", tt.args, s, out)
				}
			}
		})
	}
}

func TestReplayErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no directory", []string{"replay"}, "give at least one scenario directory"},
		{"bad format", []string{"replay", "-o", "yaml", "../../tests/scenarios"}, `output format "yaml"`},
		{"no scenarios", []string{"replay", t.TempDir()}, "no scenarios under"},
		{"against missing", []string{"replay", "../../tests/scenarios", "--against", "/nonexistent"}, "not a directory"},
		{"history and dirs", []string{"replay", "../../tests/scenarios", "--history", "h.jsonl"}, "--history scores recorded decisions"},
		{"history missing", []string{"replay", "--history", "/nonexistent.jsonl"}, "--history: open /nonexistent.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, nil, tt.args...)
			if code != exitError || !strings.HasPrefix(errOut, "Error: ") || !strings.Contains(errOut, tt.want) {
				t.Errorf("runmedic %v = exit %d, stderr %q; want exit 1 and an error with %q", tt.args, code, errOut, tt.want)
			}
			if strings.Count(errOut, "\n") != 1 {
				t.Errorf("runmedic %v stderr is %d lines, want one:\n%s", tt.args, strings.Count(errOut, "\n"), errOut)
			}
		})
	}
}

// A policy returning an action Go does not know fails `runmedic test`, naming the rule.
func TestTestNamesRuleOfInvalidDecision(t *testing.T) {
	dir := changedPolicies(t)
	b, err := os.ReadFile(filepath.Join(dir, "oom.rego"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(b), `"action": "rollback",`, `"action": "reboot",`, 1)
	if err := os.WriteFile(filepath.Join(dir, "oom.rego"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, nil, "test", dir, "--scenarios", "../../tests/scenarios", "--run", "rolls_back")
	if code != exitError {
		t.Fatalf("runmedic test = exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		`ERROR scenario regression-rollback: `,
		`invalid decision: unknown action "reboot" (rule decision at oom.rego:`,
		`got "reboot", want "rollback"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("runmedic test output lacks %q:\n%s", want, out)
		}
	}
}
