// Package policies embeds the config, as the real package does.
package policies

import "embed"

// FS holds data/config.yaml.
//
//go:embed data/config.yaml
var FS embed.FS
