package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/policies"
)

// policyFlags are the flags every deciding command shares.
type policyFlags struct {
	policiesDir string
	configFile  string
}

func (p *policyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.policiesDir, "policies", "", "directory of Rego policies to use instead of the bundled ones")
	fs.StringVar(&p.configFile, "config", "", "YAML file merged over the default config (policies/data/config.yaml)")
}

// policyFS is the policy set: --policies DIR, or the bundled policies.
func (p policyFlags) policyFS() fs.FS {
	if p.policiesDir != "" {
		return os.DirFS(p.policiesDir)
	}
	return policies.FS
}

// runner returns a scenario runner over the policy set, whose base config is the bundled
// default merged with the policy directory's own data/config.yaml if it has one. --config is
// the scenario's overlay (see readScenario), so it merges last.
func (p policyFlags) runner() (*scenario.Runner, error) {
	cfg, err := config.Default()
	if err != nil {
		return nil, err
	}
	if p.policiesDir != "" {
		path := filepath.Join(p.policiesDir, config.DefaultPath)
		if b, err := os.ReadFile(path); err == nil {
			if cfg, err = config.Parse(b, cfg); err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
		}
	}
	return scenario.NewRunner(p.policyFS(), cfg), nil
}

// readScenario reads the files a plan is made from. snapFile may be empty (--live).
func readScenario(incident, snapFile, configFile string) (scenario.Scenario, error) {
	sc := scenario.Scenario{Name: incident, IncidentName: incident, SnapshotName: snapFile}
	if incident == "" {
		return sc, fmt.Errorf("--incident is required: the notification JSON as Cloud Monitoring sends it")
	}
	var err error
	if sc.Incident, err = os.ReadFile(incident); err != nil {
		return sc, fmt.Errorf("read incident: %w", err)
	}
	if snapFile != "" {
		if sc.Snapshot, err = os.ReadFile(snapFile); err != nil {
			return sc, fmt.Errorf("read snapshot: %w", err)
		}
	}
	if configFile != "" {
		if sc.Config, err = os.ReadFile(configFile); err != nil {
			return sc, fmt.Errorf("read config: %w", err)
		}
	}
	return sc, nil
}
