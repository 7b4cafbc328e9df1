// Package logs reads the OOM kills Cloud Run records in Cloud Logging into snapshot.Logs: one
// summary per revision of the entries Cloud Run writes on cloud_run_revision when an instance
// exceeds its memory limit. The read is evidence, never a precondition: whatever goes wrong
// (no permission, an unavailable API, the time bound, no client) yields Logs{Available: false}
// with the reason, and the observation goes on without it.
package logs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"cloud.google.com/go/logging"
	"cloud.google.com/go/logging/logadmin"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Bounds of one read: Cloud Logging's read quota is per project and minute, and the read runs
// inside a delivery's deadline. Hitting either of the first two sets Logs.Truncated.
const (
	MaxPages = 5
	PageSize = 200
	Timeout  = 10 * time.Second
)

// Reader reads OOM kills. It is safe for concurrent use. A nil *Reader, or one made by
// Unavailable, reports every read as unavailable.
type Reader struct {
	c       *logadmin.Client
	reason  string        // why there is no client
	timeout time.Duration // the bound of one read; Timeout unless set by WithTimeout
}

// New connects to Cloud Logging; opts are passed to the client library (credentials, or an
// endpoint such as a loggingtest server).
func New(ctx context.Context, opts ...option.ClientOption) (*Reader, error) {
	// The parent is only a default: every read names its target's project.
	c, err := logadmin.NewClient(ctx, "projects/-", append([]option.ClientOption{option.WithScopes(logging.ReadScope)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("new logging client: %w", err)
	}
	return &Reader{c: c, timeout: Timeout}, nil
}

// Unavailable is a Reader without a client: every read returns Logs{Available: false} with
// reason, e.g. why the client could not be made.
func Unavailable(reason string) *Reader { return &Reader{reason: reason} }

// WithTimeout returns a copy of r whose reads are bounded by d instead of Timeout.
func (r *Reader) WithTimeout(d time.Duration) *Reader {
	if r == nil {
		return nil
	}
	c := *r
	c.timeout = d
	return &c
}

// Close releases the connection.
func (r *Reader) Close() error {
	if r == nil || r.c == nil {
		return nil
	}
	return r.c.Close()
}

// Filter is the Logging query selecting target's OOM-kill entries in [start, end].
func Filter(target snapshot.Target, start, end time.Time) string {
	return `resource.type = "cloud_run_revision"` +
		" AND resource.labels.service_name = " + strconv.Quote(target.Service) +
		" AND resource.labels.location = " + strconv.Quote(target.Location) +
		" AND textPayload : " + strconv.Quote(Phrase) +
		" AND timestamp >= " + strconv.Quote(start.UTC().Format(time.RFC3339Nano)) +
		" AND timestamp <= " + strconv.Quote(end.UTC().Format(time.RFC3339Nano))
}

// OOMKills reads target's OOM-kill entries over [now-window, now], newest first, at most MaxPages
// pages of PageSize entries within the Reader's timeout, and summarises them per revision. When a
// bound stops the read after some pages, the summary of what was read is returned, Truncated. Any
// failure before that is Available false with the reason; it never fails the caller.
func (r *Reader) OOMKills(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) snapshot.Logs {
	if r == nil || r.c == nil {
		reason := "no logging client"
		if r != nil && r.reason != "" {
			reason = r.reason
		}
		return unavailable(reason)
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	it := r.c.Entries(ctx,
		logadmin.ProjectIDs([]string{target.Project}),
		logadmin.Filter(Filter(target, now.Add(-window), now)),
		logadmin.NewestFirst(),
		logadmin.PageSize(PageSize))
	pager := iterator.NewPager(it, PageSize, "")
	var s summary
	for page := 1; ; page++ {
		var entries []*logging.Entry
		token, err := pager.NextPage(&entries)
		if errors.Is(err, iterator.Done) { // no entry at all, or an empty last page
			return s.logs(false)
		}
		if err != nil {
			if page > 1 && ctx.Err() != nil {
				return s.logs(true) // the time bound, after some pages: what was read stands
			}
			return unavailable(reason(ctx, err, r.timeout))
		}
		for _, e := range entries {
			s.add(e)
		}
		if token == "" {
			return s.logs(false)
		}
		if page == MaxPages {
			return s.logs(true)
		}
	}
}

func unavailable(reason string) snapshot.Logs {
	return snapshot.Logs{Available: false, Error: reason, OOMKills: []snapshot.OOMKill{}}
}

// reason is one line naming why a read failed: the time bound, or the gRPC code and message.
func reason(ctx context.Context, err error, timeout time.Duration) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("read OOM kills: no answer within %v (%v)", timeout, status.Code(err))
	}
	if st, ok := status.FromError(err); ok {
		return fmt.Sprintf("read OOM kills: %v: %s", st.Code(), st.Message())
	}
	return "read OOM kills: " + err.Error()
}

// summary folds OOM-kill entries into one OOMKill per revision.
type summary struct {
	byRevision map[string]*snapshot.OOMKill
	limitAt    map[string]time.Time // when the limit recorded for a revision was logged
}

// add counts e if it is an OOM-kill entry of a named revision; any other entry is ignored.
func (s *summary) add(e *logging.Entry) {
	text, ok := e.Payload.(string)
	if !ok {
		return
	}
	limit, used, ok := ParseOOM(text)
	rev := e.Resource.GetLabels()["revision_name"]
	if !ok || rev == "" {
		return
	}
	if s.byRevision == nil {
		s.byRevision, s.limitAt = map[string]*snapshot.OOMKill{}, map[string]time.Time{}
	}
	at := e.Timestamp.UTC()
	k := s.byRevision[rev]
	if k == nil {
		k = &snapshot.OOMKill{Revision: rev, First: at, Last: at, MaxUsedMiB: used, LimitMiB: limit}
		s.byRevision[rev], s.limitAt[rev] = k, at
	}
	k.Count++
	k.MaxUsedMiB = max(k.MaxUsedMiB, used)
	if at.Before(k.First) {
		k.First = at
	}
	if at.After(k.Last) {
		k.Last = at
	}
	if at.After(s.limitAt[rev]) { // the newest entry names the limit in force
		k.LimitMiB, s.limitAt[rev] = limit, at
	}
}

// logs returns the summary, revisions with the newest kill first.
func (s *summary) logs(truncated bool) snapshot.Logs {
	out := snapshot.Logs{Available: true, Truncated: truncated, OOMKills: []snapshot.OOMKill{}}
	for _, k := range s.byRevision {
		out.OOMKills = append(out.OOMKills, *k)
	}
	slices.SortFunc(out.OOMKills, func(a, b snapshot.OOMKill) int {
		return cmp.Or(b.Last.Compare(a.Last), cmp.Compare(a.Revision, b.Revision))
	})
	return out
}
