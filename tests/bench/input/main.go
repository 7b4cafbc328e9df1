// Command input writes what `opa eval` needs to evaluate a scenario exactly as runmedic does:
// input.json (the snapshot with the incident applied, plus the signals Go derives) and
// data.json (the merged config at data.runmedic.config).
//
//	go run ./tests/bench/input -scenario tests/scenarios/insufficient-memory -out DIR
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/policies"
)

func main() {
	dir := flag.String("scenario", "", "scenario folder")
	out := flag.String("out", ".", "folder to write input.json and data.json into")
	flag.Parse()
	if err := run(*dir, *out); err != nil {
		fmt.Fprintf(os.Stderr, "input: %v\n", err)
		os.Exit(1)
	}
}

func run(dir, out string) error {
	sc, err := scenario.Load(dir)
	if err != nil {
		return err
	}
	snap, err := sc.Prepare()
	if err != nil {
		return err
	}
	cfg, err := config.ForPolicies(policies.FS, sc.Config, scenario.ConfigFile)
	if err != nil {
		return err
	}
	sig, err := signals.Compute(snap, cfg.DefaultsFor(snap.Target))
	if err != nil {
		return err
	}
	if err := write(filepath.Join(out, "input.json"), policy.Input{Snapshot: snap, Signals: sig}.WithRounded()); err != nil {
		return err
	}
	return write(filepath.Join(out, "data.json"), map[string]any{"runmedic": map[string]any{"config": cfg}})
}

func write(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, b, 0o644)
}
