package ledger

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// maxGroup bounds the claims one transaction decides: each writes two documents, and Firestore
// commits at most 500 writes.
const maxGroup = 100

// turns orders the claims of one Store on fleet/limits. Two transactions that both read the
// document and then write it each wait for the other's read lock until one is aborted (the
// emulator locks pessimistically), and in optimistic mode one of them is aborted at commit: so
// one claim transaction of this instance runs at a time. The claims that arrive while it runs
// wait, and the first of them, when its turn comes, takes every claim waiting behind it into one
// transaction (claimGroup): a burst of claims costs a few transactions, not one each. Claims of
// other instances are still ordered by the transactions themselves.
type turns struct {
	mu    sync.Mutex
	busy  bool       // a group is being claimed; no waiting claim while it is false
	queue []*waiting // in order of arrival
}

// waiting is one Claim call, in a group or waiting for its turn.
type waiting struct {
	ctx     context.Context
	target  snapshot.Target
	version int64
	c       Claim
	lim     Limits
	done    chan turnResult // receives the claim's result, or its turn to lead a group
}

// turnResult is the result of a waiting claim, or lead: claim the next group.
type turnResult struct {
	err  error
	lead bool
}

// claimInTurn claims w now if no group is being claimed, else waits for w's group to be claimed.
// A claim whose context ends while it waits leaves the queue with the context's error.
func (s *Store) claimInTurn(w *waiting) error {
	t := &s.turns
	t.mu.Lock()
	if !t.busy {
		t.busy = true
		t.mu.Unlock()
		return s.lead(w)
	}
	t.queue = append(t.queue, w)
	t.mu.Unlock()
	var r turnResult
	select {
	case r = <-w.done:
	case <-w.ctx.Done():
		t.mu.Lock()
		if i := slices.Index(t.queue, w); i >= 0 {
			t.queue = slices.Delete(t.queue, i, i+1)
			t.mu.Unlock()
			return fmt.Errorf("claim %s of %s: %w", w.c.Key(), w.target.Name(), w.ctx.Err())
		}
		t.mu.Unlock()
		r = <-w.done // already taken into a group, or given the turn
	}
	if r.lead {
		return s.lead(w)
	}
	return r.err
}

// lead claims the group w heads: w and the claims queued behind it, up to maxGroup and one per
// service (a second claim on a service waits for the next group, as it would have waited for the
// next transaction). Then it passes the turn to the first claim still queued and answers the
// group.
func (s *Store) lead(w *waiting) error {
	t := &s.turns
	t.mu.Lock()
	group := []*waiting{w}
	in := map[string]bool{serviceID(w.target): true}
	var rest []*waiting
	for _, q := range t.queue {
		if id := serviceID(q.target); len(group) < maxGroup && !in[id] {
			group = append(group, q)
			in[id] = true
		} else {
			rest = append(rest, q)
		}
	}
	t.queue = rest
	t.mu.Unlock()

	errs := s.claimGroupOrFail(group)

	t.mu.Lock()
	if len(t.queue) > 0 {
		next := t.queue[0]
		t.queue = t.queue[1:]
		next.done <- turnResult{lead: true}
	} else {
		t.busy = false
	}
	t.mu.Unlock()
	for i, q := range group[1:] {
		q.done <- turnResult{err: errs[1+i]}
	}
	return errs[0]
}

// claimGroupOrFail is claimGroup, with a panic inside it turned into every claim's error, so the
// turn is still passed on and every caller of the group answered. Nothing was committed: the
// transaction commits only after its function returns.
func (s *Store) claimGroupOrFail(group []*waiting) (errs []error) {
	defer func() {
		if p := recover(); p != nil {
			errs = make([]error, len(group))
			for i, w := range group {
				errs[i] = fmt.Errorf("claim %s of %s: %v", w.c.Key(), w.target.Name(), p)
			}
		}
	}()
	return s.claimGroup(group)
}

// groupContext is the context of a group's transaction: it carries the first claim's values and
// ends when every claim's context has ended, so one caller going away does not fail the others.
// stop releases it.
func groupContext(group []*waiting) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(group[0].ctx))
	var left atomic.Int64
	left.Store(int64(len(group)))
	stops := make([]func() bool, len(group))
	for i, w := range group {
		stops[i] = context.AfterFunc(w.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, s := range stops {
			s()
		}
		cancel()
	}
}
