// Package golden compares what a test renders for people with a file committed under testdata,
// and rewrites that file when the test runs with -update, so a reviewer sees a change of
// behaviour as a diff of the file.
package golden

import (
	"flag"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Update is the -update flag of every test binary that imports this package: Check then writes
// the files instead of comparing them.
var Update = flag.Bool("update", false, "rewrite the golden files under testdata")

// Check fails the test unless the file at path holds exactly got; with -update it writes got
// there instead and logs the path it rewrote.
func Check(t testing.TB, path, got string) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden: %v (run the test with -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}
