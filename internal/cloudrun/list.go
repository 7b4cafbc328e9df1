package cloudrun

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Bounds of one listing: at most listPages pages of listPageSize services per project and
// location. A location with more services is listed in part and reported with ErrTruncated.
const (
	listPageSize = 100
	listPages    = 10
)

// ErrTruncated means a listing stopped at its page bound: the services returned are real, the
// rest of the location was not read.
var ErrTruncated = errors.New("listing stopped at its page bound")

// Listed is one service as a listing sees it: enough to tell whether it opted in, not enough
// to decide anything (a decision re-reads the service).
type Listed struct {
	Target      snapshot.Target
	Labels      map[string]string
	Annotations map[string]string
}

// ListServices lists the services of one project and location, page by page, at most
// listPages pages of listPageSize, each page bounded like any read. Past the bound it returns
// what it read with ErrTruncated.
func (c *Client) ListServices(ctx context.Context, project, location string) ([]Listed, error) {
	parent := fmt.Sprintf("projects/%s/locations/%s", project, location)
	it := c.services.ListServices(ctx, &runpb.ListServicesRequest{Parent: parent}, readOpts()...)
	pager := iterator.NewPager(it, listPageSize, "")
	var out []Listed
	for range listPages {
		var page []*runpb.Service
		next, err := pager.NextPage(&page)
		if err != nil {
			return out, fmt.Errorf("list services in %s: %w", parent, err)
		}
		for _, s := range page {
			out = append(out, Listed{
				Target:      snapshot.Target{Project: project, Location: location, Service: path.Base(s.GetName())},
				Labels:      maps.Clone(s.GetLabels()),
				Annotations: maps.Clone(s.GetAnnotations()),
			})
		}
		if next == "" {
			return out, nil
		}
	}
	return out, fmt.Errorf("list services in %s: %w (%d pages of %d)", parent, ErrTruncated, listPages, listPageSize)
}
