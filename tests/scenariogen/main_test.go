package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedScenariosAreCommitted holds the committed gen-* folders byte-identical to what the
// generator writes: regenerate with `go run ./tests/scenariogen -out tests/scenarios` (then
// `go test ./tests -update` for the goldens) after changing it.
func TestGeneratedScenariosAreCommitted(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir, 16); err != nil {
		t.Fatalf("write: %v", err)
	}
	committed, err := filepath.Glob("../scenarios/gen-*")
	if err != nil {
		t.Fatal(err)
	}
	generated, err := filepath.Glob(filepath.Join(dir, "gen-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(generated) < 40 {
		t.Errorf("generator wrote %d folders, want at least 40", len(generated))
	}
	names := map[string]bool{}
	for _, g := range generated {
		names[filepath.Base(g)] = true
	}
	for _, c := range committed {
		if !names[filepath.Base(c)] {
			t.Errorf("tests/scenarios/%s is not generated any more: remove it", filepath.Base(c))
		}
	}
	for _, g := range generated {
		name := filepath.Base(g)
		for _, f := range []string{"incident.json", "snapshot.json", "README.md"} {
			want, err := os.ReadFile(filepath.Join(g, f))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join("..", "scenarios", name, f))
			if err != nil {
				t.Errorf("%s/%s: %v (run the generator)", name, f, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("tests/scenarios/%s/%s differs from the generator's output: regenerate", name, f)
			}
		}
	}
}

// TestGeneratorIsDeterministic writes the catalogue twice and compares every byte.
func TestGeneratorIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := write(a, 16); err != nil {
		t.Fatal(err)
	}
	if err := write(b, 16); err != nil {
		t.Fatal(err)
	}
	err := filepath.WalkDir(a, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel := strings.TrimPrefix(path, a)
		x, _ := os.ReadFile(path)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs with one seed", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestReadmesCiteTheRunbook keeps every generated README one line naming what the runbook says.
func TestReadmesCiteTheRunbook(t *testing.T) {
	for _, c := range catalogue() {
		files, err := render(c, 1)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		r := string(files["README.md"])
		if strings.Count(r, "\n") != 1 || !strings.Contains(strings.ToLower(r), "runbook") {
			t.Errorf("%s: README %q is not one line citing the runbook", c.name, r)
		}
	}
}
