package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Claim is one (service, incident, step) taken before its UpdateService: what it will record
// when it lands. The orchestrator's type, so it declares its Ledger without linking this package.
type Claim = state.Claim

// NewClaim names a claim of action on target at now, as state.NewClaim does.
func NewClaim(target snapshot.Target, action snapshot.Action, pending *state.Verification, pin *state.Pin, now time.Time) Claim {
	return state.NewClaim(target, action, pending, pin, now)
}

// Limits are the fleet-wide limits a claim is checked against; 0 is no limit.
type Limits = state.Limits

// fleetAttempts bounds the tries of a transaction that writes fleet/limits. Every change in the
// fleet claims and records through that one document, so when many services change at once their
// transactions queue on it and the emulator, like Firestore, aborts the ones that wait too long;
// each try starts again from a fresh read, so retrying is safe.
var fleetAttempts = firestore.MaxAttempts(25)

// fleetDoc is fleet/limits: the changes of the last hour and the rollouts in progress, by
// service. It holds at most the limits' worth of entries.
type fleetDoc struct {
	Changes  []time.Time          `firestore:"changes"`
	Rollouts map[string]time.Time `firestore:"rollouts"`
}

// Claim takes (target, incident, step) in one transaction, if the ledger is still at version (the
// version the decision's cooldown and budget were judged from: any write since fails the claim
// with ErrStale), the step was never claimed (ErrClaimed), and the fleet limits allow one more
// change and rollout (ErrFleetLimit). Contention is retried inside the transaction.
func (s *Store) Claim(ctx context.Context, target snapshot.Target, version int64, c Claim, lim Limits) error {
	svc := s.service(target)
	act := svc.Collection(colActions).Doc(entryID(c.Key()))
	now := c.At
	s.claims.Lock()
	defer s.claims.Unlock()
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		docs, err := tx.GetAll([]*firestore.DocumentRef{svc, act, s.fleet()})
		if err != nil {
			return err
		}
		var rt root
		if docs[0].Exists() {
			if err := docs[0].DataTo(&rt); err != nil {
				return unreadable(svc, err)
			}
		}
		if rt.Version != version {
			return fmt.Errorf("%w: version %d, decided at %d", ErrStale, rt.Version, version)
		}
		if docs[1].Exists() {
			return fmt.Errorf("%w: %s of %s", ErrClaimed, c.Key(), target.Name())
		}
		var f fleetDoc
		if docs[2].Exists() {
			if err := docs[2].DataTo(&f); err != nil {
				return unreadable(s.fleet(), err)
			}
		}
		f.Changes = slices.DeleteFunc(f.Changes, func(t time.Time) bool { return !t.After(now.Add(-time.Hour)) })
		for k, t := range f.Rollouts {
			if !t.After(now.Add(-RolloutLease)) {
				delete(f.Rollouts, k)
			}
		}
		if lim.MaxChangesPerHour > 0 && len(f.Changes) >= lim.MaxChangesPerHour {
			return fmt.Errorf("%w: %d changes in the last hour, fleet.max_changes_per_hour is %d", ErrFleetLimit, len(f.Changes), lim.MaxChangesPerHour)
		}
		if _, rolling := f.Rollouts[serviceID(target)]; !rolling && lim.MaxConcurrentRollouts > 0 && len(f.Rollouts) >= lim.MaxConcurrentRollouts {
			return fmt.Errorf("%w: %d rollouts in progress, fleet.max_concurrent_rollouts is %d", ErrFleetLimit, len(f.Rollouts), lim.MaxConcurrentRollouts)
		}
		f.Changes = append(f.Changes, now)
		sort.Slice(f.Changes, func(i, j int) bool { return f.Changes[i].Before(f.Changes[j]) })
		if f.Rollouts == nil {
			f.Rollouts = map[string]time.Time{}
		}
		f.Rollouts[serviceID(target)] = now

		if err := tx.Create(act, item{
			Key: c.Key(), Data: mustJSON(c.Action), At: c.Action.At.UTC(), Claim: c.ID, ClaimedAt: now,
			Pending: optJSON(c.Pending), Pin: optJSON(c.Pin), ExpireAt: expireAt(now),
		}); err != nil {
			return err
		}
		if err := tx.Set(s.fleet(), f); err != nil {
			return err
		}
		return tx.Set(svc, map[string]any{
			"project": target.Project, "location": target.Location, "service": target.Service,
			"version": version + 1, "open": true, "updated_at": now, "expire_at": expireAt(now),
		}, firestore.MergeAll)
	}, fleetAttempts)
	if err != nil {
		if errors.Is(err, ErrStale) || errors.Is(err, ErrClaimed) || errors.Is(err, ErrFleetLimit) || errors.Is(err, ErrUnreadable) {
			return err
		}
		if status.Code(err) == codes.AlreadyExists {
			return fmt.Errorf("%w: %s of %s", ErrClaimed, c.Key(), target.Name())
		}
		return fmt.Errorf("claim %s of %s: %w", c.Key(), target.Name(), err)
	}
	return nil
}

// Release gives a claim back: it never landed (the update was refused, or the lease ran out
// with no marker on the service). A claim already recorded is left alone.
func (s *Store) Release(ctx context.Context, target snapshot.Target, c Claim) error {
	svc := s.service(target)
	act := svc.Collection(colActions).Doc(entryID(c.Key()))
	now := s.now().UTC()
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		doc, err := tx.Get(act)
		if status.Code(err) == codes.NotFound {
			return nil
		}
		if err != nil {
			return err
		}
		var it item
		if err := doc.DataTo(&it); err != nil {
			return unreadable(act, err)
		}
		if it.Landed || it.Claim != c.ID {
			return nil
		}
		if err := tx.Delete(act); err != nil {
			return err
		}
		if err := tx.Set(s.fleet(), map[string]any{"rollouts": map[string]any{serviceID(target): firestore.Delete}}, firestore.MergeAll); err != nil {
			return err
		}
		return tx.Set(svc, map[string]any{"version": firestore.Increment(1), "updated_at": now}, firestore.MergeAll)
	})
	if err != nil {
		return fmt.Errorf("release claim %s of %s: %w", c.Key(), target.Name(), err)
	}
	return nil
}

// Open lists the services with open work: watched incidents, a pending verification, a pin, or
// a claim not yet recorded. The tick visits these.
func (s *Store) Open(ctx context.Context) ([]snapshot.Target, error) {
	it := s.client.Collection(colServices).Where("open", "==", true).Documents(ctx)
	defer it.Stop()
	var out []snapshot.Target
	for {
		doc, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list open work in the ledger: %w", err)
		}
		var rt root
		if err := doc.DataTo(&rt); err != nil {
			return nil, unreadable(doc.Ref, err)
		}
		out = append(out, snapshot.Target{Project: rt.Project, Location: rt.Location, Service: rt.Service})
	}
}

func sortStrings(s []string) { sort.Strings(s) }
