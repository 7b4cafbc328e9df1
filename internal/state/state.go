// Package state is runmedic's memory of what it did to one Cloud Run service. It lives on the
// service itself, in the single annotation Annotation, written in the same UpdateService call as
// the change it records: the change and its record land together or not at all.
//
// A State is a value. Every method returns a new State and never mutates the slices of its
// receiver, so a State read at observe time can be shared freely while a new one is built.
//
// Invariants kept by every method, and restored by Decode and Encode:
//   - Actions are newest first and at most MaxActions long;
//   - Escalations are newest first, at most MaxEscalations long, one per (incident, step);
//   - Deliveries are newest first, at most MaxDeliveries long, one per (incident, key);
//   - Unpublished holds only keys of recorded actions, each once;
//   - the encoded value is at most MaxBytes long.
package state

import (
	"errors"
	"slices"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Annotation is the service annotation holding the encoded State.
const Annotation = "runmedic.aiprod.ai/state"

// Version is the only state format version this code reads and writes.
const Version = 1

// MaxActions bounds the action history kept on the service; older actions are dropped. The
// budget (max_actions_per_day) and cooldown only look back a day, far fewer than this.
const MaxActions = 20

// MaxEscalations bounds the escalation steps remembered; the oldest are dropped first. It holds the
// whole table for every watched incident (MaxWatching × a few rows), so none is sent twice.
const MaxEscalations = 64

// MaxBytes bounds the encoded annotation. Cloud Run (like Kubernetes) limits the total size of a
// resource's annotations; 16 KiB leaves ample room for everyone else's.
const MaxBytes = 16 << 10

// Action outcomes, as recorded in snapshot.Action.Outcome.
const (
	OutcomeApplied  = snapshot.OutcomeApplied
	OutcomeVerified = snapshot.OutcomeVerified
	OutcomeFailed   = snapshot.OutcomeFailed
	OutcomeReverted = snapshot.OutcomeReverted
)

// ErrUnreadable marks a state annotation that is corrupt or written by another format version.
// Decode returns it together with an empty State: the caller logs a warning and carries on as if
// runmedic had never touched the service.
var ErrUnreadable = errors.New("state annotation unreadable")

// State is what the annotation holds.
type State struct {
	Version     int               `json:"v"`
	Actions     []snapshot.Action `json:"actions"`               // newest first, at most MaxActions
	Pending     *Verification     `json:"pending,omitempty"`     // the change awaiting verification
	Escalations []Escalation      `json:"escalations,omitempty"` // steps already sent, newest first
	Pin         *Pin              `json:"pin,omitempty"`         // traffic runmedic pinned
	Rollout     *Rollout          `json:"rollout,omitempty"`     // a change issued, its rollout not yet read
	// Watching are the open incidents runmedic acted on or escalated, newest first, at most
	// MaxWatching: verify ticks verify and escalate them without waiting for a notification.
	Watching []Watch `json:"watching,omitempty"`
	// Unpublished are the Keys of recorded actions whose audit event is not yet confirmed
	// published. Record adds the key in the same write as the change; the next run publishes
	// again and clears it with MarkPublished, so a crash between the write and the publish
	// loses no event.
	Unpublished []string `json:"unpublished,omitempty"`
	// Deliveries are the messages already handed to people's sinks (PagerDuty, Slack, Chat),
	// newest first, at most MaxDeliveries, one per (incident, key).
	Deliveries []Delivery `json:"deliveries,omitempty"`
	// Durable is true when the State is held in the ledger rather than in the annotation: the
	// ledger keeps one entry per thing and expires old ones by TTL, so nothing is dropped to
	// make room (MaxActions, MaxWatching, MaxEscalations and MaxDeliveries bound only the
	// annotation).
	Durable bool `json:"-"`
}

// Verification is a change awaiting its check: at VerifyAt, memory must be below verify_below
// and the 5xx rate no worse than Baseline, else the change failed (and Changes say how to undo it).
type Verification struct {
	Incident  string            `json:"incident"`
	Action    string            `json:"action"`
	AppliedAt time.Time         `json:"applied_at"`
	VerifyAt  time.Time         `json:"verify_at"` // AppliedAt + verify_after
	Baseline  Baseline          `json:"baseline"`
	Revision  string            `json:"revision,omitempty"` // the revision the change created or routed to
	Changes   []snapshot.Change `json:"changes"`            // Before is what a revert restores
}

// Baseline is the service's health just before a change, to judge the change against.
type Baseline struct {
	Memory    float64 `json:"memory"`     // p99 memory utilization, 0..1
	ErrorRate float64 `json:"error_rate"` // 5xx responses / all responses, 0..1
}

// Escalation is one notification already sent for an incident. Step names it as StepKey does
// (recipient and time from the incident's start), so the same row is never sent twice.
type Escalation struct {
	Incident string    `json:"incident"`
	Step     string    `json:"step"`
	To       string    `json:"to"`
	At       time.Time `json:"at"`
}

// MaxWatching bounds the open incidents remembered for verify ticks.
const MaxWatching = 10

// Watch is an open incident as a verify tick needs it to re-run the runbook.
type Watch struct {
	Incident  string    `json:"incident"`
	StartedAt time.Time `json:"started_at"`
	Severity  string    `json:"severity,omitempty"`
	URL       string    `json:"url,omitempty"`
	Policy    string    `json:"policy,omitempty"` // the alert policy's name, which snoozes are matched on
	// Labels are the incident's labels as first received: a tick re-runs the incident with them,
	// so a label that held it back on arrival (remediation=manual) still holds it back.
	Labels map[string]string `json:"labels,omitempty"`
}

// Watch remembers an open incident; watching one already remembered changes nothing.
func (s State) Watch(w Watch) State {
	out := s.clone()
	for _, have := range out.Watching {
		if have.Incident == w.Incident {
			return out
		}
	}
	out.Watching = append([]Watch{w}, out.Watching...)
	if len(out.Watching) > MaxWatching && !out.Durable {
		out.Watching = out.Watching[:MaxWatching]
	}
	return out
}

// Unwatch forgets an incident: it closed, or its remedy was verified.
func (s State) Unwatch(incident string) State {
	out := s.clone()
	out.Watching = slices.DeleteFunc(out.Watching, func(w Watch) bool { return w.Incident == incident })
	return out
}

// StepKey names one escalation step: who is told, and when after the incident's start ("5m").
func StepKey(to, after string) string { return to + "@" + after }

// Pin records that runmedic routed all traffic to one revision (a rollback), so a later run knows
// the pin is its own and builds any new revision from the pinned one.
type Pin struct {
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
	Incident string    `json:"incident"`
}

// Rollout is a change issued without waiting for Cloud Run to roll it out: the next run reads
// its operation and records the revision, or the failure.
type Rollout struct {
	Incident  string    `json:"incident"`
	Action    string    `json:"action"`
	Operation string    `json:"operation"`
	Before    string    `json:"before,omitempty"` // the latest created revision before the change
	Since     time.Time `json:"since"`
}

// Key names one step of one incident, the unit of "exactly once": a redelivered or re-notified
// incident finds its step done and does not act again.
func Key(incident, action string) string { return incident + "/" + action }

// Done reports whether action was already taken for incident, whatever its outcome.
func (s State) Done(incident, action string) bool {
	_, ok := s.Find(incident, action)
	return ok
}

// Find returns the recorded action for (incident, action), newest if several.
func (s State) Find(incident, action string) (snapshot.Action, bool) {
	for _, a := range s.Actions {
		if a.Incident == incident && a.Action == action {
			return cloneAction(a), true
		}
	}
	return snapshot.Action{}, false
}

// Record prepends a, trims the history to MaxActions and marks a unpublished.
func (s State) Record(a snapshot.Action) State {
	out := s.clone()
	out.Actions = append([]snapshot.Action{cloneAction(a)}, out.Actions...)
	k := Key(a.Incident, a.Action)
	if !slices.Contains(out.Unpublished, k) {
		out.Unpublished = append(out.Unpublished, k)
	}
	return out.normalize()
}

// Resolve sets the outcome of the pending change's action and clears Pending. Without a pending
// change it returns s unchanged.
func (s State) Resolve(outcome snapshot.Outcome) State {
	out := s.clone()
	if out.Pending == nil {
		return out
	}
	p := out.Pending
	for i, a := range out.Actions {
		if a.Incident == p.Incident && a.Action == p.Action && a.At.Equal(p.AppliedAt) {
			out.Actions[i].Outcome = outcome
			break
		}
	}
	out.Pending = nil
	return out
}

// WithRevision records the revision that the newest (incident, action) created, on the action
// and on its pending verification: Cloud Run names it only once the change is applied.
func (s State) WithRevision(incident, action, revision string) State {
	out := s.clone()
	for i, a := range out.Actions {
		if a.Incident == incident && a.Action == action {
			out.Actions[i].Revision = revision
			break
		}
	}
	if p := out.Pending; p != nil && p.Incident == incident && p.Action == action && p.Revision == "" {
		p.Revision = revision
	}
	return out
}

// MarkPublished removes keys from Unpublished once their audit events are published.
func (s State) MarkPublished(keys ...string) State {
	out := s.clone()
	out.Unpublished = slices.DeleteFunc(out.Unpublished, func(k string) bool {
		return slices.Contains(keys, k)
	})
	return out
}

// EscalationSent reports whether escalation step of incident was already sent.
func (s State) EscalationSent(incident, step string) bool {
	for _, e := range s.Escalations {
		if e.Incident == incident && e.Step == step {
			return true
		}
	}
	return false
}

// MarkEscalated records that step of incident was sent to `to` at `at`. Marking a step already
// sent changes nothing: the first send is the one remembered.
func (s State) MarkEscalated(incident, step, to string, at time.Time) State {
	out := s.clone()
	if s.EscalationSent(incident, step) {
		return out
	}
	e := Escalation{Incident: incident, Step: step, To: to, At: at}
	out.Escalations = append([]Escalation{e}, out.Escalations...)
	return out.normalize()
}

// History is what becomes the snapshot's history: the recorded actions, newest first. The result
// shares nothing with s.
func (s State) History() []snapshot.Action {
	h := make([]snapshot.Action, len(s.Actions))
	for i, a := range s.Actions {
		h[i] = cloneAction(a)
	}
	return h
}

// normalize restores the invariants on a State the caller owns.
func (s State) normalize() State {
	s.Version = Version
	if len(s.Actions) > MaxActions && !s.Durable {
		s.Actions = s.Actions[:MaxActions]
	}
	type step struct {
		incident string
		key      string
	}
	seen := make(map[step]bool, len(s.Escalations))
	s.Escalations = slices.DeleteFunc(s.Escalations, func(e Escalation) bool {
		k := step{e.Incident, e.Step}
		dup := seen[k]
		seen[k] = true
		return dup
	})
	if len(s.Escalations) > MaxEscalations && !s.Durable {
		s.Escalations = s.Escalations[:MaxEscalations]
	}
	type delivery struct{ incident, key string }
	delivered := make(map[delivery]bool, len(s.Deliveries))
	s.Deliveries = slices.DeleteFunc(s.Deliveries, func(d Delivery) bool {
		k := delivery{d.Incident, d.Key}
		dup := delivered[k]
		delivered[k] = true
		return dup
	})
	if len(s.Deliveries) > MaxDeliveries && !s.Durable {
		s.Deliveries = s.Deliveries[:MaxDeliveries]
	}
	recorded := make(map[string]bool, len(s.Actions))
	for _, a := range s.Actions {
		recorded[Key(a.Incident, a.Action)] = true
	}
	s.Unpublished = slices.DeleteFunc(s.Unpublished, func(k string) bool {
		keep := recorded[k]
		recorded[k] = false // each key once
		return !keep
	})
	return s
}

// clone copies every slice and pointer of s, so the copy can be changed in place.
func (s State) clone() State {
	out := s
	out.Actions = nil
	if s.Actions != nil {
		out.Actions = make([]snapshot.Action, len(s.Actions))
		for i, a := range s.Actions {
			out.Actions[i] = cloneAction(a)
		}
	}
	if s.Pending != nil {
		p := *s.Pending
		p.Changes = slices.Clone(p.Changes)
		out.Pending = &p
	}
	if s.Pin != nil {
		p := *s.Pin
		out.Pin = &p
	}
	if s.Rollout != nil {
		r := *s.Rollout
		out.Rollout = &r
	}
	out.Escalations = slices.Clone(s.Escalations)
	out.Watching = slices.Clone(s.Watching)
	out.Unpublished = slices.Clone(s.Unpublished)
	out.Deliveries = slices.Clone(s.Deliveries)
	return out
}

func cloneAction(a snapshot.Action) snapshot.Action {
	a.Changes = slices.Clone(a.Changes)
	return a
}
