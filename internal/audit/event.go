// Package audit records what runmedic did and why: one Event per handled delivery on the audit
// topic, a Notification per escalation on the notification topic, and one structured log line in
// Cloud Logging's JSON format. Events are the public audit trail: fields may be added, never
// renamed or removed.
package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Outcome is how the handling of one delivery ended: the same type as an action's outcome in the
// service's history, so the audit trail and the ledger speak one vocabulary.
type Outcome = snapshot.Outcome

// The outcomes an Event may carry, by their short names here; snapshot documents each.
const (
	Applied            = snapshot.OutcomeApplied            // the change was made and its revision is ready
	NoChange           = snapshot.OutcomeNoChange           // the live service already matches the decision
	Refused            = snapshot.OutcomeRefused            // the guard or a policy deny blocked the plan
	Shadow             = snapshot.OutcomeShadow             // shadow mode: planned and recorded, not applied
	Escalated          = snapshot.OutcomeEscalated          // a notification was sent instead of, or with, a change
	Failed             = snapshot.OutcomeFailed             // an error stopped the run; Error says which
	Duplicate          = snapshot.OutcomeDuplicate          // this (service, incident, step) was already handled
	Ignored            = snapshot.OutcomeIgnored            // nothing to act on: test notification, other resource, stale
	Verified           = snapshot.OutcomeVerified           // after verify_after the service stayed below verify_below
	VerificationFailed = snapshot.OutcomeVerificationFailed // after verify_after memory was still high
)

// Event is one entry of the audit trail, published as JSON on the audit topic and embedded in
// the run's log line. Fields (JSON names):
//
//   - id: ID(target, incident, step, outcome), so redeliveries of the same effect carry the
//     same id and a consumer can drop duplicates without other state.
//   - time: when the run ended (RFC 3339, UTC).
//   - incident: the Cloud Monitoring incident id.
//   - incident_state: "open" or "closed", as the alert said.
//   - target: projects/P/locations/L/services/S.
//   - step: what the run did to the incident, e.g. "raise_memory", "rollback", "verify",
//     "escalate:5m"; part of the id.
//   - delivery: the Pub/Sub message id of the alert that caused the run.
//   - decision: the policy's decision (action, diagnosis, reason, evidence, params, policy,
//     deny); absent when the run stopped before a policy was evaluated.
//   - changes: the plan's changes, path with before and after; absent when there are none.
//   - guard: the guard's verdict (allowed, mode, refusals); absent before the guard ran.
//   - applied: true only when UpdateService was issued and its operation succeeded.
//   - result: what Cloud Run reported (revision, operation, ready); absent unless applied.
//   - outcome: one of the Outcome constants.
//   - error: the error that ended the run, for outcome "failed"; empty otherwise.
//   - deliveries: the messages the run handed to people's sinks (to, sink, step, outcome,
//     error); a refusal by a sink appears here, never a credential.
type Event struct {
	ID            string             `json:"id"`
	Time          time.Time          `json:"time"`
	Incident      string             `json:"incident"`
	IncidentState string             `json:"incident_state"`
	Target        string             `json:"target"`
	Step          string             `json:"step"`
	Delivery      string             `json:"delivery"`
	Decision      *decision.Decision `json:"decision,omitempty"`
	Changes       []snapshot.Change  `json:"changes,omitempty"`
	Guard         *plan.Verdict      `json:"guard,omitempty"`
	Applied       bool               `json:"applied"`
	Result        *Result            `json:"result,omitempty"`
	Outcome       Outcome            `json:"outcome"`
	Error         string             `json:"error,omitempty"`
	// Deliveries are the messages this run tried to hand to people's sinks; empty when none.
	Deliveries []Delivery `json:"deliveries,omitempty"`
	// Warnings say what was dropped from the notification (alert.Alert.Warnings): it was acted
	// on without it.
	Warnings []string `json:"warnings,omitempty"`
}

// Delivery is one message to one sink of a recipient. Error never holds a credential.
type Delivery struct {
	To      string `json:"to"`
	Sink    string `json:"sink"`    // pagerduty, slack, chat
	Step    string `json:"step"`    // page@5m, ack@raise_memory, change@raise_memory, resolve
	Outcome string `json:"outcome"` // DeliverySent, DeliveryFailed or DeliveryRefused
	Error   string `json:"error,omitempty"`
}

// Delivery outcomes.
const (
	DeliverySent    = "sent"    // the sink accepted it
	DeliveryFailed  = "failed"  // a passing failure: the next reconcile tries again
	DeliveryRefused = "refused" // the sink refused it for good (a 4xx): never retried
)

// Result is what Cloud Run reported for an applied change.
type Result struct {
	Revision  string `json:"revision"`  // the revision now serving, e.g. "aiprod-api-00043-xyz"
	Operation string `json:"operation"` // the long-running operation name of UpdateService
	Ready     bool   `json:"ready"`     // the revision's Ready condition succeeded
}

// ID is the deterministic id of an audit record: the same (target, incident, step, outcome)
// always gives the same id, and any difference gives a different one. It is 32 hex digits of a
// SHA-256 over the four values, each length-prefixed so that no two tuples share an encoding.
func ID(target, incident, step string, outcome Outcome) string {
	h := sha256.New()
	for _, s := range []string{target, incident, step, string(outcome)} {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// WithID returns e with its ID computed from its Target, Incident, Step and Outcome.
func (e Event) WithID() Event {
	e.ID = ID(e.Target, e.Incident, e.Step, e.Outcome)
	return e
}

// Attributes are the Pub/Sub attributes an Event is published with, so subscriptions can filter
// on them without decoding the body.
func (e Event) Attributes() map[string]string {
	return map[string]string{
		"id":       e.ID,
		"incident": e.Incident,
		"target":   e.Target,
		"outcome":  string(e.Outcome),
	}
}
