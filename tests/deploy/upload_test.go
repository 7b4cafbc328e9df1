package deploy_test

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const modulePath = "github.com/runmedic/runmedic"

// checkUpload asserts the rules the Go functions buildpack applies to an upload
// (GoogleCloudPlatform/buildpacks, cmd/go/functions_framework): go.mod and go.sum at the root
// and go.mod writable; a module path whose first element has a dot; every root .go file in one
// package that is not main; no directory named like that package at the root (the buildpack
// would import it instead of the root package); the entry point registered declaratively.
func checkUpload(t *testing.T, dir string) {
	t.Helper()
	for _, f := range []string{"go.mod", "go.sum"} {
		info, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("upload has no %s at its root: %v", f, err)
		}
		if info.Mode().Perm()&0o200 == 0 {
			t.Errorf("%s mode = %v, want writable by the owner (the buildpack edits it)", f, info.Mode())
		}
	}
	mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^module ` + regexp.QuoteMeta(modulePath) + `$`).Match(mod) {
		t.Errorf("upload go.mod does not declare module %s: internal imports would not resolve", modulePath)
	}

	roots, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(roots) == 0 {
		t.Fatalf("no .go files at the upload root (err %v)", err)
	}
	pkgs := map[string]bool{}
	registers := false
	fset := token.NewFileSet()
	for _, f := range roots {
		if strings.HasSuffix(f, "_test.go") {
			t.Errorf("test file %s at the upload root", filepath.Base(f))
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parse %s: %v", f, err)
		}
		pkgs[file.Name.Name] = true
		if bytes.Contains(src, []byte(`functions.HTTP("Remediate"`)) {
			registers = true
		}
	}
	if len(pkgs) != 1 {
		t.Fatalf("upload root packages = %v, want exactly one", pkgs)
	}
	for pkg := range pkgs {
		if pkg == "main" {
			t.Errorf("upload root package is main; the buildpack imports it, so it must not be")
		}
		if _, err := os.Stat(filepath.Join(dir, pkg)); err == nil {
			t.Errorf("directory %s/ at the upload root: the buildpack would build %s/%s instead of the root package", pkg, modulePath, pkg)
		}
	}
	if !registers {
		t.Errorf(`no root .go file contains functions.HTTP("Remediate"`)
	}

	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch {
		case d.IsDir() && d.Name() == "testdata":
			t.Errorf("testdata directory %s in the upload", p)
		case !d.IsDir() && strings.HasSuffix(p, "_test.go"):
			t.Errorf("test file %s in the upload", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// buildpackMain is the declarative main.go the buildpack generates (a blank import of the root
// package, then funcframework), except that it stops after the framework has resolved
// FUNCTION_TARGET: an unusable port makes the listen fail right after that lookup, so nothing
// serves and nothing needs stopping.
const buildpackMain = `package main

import (
	"fmt"
	"os"

	_ "` + modulePath + `"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
)

func main() {
	err := funcframework.StartHostPort("127.0.0.1", "-1")
	fmt.Fprintln(os.Stderr, err)
	os.Exit(3)
}
`

// buildpackApp copies the upload the way the buildpack does, adds its generated main under
// functions.local/app inside the module, builds it, runs it with FUNCTION_TARGET=Remediate and
// returns what it printed.
func buildpackApp(t *testing.T, upload string, env []string) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "serverless_function_source_code")
	copyDir(t, upload, src)
	app := filepath.Join(src, "functions.local", "app")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(app, "main.go"), []byte(buildpackMain), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "server")
	build := exec.Command("go", "build", "-mod=readonly", "-o", bin, "./functions.local/app")
	build.Dir = src
	build.Env = env
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the buildpack's main against the upload: %v\n%s", err, out)
	}

	run := exec.Command(bin)
	run.Env = append(env, "FUNCTION_TARGET=Remediate", "K_SERVICE=")
	out, _ := run.CombinedOutput()
	return string(out)
}

// checkBuildpackApp asserts the framework finds Remediate at the package root of the upload.
func checkBuildpackApp(t *testing.T, upload string, env []string) {
	t.Helper()
	got := buildpackApp(t, upload, env)
	if strings.Contains(got, "no matching function") || !strings.Contains(got, "listen tcp") {
		t.Errorf("server with FUNCTION_TARGET=Remediate said %q, want the framework to find the function and reach listen", got)
	}
}

// TestBuildpackAppNeedsTheEntryPoint shows the app check can fail: an upload whose function
// registers another name is not served as Remediate.
func TestBuildpackAppNeedsTheEntryPoint(t *testing.T) {
	mustHave(t, "go")
	repo := fixtureRepo(t)
	env, _ := tripwires(t, cleanEnv(t))
	stage := t.TempDir()
	if r := runDeploy(t, repo, env, "--dry-run", "--project=p", "--region=r", "--stage-dir="+stage); r.code != 0 {
		t.Fatalf("dry run exit %d: %s", r.code, r.stderr)
	}
	fn := filepath.Join(stage, "function.go")
	b, err := os.ReadFile(fn)
	if err != nil {
		t.Fatal(err)
	}
	renamed := strings.Replace(string(b), `functions.HTTP("Remediate"`, `functions.HTTP("Other"`, 1)
	if err := os.WriteFile(fn, []byte(renamed), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := buildpackApp(t, stage, env); !strings.Contains(got, "no matching function") {
		t.Errorf("server for an upload without Remediate said %q, want no matching function", got)
	}
}
