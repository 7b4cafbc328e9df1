package logs

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

var (
	now    = time.Date(2026, 2, 4, 10, 30, 0, 0, time.UTC)
	target = snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"}
)

func setup(t testing.TB) (*loggingtest.Server, *Reader) {
	t.Helper()
	srv := loggingtest.New(t)
	r, err := New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return srv, r
}

func TestOOMKillsRoundTrip(t *testing.T) {
	srv, r := setup(t)
	want := snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: "aiprod-api-00042-xyz", Count: 150, LimitMiB: 2048, MaxUsedMiB: 2231.5,
			First: now.Add(-150 * time.Minute), Last: now.Add(-2 * time.Minute)},
		{Revision: "aiprod-api-00041-abc", Count: 120, LimitMiB: 1024, MaxUsedMiB: 1100,
			First: now.Add(-170 * time.Minute), Last: now.Add(-50 * time.Minute)},
	}}
	srv.SeedFromSnapshot(snapshot.Snapshot{Target: target, Logs: &want})
	// Entries the read must not count: outside the window, another service or region, another
	// message, a message that only looks like one.
	rev := "aiprod-api-00042-xyz"
	srv.Add(
		loggingtest.Entry(target, rev, now.Add(-4*time.Hour), loggingtest.OOMText(2048, 9999)),
		loggingtest.Entry(target, rev, now.Add(time.Minute), loggingtest.OOMText(2048, 9999)),
		loggingtest.Entry(snapshot.Target{Project: target.Project, Location: target.Location, Service: "other"}, "other-00001", now.Add(-time.Minute), loggingtest.OOMText(512, 9999)),
		loggingtest.Entry(snapshot.Target{Project: target.Project, Location: "us-central1", Service: target.Service}, rev, now.Add(-time.Minute), loggingtest.OOMText(512, 9999)),
		loggingtest.Entry(snapshot.Target{Project: "other", Location: target.Location, Service: target.Service}, rev, now.Add(-time.Minute), loggingtest.OOMText(512, 9999)),
		loggingtest.Entry(target, rev, now.Add(-time.Minute), "Default STARTUP TCP probe succeeded after 1 attempt"),
		loggingtest.Entry(target, rev, now.Add(-time.Minute), "Memory limit of plenty exceeded with 9999 MiB used"),
		loggingtest.Entry(target, "", now.Add(-time.Minute), loggingtest.OOMText(512, 9999)),
	)

	got := r.OOMKills(context.Background(), target, now, 3*time.Hour)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OOMKills (-want +got):\n%s", diff)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2 pages of at most %d entries for 270", len(reqs), PageSize)
	}
	wantReq := &loggingpb.ListLogEntriesRequest{
		ResourceNames: []string{"projects/aiprod-484120"},
		Filter:        Filter(target, now.Add(-3*time.Hour), now),
		OrderBy:       "timestamp desc",
		PageSize:      PageSize,
	}
	if first := reqs[0]; first.GetFilter() != wantReq.Filter || first.GetOrderBy() != wantReq.OrderBy ||
		first.GetPageSize() != wantReq.PageSize || !cmp.Equal(first.GetResourceNames(), wantReq.ResourceNames) {
		t.Errorf("first request = %v, want %v", first, wantReq)
	}
	if reqs[1].GetPageToken() == "" {
		t.Error("second request carries no page token")
	}
}

func TestOOMKillsNone(t *testing.T) {
	srv, r := setup(t)
	srv.Add(loggingtest.Entry(target, "r1", now.Add(-time.Minute), "Default STARTUP TCP probe succeeded after 1 attempt"))
	got := r.OOMKills(context.Background(), target, now, time.Hour)
	if diff := cmp.Diff(snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{}}, got); diff != "" {
		t.Errorf("OOMKills with none in the window (-want +got):\n%s", diff)
	}
}

// TestOOMKillsExactPages reads exactly two full pages: the last token leads to an empty page.
func TestOOMKillsExactPages(t *testing.T) {
	srv, r := setup(t)
	srv.SeedFromSnapshot(snapshot.Snapshot{Target: target, Logs: &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: "r1", Count: 2 * PageSize, LimitMiB: 512, MaxUsedMiB: 600, First: now.Add(-time.Hour), Last: now},
	}}})
	got := r.OOMKills(context.Background(), target, now, time.Hour)
	if !got.Available || got.Truncated || len(got.OOMKills) != 1 || got.OOMKills[0].Count != 2*PageSize {
		t.Errorf("OOMKills = %+v, want %d kills, complete", got, 2*PageSize)
	}
}

