// Package snooze reads the Cloud Monitoring snoozes that are active or still to come, with the
// display names of the alert policies they silence: a notification names its policy by display
// name only, so that is what freeze.Snoozed matches.
package snooze

import (
	"context"
	"errors"
	"fmt"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/runmedic/runmedic/internal/freeze"
)

// maxSnoozes bounds one read: a project with more live snoozes than this is read as unreadable,
// and changes are held.
const maxSnoozes = 500

// Reader reads snoozes through the real Monitoring clients.
type Reader struct {
	snoozes  *monitoring.SnoozeClient
	policies *monitoring.AlertPolicyClient
}

// New connects to Cloud Monitoring, or to what opts point at (a fake through
// cloudrun.EndpointOptions).
func New(ctx context.Context, opts ...option.ClientOption) (*Reader, error) {
	sc, err := monitoring.NewSnoozeClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("create snooze client: %w", err)
	}
	pc, err := monitoring.NewAlertPolicyClient(ctx, opts...)
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("create alert policy client: %w", err)
	}
	return &Reader{snoozes: sc, policies: pc}, nil
}

// Close releases both connections.
func (r *Reader) Close() error { return errors.Join(r.snoozes.Close(), r.policies.Close()) }

// Active lists project's snoozes that end after now, each with its policies' resource names and
// display names. Any failure is an error: the caller holds changes rather than guess.
func (r *Reader) Active(ctx context.Context, project string, now time.Time) ([]freeze.Snooze, error) {
	it := r.snoozes.ListSnoozes(ctx, &monitoringpb.ListSnoozesRequest{
		Parent: "projects/" + project,
		Filter: fmt.Sprintf("interval.end_time > %q", now.UTC().Format(time.RFC3339)),
	})
	names := map[string]string{} // policy resource name → display name
	var out []freeze.Snooze
	for {
		s, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("list snoozes of %s: %w", project, err)
		}
		if len(out) == maxSnoozes {
			return nil, fmt.Errorf("list snoozes of %s: more than %d", project, maxSnoozes)
		}
		sn := freeze.Snooze{Name: s.GetName(), DisplayName: s.GetDisplayName(),
			Start: s.GetInterval().GetStartTime().AsTime(), End: s.GetInterval().GetEndTime().AsTime()}
		for _, p := range s.GetCriteria().GetPolicies() {
			dn, ok := names[p]
			if !ok {
				pol, err := r.policies.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: p})
				if err != nil {
					return nil, fmt.Errorf("get alert policy %s of snooze %s: %w", p, s.GetName(), err)
				}
				dn = pol.GetDisplayName()
				names[p] = dn
			}
			sn.Policies = append(sn.Policies, p)
			if dn != "" {
				sn.Policies = append(sn.Policies, dn)
			}
		}
		out = append(out, sn)
	}
	return out, nil
}
