package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// errReadOnly: a read-only command reached for a write to the ledger.
var errReadOnly = errors.New("this command only reads the ledger")

// peekLedger is the ledger as `plan --live` and `snapshot` see it: read through Peek, so a
// command that only shows something never imports a legacy annotation, settles a claim another
// process holds, or records anything. A claim in flight is reported, not settled.
type peekLedger struct{ store *ledger.Store }

func (p peekLedger) Load(ctx context.Context, target snapshot.Target, legacy string, now time.Time) (ledger.Entry, error) {
	e, err := p.store.Peek(ctx, target, legacy, now)
	for _, c := range e.Claims {
		e.Warnings = append(e.Warnings, fmt.Sprintf("%s: %s for incident %s was claimed at %s and is not recorded yet; this view does not include it",
			target.Name(), c.Action.Action, c.Action.Incident, c.At.UTC().Format(time.RFC3339)))
	}
	e.Claims = nil
	return e, err
}

func (peekLedger) Claim(context.Context, snapshot.Target, int64, ledger.Claim, ledger.Limits) error {
	return errReadOnly
}

func (peekLedger) Release(context.Context, snapshot.Target, ledger.Claim) error { return errReadOnly }

func (peekLedger) Record(context.Context, snapshot.Target, state.State, state.State) error {
	return errReadOnly
}

func (p peekLedger) Open(ctx context.Context) ([]snapshot.Target, error) { return p.store.Open(ctx) }
