package ledger

import (
	"context"
	"encoding/json"
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
//
// Claims of one Store that wait for their turn on fleet/limits are committed together (see
// turns): the result is the one this claim would have had alone, in its order of arrival.
func (s *Store) Claim(ctx context.Context, target snapshot.Target, version int64, c Claim, lim Limits) error {
	return s.claimInTurn(&waiting{ctx: ctx, target: target, version: version, c: c, lim: lim, done: make(chan turnResult, 1)})
}

// admit decides one claim of a group against what the group's transaction read (the service
// document and the claim's action document) and against f, the fleet document as the claims
// before it in the group left it. An admitted claim is added to f.
func admit(w *waiting, svc, act *firestore.DocumentSnapshot, f *fleetDoc) error {
	target, c, lim, now := w.target, w.c, w.lim, w.c.At
	var rt root
	if svc.Exists() {
		if err := svc.DataTo(&rt); err != nil {
			return unreadable(svc.Ref, err)
		}
	}
	if rt.Version != w.version {
		return fmt.Errorf("%w: version %d, decided at %d", ErrStale, rt.Version, w.version)
	}
	if act.Exists() {
		return fmt.Errorf("%w: %s of %s", ErrClaimed, c.Key(), target.Name())
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
	return nil
}

// claimGroup runs one transaction for group: it reads fleet/limits and every claim's service
// and action documents, admits each claim in order, and writes the admitted claims and the fleet
// document. A retry (contention, ABORTED) decides the whole group again from fresh reads. The
// services of a group are distinct. It returns each claim's result.
func (s *Store) claimGroup(group []*waiting) []error {
	errs := make([]error, len(group))
	ctx, stop := groupContext(group)
	defer stop()
	fleet := s.fleet()
	refs := []*firestore.DocumentRef{fleet}
	for _, w := range group {
		svc := s.service(w.target)
		refs = append(refs, svc, svc.Collection(colActions).Doc(entryID(w.c.Key())))
	}
	// Each claim's document is encoded once, before the transaction: one that cannot be fails
	// alone, as its own transaction would have.
	items := make([]item, len(group))
	unencodable := make([]error, len(group))
	for i, w := range group {
		items[i], unencodable[i] = claimItem(w.c)
		if unencodable[i] != nil {
			unencodable[i] = fmt.Errorf("claim %s of %s: %w", w.c.Key(), w.target.Name(), unencodable[i])
		}
	}
	admitted := 0
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		copy(errs, unencodable)
		admitted = 0
		docs, err := tx.GetAll(refs)
		if err != nil {
			return err
		}
		var f fleetDoc
		if docs[0].Exists() {
			if err := docs[0].DataTo(&f); err != nil {
				return unreadable(fleet, err)
			}
		}
		for i, w := range group {
			if errs[i] != nil {
				continue
			}
			if err := w.ctx.Err(); err != nil {
				errs[i] = fmt.Errorf("claim %s of %s: %w", w.c.Key(), w.target.Name(), err)
				continue
			}
			if errs[i] = admit(w, docs[1+2*i], docs[2+2*i], &f); errs[i] != nil {
				continue
			}
			admitted++
			now := w.c.At
			if err := tx.Create(refs[2+2*i], items[i]); err != nil {
				return err
			}
			if err := tx.Set(refs[1+2*i], map[string]any{
				"project": w.target.Project, "location": w.target.Location, "service": w.target.Service,
				"version": w.version + 1, "open": true, "updated_at": now, "expire_at": expireAt(now),
			}, firestore.MergeAll); err != nil {
				return err
			}
		}
		if admitted == 0 {
			return nil // nothing to write: the commit only ends the transaction
		}
		return tx.Set(fleet, f)
	}, fleetAttempts)
	switch {
	case err == nil:
		return errs
	case status.Code(err) == codes.AlreadyExists && admitted > 1:
		// Another instance created one of the action documents after this transaction read it
		// missing: which one is not said, so each claim is decided again on its own.
		for i, w := range group {
			errs[i] = s.claimGroup([]*waiting{w})[0]
		}
		return errs
	}
	for i, w := range group {
		switch {
		case unencodable[i] != nil:
			errs[i] = unencodable[i]
		case errors.Is(err, ErrUnreadable):
			errs[i] = err
		case status.Code(err) == codes.AlreadyExists && errs[i] == nil:
			errs[i] = fmt.Errorf("%w: %s of %s", ErrClaimed, w.c.Key(), w.target.Name())
		case status.Code(err) == codes.AlreadyExists:
			// decided (and refused) from the transaction's reads
		default:
			errs[i] = fmt.Errorf("claim %s of %s: %w", w.c.Key(), w.target.Name(), err)
		}
	}
	return errs
}

// claimItem is the action document a claim creates, or why it cannot be written.
func claimItem(c Claim) (item, error) {
	it := item{Key: c.Key(), At: c.Action.At.UTC(), Claim: c.ID, ClaimedAt: c.At, ExpireAt: expireAt(c.At)}
	var err error
	if it.Data, err = jsonOf(c.Action); err != nil {
		return item{}, fmt.Errorf("encode action: %w", err)
	}
	if c.Pending != nil {
		if it.Pending, err = jsonOf(c.Pending); err != nil {
			return item{}, fmt.Errorf("encode verification: %w", err)
		}
	}
	if c.Pin != nil {
		if it.Pin, err = jsonOf(c.Pin); err != nil {
			return item{}, fmt.Errorf("encode pin: %w", err)
		}
	}
	return it, nil
}

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
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
