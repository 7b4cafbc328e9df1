package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Record writes what changed from before (the State as Load returned it) to after, in one
// transaction: new and changed actions (a claimed action is marked landed), watches started and
// ended, escalation steps and deliveries sent, and the service's pending verification, pin and
// unpublished events. Nothing is written when nothing changed. Entries are never dropped to make
// room; they expire by TTL.
func (s *Store) Record(ctx context.Context, target snapshot.Target, before, after state.State) error {
	return s.record(ctx, target, before, after, s.now().UTC(), false, nil)
}

// write is one document write of a Record.
type write struct {
	ref    *firestore.DocumentRef
	data   any // nil deletes
	landed bool
}

// record computes and commits the writes; imported marks the legacy annotation imported.
// extra writes are committed in the same transaction.
func (s *Store) record(ctx context.Context, target snapshot.Target, before, after state.State, now time.Time, imported bool, extra []write) error {
	svc := s.service(target)
	exp := expireAt(now)
	writes := extra
	landed := false

	have := map[string]string{}
	for _, a := range before.Actions {
		k := state.Key(a.Incident, a.Action)
		if _, ok := have[k]; !ok {
			have[k] = mustJSON(a)
		}
	}
	seen := map[string]bool{}
	for _, a := range after.Actions {
		k := state.Key(a.Incident, a.Action)
		if seen[k] {
			continue
		}
		seen[k] = true
		data := mustJSON(a)
		old, ok := have[k]
		if ok && old == data {
			continue
		}
		landed = landed || !ok
		writes = append(writes, write{ref: svc.Collection(colActions).Doc(entryID(k)), data: item{Key: k, Data: data, At: a.At.UTC(), Landed: true, ExpireAt: exp}, landed: true})
	}

	watched := map[string]string{}
	for _, w := range before.Watching {
		watched[w.Incident] = mustJSON(w)
	}
	watching := map[string]bool{}
	for _, w := range after.Watching {
		watching[w.Incident] = true
		data := mustJSON(bounded(w))
		if watched[w.Incident] == data {
			continue
		}
		writes = append(writes, write{ref: svc.Collection(colIncidents).Doc(entryID(w.Incident)), data: item{Key: w.Incident, Data: data, At: now, ExpireAt: exp}})
	}
	for incident := range watched {
		if !watching[incident] {
			writes = append(writes, write{ref: svc.Collection(colIncidents).Doc(entryID(incident))})
		}
	}

	sent := map[string]bool{}
	for _, e := range before.Escalations {
		sent[e.Incident+"|"+e.Step] = true
	}
	for _, e := range after.Escalations {
		k := e.Incident + "|" + e.Step
		if sent[k] {
			continue
		}
		sent[k] = true
		writes = append(writes, write{ref: svc.Collection(colEscalations).Doc(entryID(k)), data: item{Key: k, Data: mustJSON(e), At: e.At.UTC(), ExpireAt: exp}})
	}
	delivered := map[string]string{}
	for _, d := range before.Deliveries {
		delivered[d.Incident+"|"+d.Key] = mustJSON(d)
	}
	for _, d := range after.Deliveries {
		k := d.Incident + "|" + d.Key
		data := mustJSON(d)
		if delivered[k] == data {
			continue
		}
		delivered[k] = data
		writes = append(writes, write{ref: svc.Collection(colDeliveries).Doc(entryID(k)), data: item{Key: k, Data: data, At: d.At.UTC(), ExpireAt: exp}})
	}

	pending, pin, rollout := optJSON(after.Pending), optJSON(after.Pin), optJSON(after.Rollout)
	rootChanged := imported || pending != optJSON(before.Pending) || pin != optJSON(before.Pin) || rollout != optJSON(before.Rollout) ||
		fmt.Sprint(after.Unpublished) != fmt.Sprint(before.Unpublished)
	if len(writes) == 0 && !rootChanged {
		return nil
	}
	rootData := map[string]any{
		"project": target.Project, "location": target.Location, "service": target.Service,
		"version": firestore.Increment(1), "pending": pending, "pin": pin, "rollout": rollout,
		"unpublished": nonNil(after.Unpublished),
		"open":        len(after.Watching) > 0 || after.Pending != nil || after.Pin != nil || after.Rollout != nil,
		"updated_at":  now, "expire_at": exp,
	}
	if imported {
		rootData["imported"] = true
	}
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		for _, w := range writes {
			var err error
			if w.data == nil {
				err = tx.Delete(w.ref)
			} else {
				err = tx.Set(w.ref, w.data)
			}
			if err != nil {
				return err
			}
		}
		if (landed || before.Rollout != nil) && after.Rollout == nil {
			// A recorded change is no longer a rollout in progress, unless Cloud Run is still
			// rolling it out (after.Rollout), until a later record reads that it is done.
			if err := tx.Set(s.fleet(), map[string]any{"rollouts": map[string]any{serviceID(target): firestore.Delete}}, firestore.MergeAll); err != nil {
				return err
			}
		}
		return tx.Set(svc, rootData, firestore.MergeAll)
	}, fleetAttempts)
	if err != nil {
		return fmt.Errorf("record ledger of %s: %w", target.Name(), err)
	}
	return nil
}

// Watch field bounds: what an incident can make the ledger hold.
const (
	maxIncidentID = 256
	maxURL        = 2048
	maxShort      = 256 // severity, policy, label keys and values
	maxLabels     = 64
)

// bounded is w with every field cut to its bound and at most maxLabels labels (the first by key
// order are kept, so the same incident always keeps the same ones).
func bounded(w state.Watch) state.Watch {
	w.Incident = cut(w.Incident, maxIncidentID)
	w.URL = cut(w.URL, maxURL)
	w.Severity = cut(w.Severity, maxShort)
	w.Policy = cut(w.Policy, maxShort)
	if len(w.Labels) == 0 {
		return w
	}
	keys := make([]string, 0, len(w.Labels))
	for k := range w.Labels {
		keys = append(keys, k)
	}
	sortStrings(keys)
	labels := make(map[string]string, min(len(keys), maxLabels))
	for _, k := range keys[:min(len(keys), maxLabels)] {
		labels[cut(k, maxShort)] = cut(w.Labels[k], maxShort)
	}
	w.Labels = labels
	return w
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value here is plain data (strings, numbers, times, slices of them).
		panic(fmt.Sprintf("ledger: encode %T: %v", v, err))
	}
	return string(b)
}

// optJSON is the JSON of a pointer, "" for nil.
func optJSON[T any](p *T) string {
	if p == nil {
		return ""
	}
	return mustJSON(p)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
