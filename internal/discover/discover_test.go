package discover_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/discover"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var t0 = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)

const fleetYAML = `
services:
  - {project: p1, location: europe-west1, service: "*"}
  - {project: p2, location: us-central1, service: "*", mode: shadow}
  - {project: p1, location: europe-west1, service: billing}
  - {project: p1, location: europe-west1, service: quiet, mode: "off"}
  - {project: p3, location: europe-west1, service: api}
`

// world is a Cloud Run fake with services in three projects and a discoverer over fleetYAML
// reading it through the real client.
type world struct {
	srv *cloudruntest.Server
	d   *discover.Discoverer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	if cfg, err = config.Parse([]byte(fleetYAML), cfg); err != nil {
		t.Fatal(err)
	}
	srv := cloudruntest.New(t)
	for _, s := range []struct {
		name   string
		labels map[string]string
		ann    map[string]string
	}{
		{"projects/p1/locations/europe-west1/services/web", map[string]string{config.ModeLabel: "enforce"}, nil},
		{"projects/p1/locations/europe-west1/services/worker", nil, map[string]string{config.ModeAnnotation: "shadow"}},
		{"projects/p1/locations/europe-west1/services/batch", nil, nil},                                              // not opted in
		{"projects/p1/locations/europe-west1/services/old", map[string]string{config.ModeLabel: "off"}, nil},         // opted out
		{"projects/p1/locations/europe-west1/services/typo", map[string]string{config.ModeLabel: "enforced"}, nil},   // unknown mode
		{"projects/p1/locations/europe-west1/services/billing", map[string]string{config.ModeLabel: "enforce"}, nil}, // named rule
		{"projects/p1/locations/europe-west1/services/quiet", map[string]string{config.ModeLabel: "enforce"}, nil},   // named off
		{"projects/p1/locations/us-central1/services/web", map[string]string{config.ModeLabel: "enforce"}, nil},      // no rule there
		{"projects/p2/locations/us-central1/services/api", map[string]string{config.ModeLabel: "enforce"}, nil},      // rule is shadow
		{"projects/p3/locations/europe-west1/services/other", map[string]string{config.ModeLabel: "enforce"}, nil},   // named rules only
	} {
		svc := &runpb.Service{Name: s.name, Labels: s.labels, Annotations: s.ann,
			Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "img"}}}}
		if err := srv.AddService(svc); err != nil {
			t.Fatal(err)
		}
	}
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &world{srv: srv, d: &discover.Discoverer{Config: cfg, Lister: c}}
}

func member(project, location, service, mode string) discover.Member {
	return discover.Member{Target: snapshot.Target{Project: project, Location: location, Service: service}, Mode: mode}
}

func TestServicesOptedIn(t *testing.T) {
	w := newWorld(t)
	got, err := w.d.Services(context.Background(), t0)
	if err != nil {
		t.Fatalf("Services: %v", err)
	}
	want := []discover.Member{
		member("p1", "europe-west1", "web", "enforce"),
		member("p1", "europe-west1", "worker", "shadow"),
		member("p2", "us-central1", "api", "shadow"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Services (-want +got):\n%s", diff)
	}
	if n := w.srv.Calls("ListServices"); n != 2 {
		t.Errorf("ListServices called %d times, want once for each of the 2 locations with a \"*\" rule", n)
	}
	if n := w.srv.Calls("GetService"); n != 0 {
		t.Errorf("GetService called %d times, want none: discovery reads listings only", n)
	}
}

// TestServicesCachedAndBounded checks the rate: a listing is reused for the TTL, a label change
// shows after it, and a failing location is retried no sooner than Retry while its last
// services are kept.
func TestServicesCachedAndBounded(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	calls := func() int { return w.srv.Calls("ListServices") }
	names := func(ms []discover.Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Target.Service)
		}
		return out
	}
	if _, err := w.d.Services(ctx, t0); err != nil {
		t.Fatal(err)
	}
	if err := w.srv.Modify("projects/p1/locations/europe-west1/services/batch", func(s *runpb.Service) {
		s.Labels = map[string]string{config.ModeLabel: "enforce"}
	}); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Duration{time.Minute, 5 * time.Minute, 9*time.Minute + 59*time.Second} {
		got, err := w.d.Services(ctx, t0.Add(at))
		if err != nil || calls() != 2 || len(got) != 3 {
			t.Errorf("Services at +%s = %v, %v after %d listings; want the cached 3 members and no new listing", at, names(got), err, calls())
		}
	}
	got, err := w.d.Services(ctx, t0.Add(10*time.Minute))
	if err != nil || calls() != 4 {
		t.Fatalf("Services at +10m: %v after %d listings, want both locations listed again", err, calls())
	}
	if diff := cmp.Diff([]string{"batch", "web", "worker", "api"}, names(got)); diff != "" {
		t.Errorf("Services after the TTL (-want +got):\n%s", diff)
	}

	// p1 fails at +20m: its last members are kept, the error names it, and it is not listed
	// again before a minute has passed.
	w.srv.FailNext("ListServices", codes.Unavailable, 1000)
	got, err = w.d.Services(ctx, t0.Add(20*time.Minute))
	if status.Code(err) != codes.Unavailable {
		t.Errorf("Services with ListServices failing: error %v, want the Unavailable", err)
	}
	if len(got) != 4 {
		t.Errorf("Services with ListServices failing kept %v, want the last 4 members", names(got))
	}
	failed := calls()
	if _, err := w.d.Services(ctx, t0.Add(20*time.Minute+30*time.Second)); err != nil || calls() != failed {
		t.Errorf("Services 30s after a failure: %v after %d listings (was %d); want no new listing, no error", err, calls(), failed)
	}
	w.srv.FailNext("ListServices", codes.Unavailable, 0)
	if _, err := w.d.Services(ctx, t0.Add(21*time.Minute)); err != nil || calls() == failed {
		t.Errorf("Services a minute after a failure: %v after %d listings (was %d); want listed again", err, calls(), failed)
	}
}

// fakeLister is a Lister that answers from memory, for the truncated case the Cloud Run fake
// would need a thousand services to show.
type fakeLister map[string][]cloudrun.Listed

func (f fakeLister) ListServices(_ context.Context, project, location string) ([]cloudrun.Listed, error) {
	l := f[project+"/"+location]
	if len(l) > 1 {
		return l[:1], fmt.Errorf("list services in %s/%s: %w", project, location, cloudrun.ErrTruncated)
	}
	return l, nil
}

func TestServicesTruncatedKeepsWhatWasRead(t *testing.T) {
	cfg := newWorld(t).d.Config
	in := func(s, mode string) cloudrun.Listed {
		return cloudrun.Listed{Target: snapshot.Target{Project: "p1", Location: "europe-west1", Service: s}, Labels: map[string]string{config.ModeLabel: mode}}
	}
	d := &discover.Discoverer{Config: cfg, Lister: fakeLister{"p1/europe-west1": {in("a", "enforce"), in("b", "enforce")}}}
	got, err := d.Services(context.Background(), t0)
	if !errors.Is(err, cloudrun.ErrTruncated) {
		t.Errorf("Services error = %v, want ErrTruncated", err)
	}
	if diff := cmp.Diff([]discover.Member{member("p1", "europe-west1", "a", "enforce")}, got); diff != "" {
		t.Errorf("Services (-want +got):\n%s", diff)
	}
}
