package snapshot

import "time"

// Observation is one read of a live service: the snapshot blocks a decision needs, plus
// runmedic's own annotations, which are kept out of Service.Annotations. The orchestrator's
// Observer returns it, whatever adapter reads the service.
type Observation struct {
	Service         Service
	Revisions       []Revision // newest first
	StateAnnotation string     // runmedic's state annotation (the ledger's predecessor), "" when absent
	Claim           string     // the claim marker of runmedic's last change, "" when absent
	// Reconciling is true while Cloud Run is still rolling out the last change; the traffic
	// and latest ready revision are then transient. It is reported for people (and tests); the
	// remediator does not wait on it: an update against the etag read is safe either way.
	Reconciling bool
}

// Update is what an update of a live service that Cloud Run accepted did.
type Update struct {
	Service   Service // the service after the update
	Revision  string  // the revision the update created; "" when the template was unchanged
	Ready     bool    // Revision's Ready condition succeeded; true when no revision was created
	Operation string  // the update's long-running operation
}

// ClaimAnnotation carries the ledger claim a change was made under, written on the service in
// the same update as the change: a claim never recorded is settled by reading it back
// (Observation.Claim).
const ClaimAnnotation = "runmedic.aiprod.ai/claim"

// Window is how far back an observation reads metrics and logs: the snapshot contract asks for
// at least the last 3 hours.
const Window = 3 * time.Hour

// Member is one opted-in service of the fleet and the mode in force for it when it was listed.
// The mode is for people and for choosing what to walk; a decision re-reads the service and
// judges it again.
type Member struct {
	Target Target
	Mode   string // config.ModeEnforce or config.ModeShadow
}
