// Package cloudrun is runmedic's adapter to the Cloud Run Admin API v2: it reads a service and its
// revisions into snapshot values and applies a plan's changes with one etag-checked UpdateService.
// It returns concrete types; consumers declare the small interfaces they need.
package cloudrun

import (
	"context"
	"fmt"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Annotation keys runmedic owns on the services it manages.
const (
	// StateAnnotation holds runmedic's bounded memory of what it did to the service. It is written
	// in the same UpdateService call as the change it records. With the ledger it is only read,
	// once, to import the history it holds.
	StateAnnotation = "runmedic.aiprod.ai/state"
	// ClaimAnnotation carries the ledger claim a change was made under, written in the same
	// UpdateService call as the change: a claim never recorded is settled by reading it back.
	ClaimAnnotation = snapshot.ClaimAnnotation
	// RestartAnnotation is set on the revision template to force a new revision with an otherwise
	// identical spec (fresh instances).
	RestartAnnotation = "runmedic.aiprod.ai/restart"
)

// Client reads and updates Cloud Run services. It is safe for concurrent use.
type Client struct {
	services  *run.ServicesClient
	revisions *run.RevisionsClient
}

// New connects to Cloud Run (or to what opts point at, e.g. EndpointOptions).
func New(ctx context.Context, opts ...option.ClientOption) (*Client, error) {
	svc, err := run.NewServicesClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create cloud run services client: %w", err)
	}
	rev, err := run.NewRevisionsClient(ctx, opts...)
	if err != nil {
		svc.Close()
		return nil, fmt.Errorf("create cloud run revisions client: %w", err)
	}
	return &Client{services: svc, revisions: rev}, nil
}

// EndpointOptions point a client at a plaintext gRPC endpoint (host:port) without credentials:
// a local fake or emulator, never production.
func EndpointOptions(endpoint string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(endpoint),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

// Close releases both connections.
func (c *Client) Close() error {
	errS := c.services.Close()
	errR := c.revisions.Close()
	if errS != nil {
		return fmt.Errorf("close cloud run services client: %w", errS)
	}
	if errR != nil {
		return fmt.Errorf("close cloud run revisions client: %w", errR)
	}
	return nil
}

// readOpts bound read retries: a few quick retries on UNAVAILABLE inside one call, then the error
// goes back to the caller (and, from the function, to Pub/Sub for redelivery). The library
// default retries GetService for up to 10 s, too long inside one delivery.
func readOpts() []gax.CallOption {
	return []gax.CallOption{
		gax.WithTimeout(10 * time.Second),
		gax.WithRetry(func() gax.Retryer {
			return &boundedRetryer{
				left: readAttempts - 1,
				next: gax.OnCodes([]codes.Code{codes.Unavailable},
					gax.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond, Multiplier: 2}),
			}
		}),
	}
}

// readAttempts is how many times one read is tried in all.
const readAttempts = 3

// writeOpts never retry: an update is retried by re-reading and re-planning, never blindly.
func writeOpts() []gax.CallOption {
	return []gax.CallOption{gax.WithTimeout(15 * time.Second), gax.WithRetry(nil)}
}

// boundedRetryer stops next after left retries.
type boundedRetryer struct {
	left int
	next gax.Retryer
}

func (r *boundedRetryer) Retry(err error) (time.Duration, bool) {
	if r.left <= 0 {
		return 0, false
	}
	r.left--
	return r.next.Retry(err)
}
