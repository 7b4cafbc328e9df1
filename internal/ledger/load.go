package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Entry is what the ledger holds for one service, as read at one moment (state.Entry).
type Entry = state.Entry

// root is the service document.
type root struct {
	Project     string    `firestore:"project"`
	Location    string    `firestore:"location"`
	Service     string    `firestore:"service"`
	Version     int64     `firestore:"version"`
	Pending     string    `firestore:"pending"` // JSON of a state.Verification, "" when none
	Pin         string    `firestore:"pin"`     // JSON of a state.Pin, "" when none
	Rollout     string    `firestore:"rollout"` // JSON of a state.Rollout, "" when none
	Unpublished []string  `firestore:"unpublished"`
	Open        bool      `firestore:"open"` // watches, a pending verification or a pin: the tick visits it
	Imported    bool      `firestore:"imported"`
	UpdatedAt   time.Time `firestore:"updated_at"`
	ExpireAt    time.Time `firestore:"expire_at"`
}

// item is every other document: its key in clear, its JSON, and for actions the claim.
type item struct {
	Key       string    `firestore:"key"`
	Data      string    `firestore:"data"`
	At        time.Time `firestore:"at"`
	Claim     string    `firestore:"claim,omitempty"`      // the marker written on the service
	Landed    bool      `firestore:"landed"`               // actions: recorded, not just claimed
	Pending   string    `firestore:"pending,omitempty"`    // a claim: the verification it sets when it lands
	Pin       string    `firestore:"pin,omitempty"`        // a claim: the pin it sets when it lands
	Rollout   string    `firestore:"rollout,omitempty"`    // the Cloud Run operation, while rolling out
	ClaimedAt time.Time `firestore:"claimed_at,omitempty"` // a claim: when
	ExpireAt  time.Time `firestore:"expire_at"`
}

// Load reads everything the ledger holds for target. legacy is the service's old state
// annotation: when the ledger has never imported it, its history is imported now, once. An entry
// that cannot be decoded fails the read with ErrUnreadable; an action dated more than FutureSkew
// after now is left out with a warning.
func (s *Store) Load(ctx context.Context, target snapshot.Target, legacy string, now time.Time) (Entry, error) {
	e, rt, exists, err := s.read(ctx, target, now)
	if err != nil || rt.Imported || legacy == "" {
		return e, err
	}
	old, decErr := state.Decode(legacy)
	if decErr != nil {
		e.Warnings = append(e.Warnings, fmt.Sprintf("legacy %s annotation not imported: %v", state.Annotation, decErr))
		old = state.State{Version: state.Version}
	}
	old.Durable = true
	base := e.State
	if !exists {
		base = state.State{Version: state.Version, Durable: true}
	}
	merged := importInto(base, old)
	if err := s.record(ctx, target, base, merged, now, true, nil); err != nil {
		return Entry{}, fmt.Errorf("import %s annotation of %s: %w", state.Annotation, target.Name(), err)
	}
	e.State, e.Imported = merged, true
	e.Version++
	return e, nil
}

// importInto is st with the legacy state's entries that st lacks.
func importInto(st, old state.State) state.State {
	out := st
	for i := len(old.Actions) - 1; i >= 0; i-- {
		a := old.Actions[i]
		if !st.Done(a.Incident, a.Action) {
			out = out.Record(a)
		}
	}
	out = out.MarkPublished(slices.DeleteFunc(slices.Clone(out.Unpublished), func(k string) bool {
		return slices.Contains(old.Unpublished, k) || slices.Contains(st.Unpublished, k)
	})...)
	for i := len(old.Watching) - 1; i >= 0; i-- {
		out = out.Watch(old.Watching[i])
	}
	for i := len(old.Escalations) - 1; i >= 0; i-- {
		e := old.Escalations[i]
		out = out.MarkEscalated(e.Incident, e.Step, e.To, e.At)
	}
	out = out.WithDeliveries(old)
	if out.Pending == nil {
		out.Pending = old.Pending
	}
	if out.Pin == nil {
		out.Pin = old.Pin
	}
	return out
}

