// Package deploy_test runs deploy.sh the way a platform team does and checks what it stages,
// builds and would run, without touching a cloud project.
package deploy_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("abs: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy.sh")); err != nil {
		t.Fatalf("deploy.sh not found at the module root: %v", err)
	}
	return root
}

// mustHave fails the test when a tool the checks depend on is missing: a missing tool must not
// turn a check into a silent pass.
func mustHave(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Fatalf("%s is required for this test and is not on PATH (Debian: apt-get install -y %s)", tool, tool)
	}
	return p
}

// fixtureRepo builds a repository with the real go.mod, go.sum and deploy.sh around the
// stand-in function in testdata/repo, so deploy.sh is exercised whatever state function/ is in.
func fixtureRepo(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	copyDir(t, filepath.Join("testdata", "repo"), dir)
	for _, f := range []string{"go.mod", "go.sum", "deploy.sh"} {
		copyFile(t, filepath.Join(root, f), filepath.Join(dir, f))
	}
	return dir
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		copyFile(t, p, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatalf("copy %s: %v", from, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("read %s: %v", from, err)
	}
	info, err := os.Stat(from)
	if err != nil {
		t.Fatalf("stat %s: %v", from, err)
	}
	if err := os.WriteFile(to, b, info.Mode().Perm()); err != nil {
		t.Fatalf("write %s: %v", to, err)
	}
}

// result is one run of deploy.sh.
type result struct {
	stdout, stderr string
	code           int
}

// cleanEnv is the test's environment without anything that could point gcloud or Terraform at
// a real project or credentials; gcloud gets an empty configuration directory.
func cleanEnv(t *testing.T) []string {
	t.Helper()
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "CLOUDSDK_"), strings.HasPrefix(name, "GOOGLE_"),
			strings.HasPrefix(name, "RUNMEDIC_"), strings.HasPrefix(name, "TF_VAR_"),
			name == "GOFLAGS", name == "GOTOOLCHAIN", name == "GOPROXY":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"CLOUDSDK_CONFIG="+t.TempDir(),
		"CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
		"GOTOOLCHAIN=local",
		"GOPROXY=off", // the staged build must need nothing beyond the module cache
	)
}

// withPath replaces PATH in env.
func withPath(env []string, path string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PATH=") {
			out = append(out, kv)
		}
	}
	return append(out, "PATH="+path)
}

// tripwires puts gcloud and terraform stand-ins first on PATH that record any call: a dry run
// must never reach them. It returns the new env and the log a call would write.
func tripwires(t *testing.T, env []string) ([]string, string) {
	t.Helper()
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "remote-calls.log")
	for _, tool := range []string{"gcloud", "terraform"} {
		script := "#!/bin/sh\necho \"$0 $*\" >> '" + log + "'\nexit 97\n"
		if err := os.WriteFile(filepath.Join(bin, tool), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return withPath(env, bin+string(os.PathListSeparator)+os.Getenv("PATH")), log
}

func runDeploy(t *testing.T, repo string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(filepath.Join(repo, "deploy.sh"), args...)
	cmd.Dir = repo
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run deploy.sh %v: %v", args, err)
	}
	return r
}

// commands returns the remote commands a dry run printed ("+ " lines), each split into words
// by bash itself, so the test reads them exactly as a shell would run them.
func commands(t *testing.T, stdout string) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range strings.Split(stdout, "\n") {
		cmdText, ok := strings.CutPrefix(line, "+ ")
		if !ok {
			continue
		}
		for _, part := range strings.Split(cmdText, " || ") {
			part = strings.TrimSuffix(part, " >/dev/null 2>&1")
			words, err := exec.Command("bash", "-c", `eval "set -- $1"; printf '%s\0' "$@"`, "_", part).Output()
			if err != nil {
				t.Fatalf("split %q: %v", part, err)
			}
			out = append(out, strings.Split(strings.TrimSuffix(string(words), "\x00"), "\x00"))
		}
	}
	return out
}

// find returns the first command starting with prefix.
func find(cmds [][]string, prefix ...string) ([]string, bool) {
next:
	for _, c := range cmds {
		if len(c) < len(prefix) {
			continue
		}
		for i, w := range prefix {
			if c[i] != w {
				continue next
			}
		}
		return c, true
	}
	return nil, false
}

// flags maps "--name=value" and bare "--name" words of a command to their values ("" for bare).
func flags(cmd []string) map[string]string {
	m := map[string]string{}
	for _, w := range cmd {
		if !strings.HasPrefix(w, "-") {
			continue
		}
		k, v, _ := strings.Cut(w, "=")
		m[k] = v
	}
	return m
}
