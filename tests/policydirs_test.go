package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/policy"
)

// TestEveryPolicyDirectory holds every directory of .rego files in the repository to what
// `runmedic test` checks first (strict compile, opa fmt, input schema), so a policy set added
// beside the bundled one is checked in CI without anyone listing it.
func TestEveryPolicyDirectory(t *testing.T) {
	dirs := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".rego") {
			dirs[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !dirs[filepath.Join("..", "policies")] {
		t.Fatalf("found policy directories %v, want policies/ among them", dirs)
	}
	for dir := range dirs {
		findings, err := policy.Check(os.DirFS(dir))
		if err != nil {
			t.Errorf("%s: %v", dir, err)
			continue
		}
		for _, f := range findings {
			t.Errorf("%s/%s", dir, f)
		}
	}
}
