// Package policyauthor follows policies/README.md as a policy author would: it writes the files
// the page shows, applies its edits and runs its commands, on a copy of the repository, so the
// worked example cannot drift from what runmedic does.
package policyauthor

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const repo = "../.."

// step is one marked code block of the README: <!-- file: P -->, <!-- edit: P --> or
// <!-- run: exit N --> followed by a fenced block.
type step struct {
	kind, arg string
	body      string
}

var marker = regexp.MustCompile("(?s)<!-- (file|edit|run): ([^>]*?) -->\\s*```[a-z]*\\n(.*?)```")

func readSteps(t *testing.T) []step {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var steps []step
	for _, m := range marker.FindAllStringSubmatch(string(b), -1) {
		steps = append(steps, step{kind: m[1], arg: strings.TrimSpace(m[2]), body: m[3]})
	}
	if len(steps) < 6 {
		t.Fatalf("policies/README.md has %d marked blocks, want the whole worked example", len(steps))
	}
	return steps
}

func TestReadmeWorkedExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the runmedic binary")
	}
	dir := t.TempDir()
	copyTree(t, filepath.Join(repo, "policies"), filepath.Join(dir, "policies"), func(name string) bool {
		return strings.HasSuffix(name, ".rego") || strings.HasSuffix(name, ".yaml")
	})
	copyTree(t, filepath.Join(repo, "tests", "scenarios"), filepath.Join(dir, "tests", "scenarios"), nil)
	bin := filepath.Join(dir, "bin", "runmedic")

	var replayOut string
	for _, s := range readSteps(t) {
		switch s.kind {
		case "file":
			write(t, filepath.Join(dir, s.arg), []byte(s.body))
		case "edit":
			applyDiff(t, filepath.Join(dir, s.arg), s.body)
		case "run":
			want, err := strconv.Atoi(strings.TrimPrefix(s.arg, "exit "))
			if err != nil {
				t.Fatalf("run marker %q: want \"exit N\"", s.arg)
			}
			for _, line := range strings.Split(strings.TrimSpace(s.body), "\n") {
				args := split(line)
				if strings.Join(args[:3], " ") == "go build -o" {
					// The baseline: built from the repository before any edit, as the page says.
					build(t, bin)
					continue
				}
				if args[0] != "bin/runmedic" {
					t.Fatalf("README command %q: want bin/runmedic or go build", line)
				}
				out, code := runIn(t, dir, bin, args[1:])
				if code != want {
					t.Fatalf("%s: exit %d, want %d\n%s", line, code, want, out)
				}
				if args[1] == "replay" {
					replayOut = out
				}
			}
		}
	}
	// The effect the page describes: changes refused by the new rule, nothing else moved.
	row := lineWith(replayOut, "insufficient-memory ")
	if !strings.Contains(row, "allowed") || !strings.Contains(row, "refused: policy") {
		t.Errorf("replay row for insufficient-memory = %q, want allowed before and refused: policy after\n%s", row, replayOut)
	}
	for _, unmoved := range []string{"incident-closed ", "memory-at-ceiling ", "test-notification "} {
		if lineWith(replayOut, unmoved) != "" {
			t.Errorf("replay lists %q, which the rule does not touch:\n%s", unmoved, replayOut)
		}
	}
	// The summary the page prints is the one the replay printed.
	b, err := os.ReadFile(filepath.Join(repo, "policies", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if summary := regexp.MustCompile(`(?m)^\d+ of \d+ scenarios differ$`).Find(b); summary == nil || !strings.Contains(replayOut, string(summary)) {
		t.Errorf("policies/README.md shows %q, the replay printed:\n%s", summary, replayOut)
	}
	// After -update, the copy of the scenarios agrees with the new policies.
	out, code := runIn(t, dir, bin, []string{"test"})
	if code != 0 {
		t.Errorf("runmedic test after -update: exit %d\n%s", code, out)
	}
	// The page's commands rely on the defaults: the checkout's policies and scenarios.
	for _, want := range []string{"Policies:  ./policies", "Scenarios: ./tests/scenarios"} {
		if !strings.Contains(out, want) {
			t.Errorf("runmedic test in the copy does not say %q:\n%s", want, out)
		}
	}
}

func build(t *testing.T, bin string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/runmedic")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
}

func runIn(t *testing.T, dir, bin string, args []string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return string(out), 0
}

// applyDiff applies a one-hunk diff of context (" ") and added ("+") lines.
func applyDiff(t *testing.T, path, diff string) {
	t.Helper()
	var before, after []string
	for _, l := range strings.Split(strings.TrimRight(diff, "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "+"):
			after = append(after, l[1:])
		case strings.HasPrefix(l, " "):
			before, after = append(before, l[1:]), append(after, l[1:])
		default:
			t.Fatalf("edit of %s: line %q is neither context nor an addition", path, l)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old := strings.Join(before, "\n")
	if strings.Count(string(b), old) != 1 {
		t.Fatalf("edit of %s: the context\n%s\nmust occur exactly once", path, old)
	}
	write(t, path, []byte(strings.Replace(string(b), old, strings.Join(after, "\n"), 1)))
}

// split splits a command line on spaces, with "..." as one argument (possibly empty).
func split(line string) []string {
	var args []string
	for _, m := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(line, -1) {
		args = append(args, strings.Trim(m, `"`))
	}
	return args
}

func lineWith(out, prefix string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

func copyTree(t *testing.T, from, to string, keep func(string) bool) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || (keep != nil && !keep(d.Name())) {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		write(t, filepath.Join(to, rel), b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
