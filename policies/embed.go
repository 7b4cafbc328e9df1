// Package policies holds runmedic's bundled Rego policies, their tests and the default config.
// They are compiled into the binary so the function and the CLI decide with exactly the same
// rules; --policies and --config replace them at run time.
package policies

import "embed"

// FS holds every policy (*.rego, tests included so `runmedic test` can run them) and
// data/config.yaml, at the same paths as in this directory.
//
//go:embed *.rego data/config.yaml
var FS embed.FS
