// Package scenario runs incidents against snapshots the way `runmedic plan` does, for the CLI,
// for `runmedic test` and `runmedic replay`, and for the scenario goldens. A scenario is a folder:
// incident.json (the notification as Monitoring sends it), snapshot.json, and optionally
// config.yaml merged over the base config. A new case is a new folder, no Go code.
package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/outcome"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// File names inside a scenario folder.
const (
	IncidentFile = "incident.json"
	SnapshotFile = "snapshot.json"
	ConfigFile   = "config.yaml"
	TextGolden   = "plan.golden"
	JSONGolden   = "plan.json.golden"
)

// Scenario is one incident and the snapshot it is decided against.
type Scenario struct {
	Name     string
	Dir      string
	Incident []byte
	Snapshot []byte
	Config   []byte // nil: the base config as it is
	// Names used in error messages; Load sets them to the file names, the CLI to the paths given.
	IncidentName, SnapshotName string
}

// Load reads the scenario folder dir.
func Load(dir string) (Scenario, error) {
	return Scenario{Name: filepath.Base(dir), Dir: dir, IncidentName: IncidentFile, SnapshotName: SnapshotFile}.Read()
}

// Read returns sc with its files read from sc.Dir, keeping its names.
func (sc Scenario) Read() (Scenario, error) {
	var err error
	if sc.Incident, err = os.ReadFile(filepath.Join(sc.Dir, IncidentFile)); err != nil {
		return Scenario{}, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	if sc.Snapshot, err = os.ReadFile(filepath.Join(sc.Dir, SnapshotFile)); err != nil {
		return Scenario{}, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	sc.Config, err = os.ReadFile(filepath.Join(sc.Dir, ConfigFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Scenario{}, fmt.Errorf("scenario %s: %w", sc.Name, err)
	}
	return sc, nil
}

// Unread reports whether sc was listed but its files are not read yet (List, not LoadAll).
func (sc Scenario) Unread() bool { return sc.Incident == nil && sc.Snapshot == nil && sc.Dir != "" }

// LoadAll reads every scenario below root: root itself if it is a scenario, else each folder
// under it (at any depth) that holds an incident.json. The result is sorted by path.
func LoadAll(root string) ([]Scenario, error) {
	out, err := List(root)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i], err = out[i].Read(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// List finds the scenarios LoadAll reads, in the same order and with the same names, without
// reading their files: many thousands can then be decided a few at a time (Scenario.Read).
func List(root string) ([]Scenario, error) {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == IncidentFile {
			dirs = append(dirs, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find scenarios: %w", err)
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("no scenarios under %s: a scenario is a folder with %s and %s", root, IncidentFile, SnapshotFile)
	}
	sort.Strings(dirs)
	out := make([]Scenario, 0, len(dirs))
	for _, d := range dirs {
		sc := Scenario{Name: filepath.Base(d), Dir: d, IncidentName: IncidentFile, SnapshotName: SnapshotFile}
		if rel, err := filepath.Rel(root, d); err == nil && rel != "." {
			sc.Name = filepath.ToSlash(rel)
		}
		out = append(out, sc)
	}
	return out, nil
}

// Prepare decodes the scenario's alert and snapshot and puts the alert's incident and target
// in the snapshot, so one snapshot can be replayed against many alerts.
func (sc Scenario) Prepare() (snapshot.Snapshot, error) {
	if isSnapshot(sc.Incident) {
		if !isSnapshot(sc.Snapshot) {
			return snapshot.Snapshot{}, fmt.Errorf("the incident and the snapshot are swapped: %s is a snapshot and %s is not; swap --incident and --snapshot",
				sc.IncidentName, sc.SnapshotName)
		}
		return snapshot.Snapshot{}, fmt.Errorf("%s is a snapshot, not a notification: --incident takes the alert as Cloud Monitoring sends it", sc.IncidentName)
	}
	a, err := sc.Alert()
	if err != nil {
		return snapshot.Snapshot{}, err
	}
	s, err := snapshot.Load(sc.Snapshot)
	if err != nil {
		return snapshot.Snapshot{}, fmt.Errorf("%s: %w", sc.SnapshotName, err)
	}
	if s.Target.Service != "" && s.Target.Name() != a.Target.Name() {
		// Deciding one service from another's data would plan the wrong change.
		return snapshot.Snapshot{}, fmt.Errorf("%s is a snapshot of %s, but %s is an incident for %s: give the snapshot of the incident's service",
			sc.SnapshotName, s.Target.Name(), sc.IncidentName, a.Target.Name())
	}
	s.Incident, s.Target = a.Incident, a.Target
	return s, nil
}

// isSnapshot reports whether data is a JSON object with captured_at, which every snapshot has
// and no notification does, so swapped files are named as swapped.
func isSnapshot(data []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(data, &keys) != nil {
		return false
	}
	_, ok := keys["captured_at"]
	return ok
}

// Alert decodes the scenario's notification.
func (sc Scenario) Alert() (alert.Alert, error) {
	a, err := alert.Decode(sc.Incident)
	if err != nil {
		return alert.Alert{}, fmt.Errorf("%s: %w", sc.IncidentName, err)
	}
	return a, nil
}

// Runner decides scenarios with one policy set. It compiles one engine per distinct config,
// since the config is part of the policies' data. It is safe for concurrent use.
type Runner struct {
	policies fs.FS
	base     config.Config
	mu       sync.Mutex // guards engines; held while one compiles, so each compiles once
	engines  map[string]*policy.Engine
}

// NewRunner returns a Runner over the policy set fsys with base as the config every scenario's
// config.yaml merges over.
func NewRunner(fsys fs.FS, base config.Config) *Runner {
	return &Runner{policies: fsys, base: base, engines: map[string]*policy.Engine{}}
}

// Engine returns the compiled engine and merged config for a scenario's config overlay.
func (r *Runner) Engine(ctx context.Context, overlay []byte) (*policy.Engine, config.Config, error) {
	cfg := r.base
	if overlay != nil {
		var err error
		if cfg, err = config.Parse(overlay, r.base); err != nil {
			return nil, config.Config{}, fmt.Errorf("%s: %w", ConfigFile, err)
		}
	}
	key := string(overlay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if eng, ok := r.engines[key]; ok {
		return eng, cfg, nil
	}
	eng, err := policy.New(ctx, r.policies, cfg)
	if err != nil {
		return nil, config.Config{}, err
	}
	r.engines[key] = eng
	return eng, cfg, nil
}

// Result is one scenario decided: the snapshot it was decided on and the outcome, or the error
// that stopped it (an input runmedic cannot act on is an error too).
type Result struct {
	Scenario Scenario
	Snapshot snapshot.Snapshot
	Outcome  outcome.Outcome
	Err      error
}

// Run decides sc exactly as `runmedic plan --snapshot` does: now is the snapshot's capture time.
func (r *Runner) Run(ctx context.Context, sc Scenario) Result {
	res := Result{Scenario: sc}
	eng, cfg, err := r.Engine(ctx, sc.Config)
	if err != nil {
		res.Err = err
		return res
	}
	if res.Snapshot, err = sc.Prepare(); err != nil {
		res.Err = err
		return res
	}
	res.Outcome, res.Err = outcome.Decide(ctx, eng, res.Snapshot, cfg, res.Snapshot.CapturedAt)
	return res
}
