package loggingtest

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/snapshot"
)

var (
	t0  = time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC)
	api = snapshot.Target{Project: "p", Location: "europe-west1", Service: "api"}
)

const window = `resource.type = "cloud_run_revision" AND resource.labels.service_name = "api" AND timestamp >= "2026-02-04T10:00:00Z" AND timestamp <= "2026-02-04T11:00:00Z"`

// client is the generated gRPC client: the tests call ListLogEntries one page at a time, without
// the library's paging, so each page can be checked. internal/logs tests the library against
// the server.
func client(t *testing.T, s *Server) loggingpb.LoggingServiceV2Client {
	t.Helper()
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return loggingpb.NewLoggingServiceV2Client(conn)
}

func list(c loggingpb.LoggingServiceV2Client, req *loggingpb.ListLogEntriesRequest) (*loggingpb.ListLogEntriesResponse, error) {
	resp, err := c.ListLogEntries(context.Background(), req)
	if resp == nil {
		resp = &loggingpb.ListLogEntriesResponse{}
	}
	return resp, err
}

func texts(resp *loggingpb.ListLogEntriesResponse) []string {
	var out []string
	for _, e := range resp.GetEntries() {
		out = append(out, e.GetTextPayload())
	}
	return out
}

func seed(s *Server) {
	for i, text := range []string{"a", "b", "Memory limit of 512 MiB exceeded with 600 MiB used", "d", "e"} {
		s.Add(Entry(api, "api-00001", t0.Add(time.Duration(i)*time.Minute), text))
	}
	s.Add(Entry(snapshot.Target{Project: "p", Location: "europe-west1", Service: "worker"}, "worker-00001", t0, "w"))
	s.Add(Entry(api, "api-00001", t0.Add(2*time.Hour), "late"))
}

func TestListOrderAndPages(t *testing.T) {
	s := New(t)
	seed(s)
	c := client(t, s)
	req := &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window, OrderBy: "timestamp desc", PageSize: 2}
	var got []string
	for range 5 {
		resp, err := list(c, req)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.GetEntries()) > 2 {
			t.Errorf("page of %d entries, want at most 2", len(resp.GetEntries()))
		}
		got = append(got, texts(resp)...)
		if resp.GetNextPageToken() == "" {
			break
		}
		req.PageToken = resp.GetNextPageToken()
	}
	want := []string{"e", "d", "Memory limit of 512 MiB exceeded with 600 MiB used", "b", "a"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries newest first (-want +got):\n%s", diff)
	}

	asc, err := list(c, &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"},
		Filter: window + ` AND textPayload : "memory LIMIT of"`})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Memory limit of 512 MiB exceeded with 600 MiB used"}, texts(asc)); diff != "" {
		t.Errorf("has (:) is a case-insensitive substring (-want +got):\n%s", diff)
	}
	other, err := list(c, &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/q"}, Filter: window})
	if err != nil || len(other.GetEntries()) != 0 {
		t.Errorf("another project: %d entries, %v; want none", len(other.GetEntries()), err)
	}
}

func TestListRejectsWhatItDoesNotServe(t *testing.T) {
	s := New(t)
	seed(s)
	c := client(t, s)
	first, err := list(c, &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window, PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		req  *loggingpb.ListLogEntriesRequest
	}{
		{"no resource", &loggingpb.ListLogEntriesRequest{Filter: window}},
		{"bad resource", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"p"}, Filter: window}},
		{"empty filter", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}}},
		{"regex", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: `textPayload =~ "Memory"`}},
		{"or", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window + ` OR textPayload : "x"`}},
		{"severity", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window + ` AND severity >= "ERROR"`}},
		{"json payload", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: `jsonPayload.message : "x"`}},
		{"label by has", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: `resource.labels.service_name : "api"`}},
		{"bad time", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: `timestamp >= "yesterday"`}},
		{"unquoted", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: `resource.type = cloud_run_revision`}},
		{"order", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window, OrderBy: "severity desc"}},
		{"page size", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window, PageSize: 1001}},
		{"forged token", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window, PageToken: "7"}},
		{"token of another filter", &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"},
			Filter: window + ` AND textPayload : "a"`, PageToken: first.GetNextPageToken()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := list(c, tt.req); status.Code(err) != codes.InvalidArgument {
				t.Errorf("ListLogEntries(%v) error = %v, want InvalidArgument", tt.req, err)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	s := New(t)
	seed(s)
	c := client(t, s)
	req := &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window}
	s.FailNext(codes.PermissionDenied, 1)
	if _, err := list(c, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("first list error = %v, want PermissionDenied", err)
	}
	if resp, err := list(c, req); err != nil || len(resp.GetEntries()) != 5 {
		t.Errorf("second list = %d entries, %v; want 5, nil", len(resp.GetEntries()), err)
	}
	s.FailNext(codes.PermissionDenied, -1)
	for range 3 {
		if _, err := list(c, req); status.Code(err) != codes.PermissionDenied {
			t.Errorf("list error = %v, want PermissionDenied on every call", err)
		}
	}
	if n := len(s.Requests()); n != 5 {
		t.Errorf("server recorded %d requests, want 5", n)
	}
}

func TestSeedFromUnavailableLogs(t *testing.T) {
	s := New(t)
	c := client(t, s)
	s.SeedFromSnapshot(snapshot.Snapshot{Target: api, Logs: &snapshot.Logs{Available: false, Error: "denied"}})
	req := &loggingpb.ListLogEntriesRequest{ResourceNames: []string{"projects/p"}, Filter: window}
	if _, err := list(c, req); status.Code(err) != codes.PermissionDenied {
		t.Errorf("list after seeding unavailable logs: %v, want PermissionDenied", err)
	}
}
