package state

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// The ledger's half of runmedic's memory, as the orchestrator sees it: what one read returns,
// what a claim takes, and the errors it tells apart. The ledger adapter implements them over
// Firestore; they live here so the orchestrator declares its Ledger without linking a client.

// Errors the ledger returns and the orchestrator tells apart.
var (
	// ErrEntryUnreadable marks a ledger entry that cannot be decoded: fail closed.
	ErrEntryUnreadable = errors.New("ledger entry unreadable")
	// ErrStale means the ledger changed since it was read: re-read and decide again.
	ErrStale = errors.New("ledger changed since it was read")
	// ErrClaimed means (service, incident, step) is already claimed or recorded.
	ErrClaimed = errors.New("step already claimed")
	// ErrFleetLimit means a fleet-wide limit holds the change back for now.
	ErrFleetLimit = errors.New("fleet limit reached")
)

// ClaimLease is how long a claim that was neither recorded nor found on the live service holds
// its (service, incident, step) before it is released for another try.
const ClaimLease = 2 * time.Minute

// Entry is what the ledger holds for one service, as read at one moment.
type Entry struct {
	// State is the service's history, watches, escalations and deliveries, Durable: nothing in it
	// is trimmed to make room. Claims not yet recorded are not in it.
	State State
	// Version counts the writes to the service's entries; Claim succeeds only against the
	// version the decision was made from.
	Version int64
	// Claims are steps claimed but neither recorded nor released: the process that claimed them
	// may still be applying, or died between claim and record.
	Claims []Claim
	// Warnings name entries that were read but ignored (an action dated in the future).
	Warnings []string
	// Imported is true when this read imported the legacy state annotation.
	Imported bool
}

// Claim is one (service, incident, step) taken before its UpdateService: what it will record
// when it lands.
type Claim struct {
	ID      string          // compact marker written on the service with the change
	Action  snapshot.Action // the action as it will be recorded (outcome applied)
	Pending *Verification   // the verification it sets when it lands
	Pin     *Pin            // the pin it sets when it lands
	At      time.Time       // when it was claimed
}

// Key is the claimed step's key, Key of its action.
func (c Claim) Key() string { return Key(c.Action.Incident, c.Action.Action) }

// NewClaim names a claim of action on target at now: its ID is short enough for an annotation and
// differs for every claim.
func NewClaim(target snapshot.Target, action snapshot.Action, pending *Verification, pin *Pin, now time.Time) Claim {
	service := target.Project + ":" + target.Location + ":" + target.Service
	h := sha256.Sum256([]byte(service + "\x00" + Key(action.Incident, action.Action) + "\x00" + now.UTC().Format(time.RFC3339Nano)))
	return Claim{ID: hex.EncodeToString(h[:8]), Action: action, Pending: pending, Pin: pin, At: now.UTC()}
}

// Limits are the fleet-wide limits a claim is checked against; 0 is no limit.
type Limits struct {
	MaxChangesPerHour     int
	MaxConcurrentRollouts int
}