// read is Load without the import.
func (s *Store) read(ctx context.Context, target snapshot.Target, now time.Time) (Entry, root, bool, error) {
	ref := s.service(target)
	e := Entry{State: state.State{Version: state.Version, Durable: true}}
	var rt root
	// The service document and its four collections are read at once: one round trip's latency.
	var (
		snap  *firestore.DocumentSnapshot
		err   error
		lists [4][]doc
		errs  [4]error
		wg    sync.WaitGroup
	)
	wg.Go(func() { snap, err = ref.Get(ctx) })
	for i, col := range []string{colActions, colIncidents, colEscalations, colDeliveries} {
		wg.Go(func() { lists[i], errs[i] = s.list(ctx, ref.Collection(col)) })
	}
	wg.Wait()
	exists := err == nil
	switch {
	case status.Code(err) == codes.NotFound:
	case err != nil:
		return Entry{}, root{}, false, fmt.Errorf("read ledger of %s: %w", target.Name(), err)
	default:
		if err := snap.DataTo(&rt); err != nil {
			return Entry{}, root{}, false, unreadable(snap.Ref, err)
		}
	}
	e.Version = rt.Version
	if err := decodeJSON(ref, rt.Pending, &e.State.Pending); err != nil {
		return Entry{}, root{}, false, err
	}
	if err := decodeJSON(ref, rt.Pin, &e.State.Pin); err != nil {
		return Entry{}, root{}, false, err
	}
	if err := decodeJSON(ref, rt.Rollout, &e.State.Rollout); err != nil {
		return Entry{}, root{}, false, err
	}
	e.State.Unpublished = rt.Unpublished

	err = each(lists[0], errs[0], func(ref *firestore.DocumentRef, it item) error {
		var a snapshot.Action
		if err := decodeJSON(ref, it.Data, &a); err != nil {
			return err
		}
		if a.At.After(now.Add(FutureSkew)) {
			e.Warnings = append(e.Warnings, fmt.Sprintf("action %s of %s is dated %s, in the future: ignored", state.Key(a.Incident, a.Action), target.Name(), a.At.Format(time.RFC3339)))
			return nil
		}
		if !it.Landed {
			c := Claim{ID: it.Claim, Action: a, At: it.ClaimedAt}
			if err := decodeJSON(ref, it.Pending, &c.Pending); err != nil {
				return err
			}
			if err := decodeJSON(ref, it.Pin, &c.Pin); err != nil {
				return err
			}
			e.Claims = append(e.Claims, c)
			return nil
		}
		e.State.Actions = append(e.State.Actions, a)
		return nil
	})
	if err != nil {
		return Entry{}, root{}, false, err
	}
	err = each(lists[1], errs[1], func(ref *firestore.DocumentRef, it item) error {
		var w state.Watch
		if err := decodeJSON(ref, it.Data, &w); err != nil {
			return err
		}
		e.State.Watching = append(e.State.Watching, w)
		return nil
	})
	if err != nil {
		return Entry{}, root{}, false, err
	}
	err = each(lists[2], errs[2], func(ref *firestore.DocumentRef, it item) error {
		var x state.Escalation
		if err := decodeJSON(ref, it.Data, &x); err != nil {
			return err
		}
		e.State.Escalations = append(e.State.Escalations, x)
		return nil
	})
	if err != nil {
		return Entry{}, root{}, false, err
	}
	err = each(lists[3], errs[3], func(ref *firestore.DocumentRef, it item) error {
		var d state.Delivery
		if err := decodeJSON(ref, it.Data, &d); err != nil {
			return err
		}
		e.State.Deliveries = append(e.State.Deliveries, d)
		return nil
	})
	if err != nil {
		return Entry{}, root{}, false, err
	}
	newestFirst(&e.State)
	return e, rt, exists, nil
}

// newestFirst restores the State's order: actions, escalations and deliveries newest first,
// watches by the incident's start, newest first. Ties keep a stable order by key.
func newestFirst(st *state.State) {
	slices.SortStableFunc(st.Actions, func(a, b snapshot.Action) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmpString(state.Key(a.Incident, a.Action), state.Key(b.Incident, b.Action))
	})
	slices.SortStableFunc(st.Escalations, func(a, b state.Escalation) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmpString(a.Incident+a.Step, b.Incident+b.Step)
	})
	slices.SortStableFunc(st.Deliveries, func(a, b state.Delivery) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmpString(a.Incident+a.Key, b.Incident+b.Key)
	})
	slices.SortStableFunc(st.Watching, func(a, b state.Watch) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmpString(a.Incident, b.Incident)
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// doc is one decoded document of a collection.
type doc struct {
	ref *firestore.DocumentRef
	it  item
}

// list reads and decodes every document of col.
func (s *Store) list(ctx context.Context, col *firestore.CollectionRef) ([]doc, error) {
	it := col.Documents(ctx)
	defer it.Stop()
	var out []doc
	for {
		d, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read ledger %s: %w", col.Path, err)
		}
		var x item
		if err := d.DataTo(&x); err != nil {
			return nil, unreadable(d.Ref, err)
		}
		out = append(out, doc{ref: d.Ref, it: x})
	}
}

// each calls f with every document of a list, or returns the list's error.
func each(docs []doc, listErr error, f func(*firestore.DocumentRef, item) error) error {
	if listErr != nil {
		return listErr
	}
	for _, d := range docs {
		if err := f(d.ref, d.it); err != nil {
			return err
		}
	}
	return nil
}

// decodeJSON decodes v into out; "" leaves out as it is.
func decodeJSON(ref *firestore.DocumentRef, v string, out any) error {
	if v == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(v), out); err != nil {
		return unreadable(ref, err)
	}
	return nil
}

func unreadable(ref *firestore.DocumentRef, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnreadable, ref.Path, err)
}
