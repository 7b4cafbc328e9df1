package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// builtinPolicies is the --policies value that selects the policy set compiled into the binary.
const builtinPolicies = "builtin"

// modulePath is the module a runmedic checkout's go.mod declares.
const modulePath = "github.com/runmedic/runmedic"

// moduleRoot returns the runmedic checkout that dir is inside (the directory of a go.mod
// declaring modulePath, dir itself or above it), or "" when dir is not inside one.
func moduleRoot(dir string) string {
	for {
		if declaresModule(filepath.Join(dir, "go.mod")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func declaresModule(goMod string) bool {
	f, err := os.Open(goMod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == modulePath
		}
	}
	return false
}

// checkoutPolicies is the policy directory a policy author is editing: policies/ with .rego
// files in cwd, or in a directory above it up to the checkout's root. "" when there is none, and
// then the built-in set is the default.
func checkoutPolicies(cwd string) string {
	if hasRego(filepath.Join(cwd, "policies")) {
		return filepath.Join(cwd, "policies")
	}
	root := moduleRoot(cwd)
	if root == "" {
		return ""
	}
	for dir := cwd; ; dir = filepath.Dir(dir) {
		if hasRego(filepath.Join(dir, "policies")) {
			return filepath.Join(dir, "policies")
		}
		if dir == root || filepath.Dir(dir) == dir {
			return ""
		}
	}
}

func hasRego(dir string) bool {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.rego"))
	return len(matches) > 0
}

// checkoutScenarios is the scenario directory `test` checks by default: tests/scenarios in cwd,
// else in the checkout's root; "" when neither exists.
func checkoutScenarios(cwd string) string {
	candidates := []string{filepath.Join(cwd, "tests", "scenarios")}
	if root := moduleRoot(cwd); root != "" {
		candidates = append(candidates, filepath.Join(root, "tests", "scenarios"))
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
	}
	return ""
}

// shortPath is path relative to the working directory when that is shorter, for messages.
func shortPath(path string) string {
	cwd, err := os.Getwd()
	if err != nil {
		return path
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if rel, err := filepath.Rel(cwd, abs); err == nil && len(rel) < len(abs) {
		if !strings.HasPrefix(rel, "..") {
			return "./" + rel
		}
		return rel
	}
	return abs
}
