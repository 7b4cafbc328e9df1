package remediate

import (
	"context"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Fleet finds, at a bounded rate, the services a config rule with service "*" admits and that
// opted in with their mode label, so a verify tick can walk them beside the services the config
// names. *discover.Discoverer is one.
type Fleet interface {
	Services(ctx context.Context, now time.Time) ([]snapshot.Member, error)
}
