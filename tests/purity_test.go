package tests

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pureCore are the packages that take values and return values (DESIGN: "Rules of the house").
var pureCore = []string{
	"alert", "snapshot", "signals", "policy", "plan", "guard", "quantity", "decision", "config", "state",
	"freeze", "secret", "outcome",
}

// forbidden reports why an import has no place in the pure core, or "".
func forbidden(path string) string {
	switch {
	case path == "os" || strings.HasPrefix(path, "os/"):
		return "the file system and environment belong to the callers"
	case path == "net/url": // parsing only: the alert checks the incident URL's shape
		return ""
	case path == "net/http" || strings.HasPrefix(path, "net/"):
		return "the network belongs to the adapters"
	case strings.HasPrefix(path, "google.golang.org/grpc"), strings.HasPrefix(path, "cloud.google.com/"),
		strings.HasPrefix(path, "google.golang.org/api"), strings.HasPrefix(path, "github.com/googleapis/gax-go"):
		return "cloud clients belong to the adapters"
	}
	return ""
}

// TestPureCoreImports keeps the core free of I/O: no file of those packages (tests aside) imports
// the OS, the network or a cloud client.
func TestPureCoreImports(t *testing.T) {
	for _, pkg := range pureCore {
		dir := filepath.Join("..", "internal", pkg)
		fset := token.NewFileSet()
		names, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatalf("list %s: %v", dir, err)
		}
		files := 0
		for _, name := range names {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatalf("parse %s: %v", name, err)
			}
			files++
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if why := forbidden(path); why != "" {
					t.Errorf("%s imports %q: %s", name, path, why)
				}
			}
		}
		if files == 0 {
			t.Errorf("internal/%s has no Go files: the list of core packages is stale", pkg)
		}
	}
}