func TestOOMKillsTruncatedAtPageBound(t *testing.T) {
	srv, r := setup(t)
	const n = MaxPages*PageSize + 30
	srv.SeedFromSnapshot(snapshot.Snapshot{Target: target, Logs: &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
		{Revision: "r1", Count: n, LimitMiB: 512, MaxUsedMiB: 600, First: now.Add(-time.Duration(n-1) * 10 * time.Second), Last: now},
	}}})
	got := r.OOMKills(context.Background(), target, now, 6*time.Hour)
	if !got.Available || !got.Truncated {
		t.Fatalf("OOMKills = available %v, truncated %v; want both true", got.Available, got.Truncated)
	}
	if len(got.OOMKills) != 1 || got.OOMKills[0].Count != MaxPages*PageSize {
		t.Fatalf("OOMKills = %+v, want one revision with %d kills (the newest)", got.OOMKills, MaxPages*PageSize)
	}
	k := got.OOMKills[0]
	if wantFirst := now.Add(-time.Duration(MaxPages*PageSize-1) * 10 * time.Second); !k.Last.Equal(now) || !k.First.Equal(wantFirst) {
		t.Errorf("kills from %v to %v, want %v to %v", k.First, k.Last, wantFirst, now)
	}
	if k.MaxUsedMiB != 600 {
		t.Errorf("MaxUsedMiB = %v, want 600 (the newest entry)", k.MaxUsedMiB)
	}
	if len(srv.Requests()) != MaxPages {
		t.Errorf("server saw %d requests, want %d", len(srv.Requests()), MaxPages)
	}
}

func TestOOMKillsUnavailable(t *testing.T) {
	tests := []struct {
		name string
		code codes.Code
		want string
	}{
		{"no permission", codes.PermissionDenied, "PermissionDenied"},
		{"unavailable past the bound", codes.Unavailable, "no answer within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, r := setup(t)
			srv.Add(loggingtest.Entry(target, "r1", now.Add(-time.Minute), loggingtest.OOMText(512, 600)))
			srv.FailNext(tt.code, -1)
			got := r.WithTimeout(300*time.Millisecond).OOMKills(context.Background(), target, now, time.Hour)
			if got.Available || len(got.OOMKills) != 0 || !strings.Contains(got.Error, tt.want) {
				t.Errorf("OOMKills = %+v, want unavailable with an error naming %q", got, tt.want)
			}
		})
	}
}

func TestOOMKillsWithoutClient(t *testing.T) {
	for name, r := range map[string]*Reader{"nil": nil, "unavailable": Unavailable("no logging client")} {
		got := r.OOMKills(context.Background(), target, now, time.Hour)
		if got.Available || got.Error != "no logging client" {
			t.Errorf("%s reader: OOMKills = %+v, want unavailable: no logging client", name, got)
		}
	}
}

// BenchmarkOOMKills reads one full page of OOM-kill entries, and the whole bound, through the
// client and the fake over loopback.
func BenchmarkOOMKills(b *testing.B) {
	for _, n := range []int{PageSize, MaxPages * PageSize} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			srv, r := setup(b)
			srv.SeedFromSnapshot(snapshot.Snapshot{Target: target, Logs: &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{
				{Revision: "r1", Count: n, LimitMiB: 512, MaxUsedMiB: 600, First: now.Add(-time.Hour), Last: now},
			}}})
			for b.Loop() {
				if got := r.OOMKills(context.Background(), target, now, 3*time.Hour); got.OOMKills[0].Count != n {
					b.Fatalf("read %d kills, want %d", got.OOMKills[0].Count, n)
				}
			}
		})
	}
}

// BenchmarkParseOOM parses a page of messages.
func BenchmarkParseOOM(b *testing.B) {
	text := loggingtest.OOMText(512, 534.5)
	for b.Loop() {
		for range PageSize {
			if _, _, ok := ParseOOM(text); !ok {
				b.Fatal("not parsed")
			}
		}
	}
}
