package cloudrun_test

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/snapshot"
)

const (
	image    = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:42"
	oldImage = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:41"
	curRev   = "aiprod-api-00042-abc"
	oldRev   = "aiprod-api-00041-old"
	badRev   = "aiprod-api-00040-bad"
)

var target = snapshot.Target{Project: "aiprod-484120", Location: "europe-west1", Service: "aiprod-api"}

// fixture is aiprod-api serving curRev through LATEST, with an older ready revision on another
// image and a failed one.
func fixture() snapshot.Snapshot {
	at := time.Date(2026, 2, 4, 7, 10, 0, 0, time.UTC)
	return snapshot.Snapshot{
		Version: snapshot.Version,
		Target:  target,
		Service: snapshot.Service{
			Etag:        `"e12"`,
			Generation:  12,
			Labels:      map[string]string{"team": "api"},
			Annotations: map[string]string{"owner": "backend"},
			Template: snapshot.Template{
				Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20,
			},
			Traffic:               []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}},
			LatestReadyRevision:   curRev,
			LatestCreatedRevision: curRev,
		},
		Revisions: []snapshot.Revision{
			{Name: curRev, CreatedAt: at, Ready: true, Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, TrafficPercent: 100},
			{Name: oldRev, CreatedAt: at.Add(-24 * time.Hour), Ready: true, Image: oldImage, Memory: "2Gi", CPU: "1", MaxConcurrency: 80},
			{Name: badRev, CreatedAt: at.Add(-48 * time.Hour), Ready: false, Image: oldImage, Memory: "1Gi", CPU: "1", MaxConcurrency: 80},
		},
	}
}

// start serves snap from a fake and returns an adapter connected to it.
func start(t *testing.T, snap snapshot.Snapshot) (*cloudruntest.Server, *cloudrun.Client) {
	t.Helper()
	srv := cloudruntest.New(t)
	if err := srv.SeedFromSnapshot(snap); err != nil {
		t.Fatalf("SeedFromSnapshot: %v", err)
	}
	c, err := cloudrun.New(context.Background(), cloudrun.EndpointOptions(srv.Addr())...)
	if err != nil {
		t.Fatalf("cloudrun.New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func observe(t *testing.T, c *cloudrun.Client) cloudrun.Observation {
	t.Helper()
	obs, err := c.Observe(context.Background(), target)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return obs
}

func TestObserveRoundTripsSnapshot(t *testing.T) {
	snap := fixture()
	snap.Service.Annotations[cloudrun.StateAnnotation] = `{"v":1}`
	_, c := start(t, snap)
	got := observe(t, c)

	want := cloudrun.Observation{Service: fixture().Service, Revisions: fixture().Revisions, StateAnnotation: `{"v":1}`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Observe() mismatch (-want +got):\n%s", diff)
	}
}

func TestObserveDefaultsAndPinnedTraffic(t *testing.T) {
	srv := cloudruntest.New(t)
	name := target.Name()
	err := srv.AddService(&runpb.Service{
		Name: name, Etag: `"e1"`, Generation: 3,
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: image}}},
		Traffic: []*runpb.TrafficTarget{
			{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION, Revision: oldRev, Percent: 100},
		},
	},
		&runpb.Revision{Name: oldRev, CreateTime: nil, Containers: []*runpb.Container{{Image: oldImage}}},
		&runpb.Revision{Name: curRev, Containers: []*runpb.Container{{Image: image}}},
	)
	if err != nil {
		t.Fatalf("AddService: %v", err)
	}
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("cloudrun.New: %v", err)
	}
	defer c.Close()
	got := observe(t, c)

	wantTemplate := snapshot.Template{Image: image, Memory: "512Mi", CPU: "1", MaxConcurrency: 80}
	if diff := cmp.Diff(wantTemplate, got.Service.Template); diff != "" {
		t.Errorf("template with Cloud Run defaults (-want +got):\n%s", diff)
	}
	served := map[string]int{}
	for _, r := range got.Revisions {
		served[r.Name] = r.TrafficPercent
	}
	if diff := cmp.Diff(map[string]int{curRev: 0, oldRev: 100}, served); diff != "" {
		t.Errorf("traffic served per revision, pinned to %s (-want +got):\n%s", oldRev, diff)
	}
	if got.Revisions[0].Name != curRev {
		t.Errorf("newest revision = %s, want %s", got.Revisions[0].Name, curRev)
	}
}

func TestObserveMultiContainer(t *testing.T) {
	srv := cloudruntest.New(t)
	limits := func(m, c string) *runpb.ResourceRequirements {
		return &runpb.ResourceRequirements{Limits: map[string]string{"memory": m, "cpu": c}}
	}
	err := srv.AddService(&runpb.Service{
		Name: target.Name(),
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{
			{Name: "proxy", Image: "envoy", Resources: limits("256Mi", "1")},
			{Name: "api", Image: image, Resources: limits("2Gi", "2"), Ports: []*runpb.ContainerPort{{ContainerPort: 8080}}},
		}},
	})
	if err != nil {
		t.Fatalf("AddService: %v", err)
	}
	c, err := cloudrun.New(context.Background(), srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("cloudrun.New: %v", err)
	}
	defer c.Close()
	got := observe(t, c)
	want := []snapshot.Container{
		{Name: "proxy", Image: "envoy", Memory: "256Mi", CPU: "1"},
		{Name: "api", Image: image, Memory: "2Gi", CPU: "2", Serving: true},
	}
	if diff := cmp.Diff(want, got.Service.Containers); diff != "" {
		t.Errorf("containers (-want +got):\n%s", diff)
	}
	if got.Service.Template.Image != image || got.Service.Template.Memory != "2Gi" {
		t.Errorf("template = %+v, want the serving container %s at 2Gi", got.Service.Template, image)
	}
	if r := got.Revisions[0]; r.Image != image || r.Memory != "2Gi" || !r.Ready || r.TrafficPercent != 100 {
		t.Errorf("revision = %+v, want the serving container, ready, serving 100", r)
	}
}

func TestObserveErrors(t *testing.T) {
	srv, c := start(t, fixture())
	missing := target
	missing.Service = "nope"
	_, err := c.Observe(context.Background(), missing)
	if status.Code(err) != codes.NotFound || cloudrun.IsRetryable(err) || snapshot.Retryable(err) {
		t.Errorf("Observe(missing) = %v, want NOT_FOUND, not retryable", err)
	}

	srv.FailNext("GetService", codes.Unavailable, 2) // within the adapter's bounded read retries
	if _, err := c.Observe(context.Background(), target); err != nil {
		t.Errorf("Observe after 2 UNAVAILABLE = %v, want success", err)
	}
	srv.FailNext("GetService", codes.Unavailable, 3)
	// The orchestrator, which links no gRPC, sees the same through snapshot.Retryable.
	if _, err := c.Observe(context.Background(), target); !cloudrun.IsRetryable(err) || !snapshot.Retryable(err) || status.Code(err) != codes.Unavailable {
		t.Errorf("Observe after 3 UNAVAILABLE = %v, want a retryable UNAVAILABLE", err)
	}
}
