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
	fs.StringVar(&p.policiesDir, "policies", "", "directory of Rego policies to use instead of the bundled ones (\"builtin\": the set compiled into this binary)")
	fs.StringVar(&p.configFile, "config", "", "YAML file merged over the default config (policies/data/config.yaml)")
}

// policyFS is the policy set: --policies DIR, or the bundled policies.
func (p policyFlags) policyFS() fs.FS {
	if p.builtin() {
		return policies.FS
	}
	return os.DirFS(p.policiesDir)
}

func (p policyFlags) builtin() bool {
	return p.policiesDir == "" || p.policiesDir == builtinPolicies
}

// describe names the policy set for the line test and replay print before their results.
func (p policyFlags) describe() string {
	if p.builtin() {
		return "built in (compiled into this binary)"
	}
	return shortPath(p.policiesDir)
}

// defaultToCheckout makes the checkout's policies/ the set when --policies was not given, as a
// policy author editing them expects; outside a checkout the built-in set stays the default.
func (p *policyFlags) defaultToCheckout() {
	if p.policiesDir != "" {
		return
	}
	if cwd, err := os.Getwd(); err == nil {
		p.policiesDir = checkoutPolicies(cwd)
	}
}

// runner returns a scenario runner over the policy set. Its base config is what the function
// would use with the same policy set and config file (config.ForPolicies): the bundled default,
// the policy directory's own data/config.yaml, then --config. A scenario's own config.yaml merges
// last.
func (p policyFlags) runner() (*scenario.Runner, error) {
	if !p.builtin() {
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
