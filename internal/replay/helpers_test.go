package replay

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/policies"
)

var update = flag.Bool("update", false, "rewrite golden files")

const scenariosDir = "../../tests/scenarios"

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

func bundledRunner(t testing.TB) *scenario.Runner {
	t.Helper()
	return runnerOver(t, policies.FS)
}

func runnerOver(t testing.TB, fsys fs.FS) *scenario.Runner {
	t.Helper()
	base, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	return scenario.NewRunner(fsys, base)
}

// editedPolicies is the bundled policy set with oom.rego's text old replaced by new.
func editedPolicies(t testing.TB, old, new string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policies.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(policies.FS, name)
		if err != nil {
			return err
		}
		if name == "oom.rego" {
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("oom.rego no longer contains %q", old)
			}
			b = []byte(strings.Replace(string(b), old, new, 1))
		}
		m[name] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// loadScenarios are the hand-written scenarios. The generated gen-* folders are many and
// decided by tests/; here they would only make the goldens long.
func loadScenarios(t testing.TB) []scenario.Scenario {
	t.Helper()
	scs, err := scenario.LoadAll(scenariosDir)
	if err != nil {
		t.Fatal(err)
	}
	out := scs[:0]
	for _, sc := range scs {
		if !strings.HasPrefix(sc.Name, "gen-") {
			out = append(out, sc)
		}
	}
	return out
}

func decideAll(t testing.TB, r *scenario.Runner, opts Options) []Row {
	t.Helper()
	return Decide(context.Background(), r, loadScenarios(t), opts)
}
