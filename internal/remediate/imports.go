package remediate

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// ImportBatch bounds the managed services one tick checks for a legacy state annotation the
// ledger has not imported: one batched read of their ledger entries, then a GetService of each
// the ledger does not know. A fleet of 500 services is checked in 20 ticks after a start, and
// then costs a tick nothing until a new service appears.
const ImportBatch = 25

// legacyImports is the part of a ledger that remembers which services' legacy annotation it
// imported or found absent. *ledger.Store is one.
type legacyImports interface {
	Unimported(ctx context.Context, targets []snapshot.Target) ([]snapshot.Target, error)
	MarkImported(ctx context.Context, target snapshot.Target) error
}

// imports is what this process learnt about legacy annotations: the services known imported and
// where the next tick's batch starts, so a batch that keeps failing does not hold back the rest.
type imports struct {
	mu      sync.Mutex
	checked map[snapshot.Target]bool
	next    int
}

// batch is up to ImportBatch of managed not yet known imported and not in skip, starting where
// the last batch stopped.
func (m *imports) batch(managed []snapshot.Target, skip map[snapshot.Target]bool) []snapshot.Target {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := len(managed)
	if n == 0 {
		return nil
	}
	start := m.next % n
	var out []snapshot.Target
	i := 0
	for ; i < n && len(out) < ImportBatch; i++ {
		t := managed[(start+i)%n]
		if !skip[t] && !m.checked[t] {
			out = append(out, t)
		}
	}
	m.next = (start + i) % n
	return out
}

// done remembers that target's legacy annotation needs no more work.
func (m *imports) done(target snapshot.Target) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.checked == nil {
		m.checked = map[snapshot.Target]bool{}
	}
	m.checked[target] = true
}

// managed lists the services runmedic manages: those the config names, in its order, then those
// discovery finds for its "*" rules. A discovery that fails is logged; the services it found
// before are kept.
func (r *Remediator) managed(ctx context.Context, now time.Time) []snapshot.Target {
	var out []snapshot.Target
	seen := map[snapshot.Target]bool{}
	add := func(t snapshot.Target) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, svc := range r.Config.Services {
		if svc.Service != config.AnyService {
			add(snapshot.Target{Project: svc.Project, Location: svc.Location, Service: svc.Service})
		}
	}
	if r.Fleet == nil {
		return out
	}
	members, err := r.Fleet.Services(ctx, now)
	if err != nil {
		r.log(audit.Warning, fmt.Sprintf("tick: %v", err), alert.Alert{})
	}
	for _, m := range members {
		add(m.Target)
	}
	return out
}

// importBatch picks this tick's batch of managed services to check for a legacy annotation (open
// ones are visited anyway) and returns those the ledger has not imported. Those it has are
// remembered and not asked about again.
func (r *Remediator) importBatch(ctx context.Context, li legacyImports, managed []snapshot.Target, open map[snapshot.Target]bool) ([]snapshot.Target, error) {
	batch := r.imports.batch(managed, open)
	if len(batch) == 0 {
		return nil, nil
	}
	todo, err := li.Unimported(ctx, batch)
	if err != nil {
		return nil, err // Firestore unavailable: the tick is retried
	}
	left := map[snapshot.Target]bool{}
	for _, t := range todo {
		left[t] = true
	}
	for _, t := range batch {
		if !left[t] {
			r.imports.done(t)
		}
	}
	return todo, nil
}

// importLegacy checks one service the ledger has not imported: without a legacy annotation it
// is marked so in the ledger; with one, the tick reconciles it, which imports the annotation
// (and acts on the open work it held).
func (r *Remediator) importLegacy(ctx context.Context, li legacyImports, target snapshot.Target) ([]audit.Event, []error) {
	obs, err := r.Observer.Observe(ctx, target)
	if err != nil {
		return nil, []error{classify(err)}
	}
	if obs.StateAnnotation == "" {
		if err := li.MarkImported(ctx, target); err != nil {
			return nil, []error{err}
		}
		r.imports.done(target)
		return nil, nil
	}
	evs, errs := r.tickService(ctx, target)
	for _, err := range errs {
		if err != nil {
			return evs, errs
		}
	}
	r.imports.done(target)
	return evs, errs
}
