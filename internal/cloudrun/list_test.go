package cloudrun_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// addServices seeds n services named svc-0000… in project/location, with labels on every third.
func addServices(t *testing.T, srv *cloudruntest.Server, project, location string, n int) {
	t.Helper()
	for i := range n {
		svc := &runpb.Service{
			Name:     fmt.Sprintf("projects/%s/locations/%s/services/svc-%04d", project, location, i),
			Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "img"}}},
		}
		if i%3 == 0 {
			svc.Labels = map[string]string{"runmedic_io_mode": "enforce"}
		}
		if err := srv.AddService(svc); err != nil {
			t.Fatal(err)
		}
	}
}

func TestListServices(t *testing.T) {
	srv := cloudruntest.New(t)
	addServices(t, srv, "p1", "europe-west1", 250)
	addServices(t, srv, "p1", "us-central1", 2)
	addServices(t, srv, "p2", "europe-west1", 1)
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	got, err := c.ListServices(context.Background(), "p1", "europe-west1")
	if err != nil {
		t.Fatalf("ListServices: %v", err)
	}
	if len(got) != 250 {
		t.Fatalf("ListServices listed %d services, want 250", len(got))
	}
	if n := srv.Calls("ListServices"); n != 3 {
		t.Errorf("ListServices took %d pages for 250 services, want 3 of 100", n)
	}
	want := cloudrun.Listed{
		Target: snapshot.Target{Project: "p1", Location: "europe-west1", Service: "svc-0249"},
		Labels: map[string]string{"runmedic_io_mode": "enforce"},
	}
	if diff := cmp.Diff(want, got[249]); diff != "" {
		t.Errorf("last listed (-want +got):\n%s", diff)
	}
	for _, l := range got {
		if l.Target.Location != "europe-west1" || l.Target.Project != "p1" {
			t.Errorf("listed %s, which is not in p1/europe-west1", l.Target.Name())
		}
	}
	if got, err := c.ListServices(context.Background(), "p3", "europe-west1"); err != nil || len(got) != 0 {
		t.Errorf("ListServices(empty location) = %d services, %v; want none, nil", len(got), err)
	}
}

func TestListServicesIsBounded(t *testing.T) {
	srv := cloudruntest.New(t)
	addServices(t, srv, "p1", "europe-west1", 1001)
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.ListServices(context.Background(), "p1", "europe-west1")
	if !errors.Is(err, cloudrun.ErrTruncated) {
		t.Fatalf("ListServices(1001 services) error = %v, want ErrTruncated", err)
	}
	if len(got) != 1000 || srv.Calls("ListServices") != 10 {
		t.Errorf("ListServices read %d services in %d pages, want 1000 in 10", len(got), srv.Calls("ListServices"))
	}
}

func TestListServicesErrors(t *testing.T) {
	srv := cloudruntest.New(t)
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ListServices(context.Background(), "p1", "-"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("ListServices(location -) = %v, want InvalidArgument", err)
	}
	srv.FailNext("ListServices", codes.PermissionDenied, 1)
	_, err = c.ListServices(context.Background(), "p1", "europe-west1")
	if status.Code(err) != codes.PermissionDenied || cloudrun.IsRetryable(err) {
		t.Errorf("ListServices(denied) = %v, want a PermissionDenied that is not retryable", err)
	}
}
