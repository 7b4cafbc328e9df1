package tests

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// TestBuildOutputsIgnored: the binaries the README and policies/README.md build (./runmedic,
// bin/runmedic) never show up as changes to commit.
func TestBuildOutputsIgnored(t *testing.T) {
	b, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	for _, want := range []string{"/runmedic", "/bin/"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".gitignore lacks %q", want)
		}
	}
}
