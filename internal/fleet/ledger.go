package fleet

import (
	"context"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Peeker reads runmedic's ledger without writing to it. *ledger.Store is one.
type Peeker interface {
	Peek(ctx context.Context, target snapshot.Target, legacy string, now time.Time) (ledger.Entry, error)
}

// Ledger reads the Record from runmedic's ledger in Firestore, where the function keeps it. It
// never writes: a legacy state annotation the ledger has not imported yet is read beside it, as
// the function would import it, and claims are left for the function to settle.
type Ledger struct {
	Store Peeker
	// Now dates the read (actions dated in the future are left out); nil is the clock.
	Now func() time.Time
}

// Record reads target's entry in the ledger.
func (l Ledger) Record(ctx context.Context, target snapshot.Target, live cloudrun.Observation) (Record, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	e, err := l.Store.Peek(ctx, target, live.StateAnnotation, now().UTC())
	if err != nil {
		return Record{}, fmt.Errorf("runmedic's record of %s in the ledger: %w", target.Name(), err)
	}
	return fromState(e.State), nil
}
