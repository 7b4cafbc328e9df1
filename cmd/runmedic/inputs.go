package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"

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

// runner returns a scenario runner over the policy set. Its base config is what the function
// would use with the same policy set and config file (config.ForPolicies): the bundled default,
// the policy directory's own data/config.yaml, then --config. A scenario's own config.yaml merges
// last.
func (p policyFlags) runner() (*scenario.Runner, error) {
	if p.policiesDir != "" {
		if st, err := os.Stat(p.policiesDir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("policy directory %s: not a directory", p.policiesDir)
		}
	}
	var overlay []byte
	if p.configFile != "" {
		var err error
		if overlay, err = os.ReadFile(p.configFile); err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
	}
	cfg, err := config.ForPolicies(p.policyFS(), overlay, p.configFile)
	if err != nil {
		return nil, err
	}
	return scenario.NewRunner(p.policyFS(), cfg), nil
}

// readScenario reads the files a plan is made from. snapFile may be empty (--live).
func readScenario(incident, snapFile string) (scenario.Scenario, error) {
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
	return sc, nil
}
