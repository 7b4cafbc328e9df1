// Command scenariogen writes realistic memory incidents as scenario folders: noisy series with
// gaps, leaks that OOM-restart in a sawtooth, canaries on several revisions with per-revision
// series, OOM-kill log summaries (and logs that could not be read), recoveries before the alert,
// re-notifications after a failed verification and regressions with nothing to roll back to.
// Every folder comes from a fixed seed, so the output is the same on every run:
//
//	go run ./tests/scenariogen -out tests/scenarios
//
// It writes incident.json, snapshot.json and README.md of each gen-* folder; the goldens are
// written by `go test ./tests -update`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "tests/scenarios", "directory the gen-* folders are written under")
	seed := flag.Uint64("seed", 16, "seed of the whole catalogue")
	flag.Parse()
	if err := write(*out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "scenariogen:", err)
		os.Exit(1)
	}
}

// write renders every case of the catalogue under dir.
func write(dir string, seed uint64) error {
	for i, c := range catalogue() {
		files, err := render(c, seed+uint64(i))
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		d := filepath.Join(dir, "gen-"+c.name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}
