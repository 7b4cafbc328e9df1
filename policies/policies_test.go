package policies_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"

	"github.com/runmedic/runmedic/policies"
)

var update = flag.Bool("update", false, "rewrite golden files (here: the .rego files, formatted)")

func regoFiles(t *testing.T) []string {
	t.Helper()
	names, err := fs.Glob(policies.FS, "*.rego")
	if err != nil || len(names) == 0 {
		t.Fatalf("fs.Glob(*.rego) = %v, %v; want the bundled policies", names, err)
	}
	return names
}

// TestFormatted holds every bundled policy to `opa fmt`: a diff in review is a behaviour change,
// never whitespace. -update rewrites the files formatted.
func TestFormatted(t *testing.T) {
	var unformatted []string
	for _, name := range regoFiles(t) {
		src, err := policies.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := format.SourceWithOpts(name, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatalf("format %s: %v", name, err)
		}
		if bytes.Equal(got, src) {
			continue
		}
		if *update {
			if err := os.WriteFile(name, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		unformatted = append(unformatted, name)
	}
	if len(unformatted) > 0 {
		t.Errorf("not formatted as opa fmt would (go test ./policies -update rewrites them): %s", strings.Join(unformatted, ", "))
	}
}

// TestStrict compiles every bundled policy, tests included, in OPA's strict mode: no unused
// variables, imports or deprecated built-ins.
func TestStrict(t *testing.T) {
	modules := map[string]*ast.Module{}
	for _, name := range regoFiles(t) {
		src, err := policies.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true})
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		modules[name] = m
	}
	c := ast.NewCompiler().WithStrict(true)
	if c.Compile(modules); c.Failed() {
		t.Fatalf("strict compile: %v", c.Errors)
	}
}
