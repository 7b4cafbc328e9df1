package remediate_test

import (
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/logs"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/topic"
)

// The adapters satisfy the orchestrator's interfaces, which are declared with its own types:
// remediate itself links none of them (tests/linkage_test.go).
var (
	_ remediate.Observer      = (*cloudrun.Client)(nil)
	_ remediate.Applier       = (*cloudrun.Client)(nil)
	_ remediate.Rollouts      = (*cloudrun.Client)(nil)
	_ remediate.MetricsReader = (*monitoring.Client)(nil)
	_ remediate.LogsReader    = (*logs.Reader)(nil)
	_ remediate.Ledger        = (*ledger.Store)(nil)
	_ remediate.Fleet         = (*discover.Discoverer)(nil)
	_ remediate.Publisher     = (*topic.Publisher)(nil)
)
