// Package ledger is runmedic's durable memory of what it did, in Firestore (Native mode): one
// document per thing, so nothing an alert sends can fill it or push out what a decision needs.
//
// Layout, in the named database (RUNMEDIC_FIRESTORE_DATABASE, default "runmedic"):
//
//	services/{project:location:service}            the service: pending verification, pin,
//	                                               unpublished audit events, version, open work
//	services/{…}/actions/{hash(incident/step)}     each action: claimed, then recorded
//	services/{…}/incidents/{hash(incident)}        each watched incident as first received
//	services/{…}/escalations/{hash(incident|step)} each escalation step sent
//	services/{…}/deliveries/{hash(incident|key)}   each message handed to a person's sink
//	fleet/limits                                   changes in the last hour, rollouts in progress
//
// Every document carries expire_at (90 days after its last write) for a Firestore TTL policy.
// The payload of each entry is its JSON in the field "data", so `gcloud firestore` and the
// emulator's REST API show it as written. An entry that cannot be decoded fails the whole read
// (ErrUnreadable): the caller changes nothing and escalates.
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// DefaultDatabase is the Firestore database runmedic uses when RUNMEDIC_FIRESTORE_DATABASE is
// unset; infra/ creates it.
const DefaultDatabase = "runmedic"

// TTL is how long an entry is kept after its last write; Firestore deletes it after expire_at.
const TTL = 90 * 24 * time.Hour

// FutureSkew is how far in the future an action may be dated before it is ignored: clocks
// differ by less, and a later date is a corrupt or forged entry.
const FutureSkew = 5 * time.Minute

// ClaimLease is how long a claim that was neither recorded nor found on the live service holds
// its (service, incident, step) before it is released for another try.
const ClaimLease = state.ClaimLease

// RolloutLease bounds how long a change counts as a rollout in progress when its record never
// came (the process died while Cloud Run rolled it out).
const RolloutLease = 15 * time.Minute

// Collection and document names.
const (
	colServices    = "services"
	colActions     = "actions"
	colIncidents   = "incidents"
	colEscalations = "escalations"
	colDeliveries  = "deliveries"
	colFleet       = "fleet"
	docFleetLimits = "limits"
)

// Collections are the ledger's collection groups, each of whose documents carries expire_at:
// infra/ sets a TTL policy on every one of them.
var Collections = []string{colServices, colActions, colIncidents, colEscalations, colDeliveries, colFleet}

// Errors the caller tells apart: the orchestrator's own (package state), so it tells them apart
// without linking this package.
var (
	// ErrUnreadable marks an entry that cannot be decoded: fail closed.
	ErrUnreadable = state.ErrEntryUnreadable
	// ErrStale means the ledger changed since it was read: re-read and decide again.
	ErrStale = state.ErrStale
	// ErrClaimed means (service, incident, step) is already claimed or recorded.
	ErrClaimed = state.ErrClaimed
	// ErrFleetLimit means a fleet-wide limit holds the change back for now.
	ErrFleetLimit = state.ErrFleetLimit
)

// Store is the ledger on one Firestore database. It is safe for concurrent use.
type Store struct {
	client *firestore.Client
	now    func() time.Time
	// turns lets one claim transaction at a time of this instance read fleet/limits, and
	// commits the claims that wait for it together.
	turns turns
}

// Open connects to database of project. opts are passed to the Firestore client (an emulator's
// endpoint, a counting interceptor); without them the client honours FIRESTORE_EMULATOR_HOST.
func Open(ctx context.Context, project, database string, opts ...option.ClientOption) (*Store, error) {
	if project == "" {
		return nil, errors.New("ledger: no project: set " + EnvProject)
	}
	if database == "" {
		database = DefaultDatabase
	}
	c, err := firestore.NewClientWithDatabase(ctx, project, database, opts...)
	if err != nil {
		return nil, fmt.Errorf("ledger: connect to Firestore database %s of %s: %w", database, project, err)
	}
	return &Store{client: c, now: time.Now}, nil
}

// Environment variables OpenFromEnv reads.
const (
	EnvProject  = "GOOGLE_CLOUD_PROJECT"
	EnvDatabase = "RUNMEDIC_FIRESTORE_DATABASE"
	EnvEmulator = "FIRESTORE_EMULATOR_HOST" // host:port of the Firestore emulator
)

// OpenFromEnv opens the database RUNMEDIC_FIRESTORE_DATABASE (default DefaultDatabase) of the
// project GOOGLE_CLOUD_PROJECT, on the emulator at FIRESTORE_EMULATOR_HOST when it is set.
// getenv is os.Getenv in production.
func OpenFromEnv(ctx context.Context, getenv func(string) string, opts ...option.ClientOption) (*Store, error) {
	if host := getenv(EnvEmulator); host != "" {
		opts = append(EmulatorOptions(host), opts...)
	}
	return Open(ctx, getenv(EnvProject), getenv(EnvDatabase), opts...)
}

// EmulatorOptions connect a Firestore client to the emulator at host without touching the
// process-wide FIRESTORE_EMULATOR_HOST: plaintext gRPC and the emulator's owner credentials
// (security rules do not apply).
func EmulatorOptions(host string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(host),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		option.WithGRPCDialOption(grpc.WithPerRPCCredentials(owner{})),
	}
}

// owner is the credential the Firestore emulator accepts as an administrator.
type owner struct{}

func (owner) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer owner"}, nil
}
func (owner) RequireTransportSecurity() bool { return false }

// WithClock makes the store date its writes (expire_at, fleet windows) by now.
func (s *Store) WithClock(now func() time.Time) *Store {
	s.now = now
	return s
}

// Close closes the Firestore client.
func (s *Store) Close() error { return s.client.Close() }

// serviceID is the service's document id: readable, and free of '/'.
func serviceID(t snapshot.Target) string { return t.Project + ":" + t.Location + ":" + t.Service }

func (s *Store) service(t snapshot.Target) *firestore.DocumentRef {
	return s.client.Collection(colServices).Doc(serviceID(t))
}

func (s *Store) fleet() *firestore.DocumentRef {
	return s.client.Collection(colFleet).Doc(docFleetLimits)
}

// entryID names one entry by a hash of its key: incident ids and step names are free text, and
// a document id may not hold '/'.
func entryID(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

// expireAt is when an entry written at now expires.
func expireAt(now time.Time) time.Time { return now.Add(TTL).UTC() }
