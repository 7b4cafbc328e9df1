package ledger

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Peek reads what the ledger holds for target as Load would give it, and writes nothing: a
// legacy annotation the ledger has not imported yet is merged into the entry read, not stored,
// and claims are returned as they stand, not settled. The views read through it.
func (s *Store) Peek(ctx context.Context, target snapshot.Target, legacy string, now time.Time) (Entry, error) {
	e, rt, exists, err := s.read(ctx, target, now)
	if err != nil || rt.Imported || legacy == "" {
		return e, err
	}
	old, decErr := state.Decode(legacy)
	if decErr != nil {
		e.Warnings = append(e.Warnings, fmt.Sprintf("legacy %s annotation not read: %v", state.Annotation, decErr))
		return e, nil
	}
	old.Durable = true
	base := e.State
	if !exists {
		base = state.State{Version: state.Version, Durable: true}
	}
	e.State = importInto(base, old)
	return e, nil
}

// Unimported returns those of targets whose legacy annotation the ledger has not yet imported
// or found absent, in their order, reading only their service documents (one batched read).
func (s *Store) Unimported(ctx context.Context, targets []snapshot.Target) ([]snapshot.Target, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	refs := make([]*firestore.DocumentRef, len(targets))
	for i, t := range targets {
		refs[i] = s.service(t)
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("read which services the ledger imported: %w", err)
	}
	var out []snapshot.Target
	for i, snap := range snaps {
		if !snap.Exists() {
			out = append(out, targets[i])
			continue
		}
		if v, err := snap.DataAt("imported"); err != nil || v != true {
			out = append(out, targets[i])
		}
	}
	return out, nil
}

// MarkImported remembers that target's legacy annotation needs no import (it has none, or it
// was imported), so no later process checks the service again. It changes nothing else of the
// service's entry and does not count as a write to its history (the version stays).
func (s *Store) MarkImported(ctx context.Context, target snapshot.Target) error {
	now := s.now().UTC()
	_, err := s.service(target).Set(ctx, map[string]any{
		"project": target.Project, "location": target.Location, "service": target.Service,
		"imported": true, "expire_at": expireAt(now),
	}, firestore.MergeAll)
	if err != nil {
		return fmt.Errorf("mark %s imported in the ledger: %w", target.Name(), err)
	}
	return nil
}
