package cloudruntest_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/cloudruntest"
)

const (
	name   = "projects/aiprod-484120/locations/europe-west1/services/aiprod-api"
	image  = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:42"
	oldRev = "aiprod-api-00041-old"
	curRev = "aiprod-api-00042-abc"
	badRev = "aiprod-api-00040-bad"
)

var (
	latest   = runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
	revision = runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
)

func ctr(img, memory, cpu string) *runpb.Container {
	return &runpb.Container{
		Image:     img,
		Resources: &runpb.ResourceRequirements{Limits: map[string]string{"memory": memory, "cpu": cpu}},
		Ports:     []*runpb.ContainerPort{{Name: "http1", ContainerPort: 8080}},
	}
}

func rev(short string, at time.Time, ready bool, c *runpb.Container) *runpb.Revision {
	state := runpb.Condition_CONDITION_SUCCEEDED
	if !ready {
		state = runpb.Condition_CONDITION_FAILED
	}
	return &runpb.Revision{
		Name:                          short,
		CreateTime:                    timestamppb.New(at),
		Containers:                    []*runpb.Container{c},
		MaxInstanceRequestConcurrency: 80,
		Conditions:                    []*runpb.Condition{{Type: "Ready", State: state}},
	}
}

// start seeds aiprod-api at generation 12 serving curRev (2Gi, 1 CPU) through LATEST, with an
// older ready revision and a failed one, and returns real clients connected to the fake.
func start(t *testing.T) (*cloudruntest.Server, *run.ServicesClient, *run.RevisionsClient) {
	t.Helper()
	srv := cloudruntest.New(t)
	base := time.Date(2026, 2, 4, 7, 0, 0, 0, time.UTC)
	err := srv.AddService(&runpb.Service{
		Name:        name,
		Generation:  12,
		Etag:        `"e12"`,
		Labels:      map[string]string{"team": "api"},
		Annotations: map[string]string{"owner": "backend"},
		Template: &runpb.RevisionTemplate{
			Containers:                    []*runpb.Container{ctr(image, "2Gi", "1")},
			MaxInstanceRequestConcurrency: 80,
		},
		Traffic:               []*runpb.TrafficTarget{{Type: latest, Percent: 100}},
		LatestReadyRevision:   curRev,
		LatestCreatedRevision: curRev,
	},
		rev(badRev, base.Add(-2*time.Hour), false, ctr(image, "1Gi", "1")),
		rev(oldRev, base.Add(-time.Hour), true, ctr(image, "2Gi", "1")),
		rev(curRev, base, true, ctr(image, "2Gi", "1")),
	)
	if err != nil {
		t.Fatalf("AddService: %v", err)
	}
	ctx := context.Background()
	sc, err := run.NewServicesClient(ctx, srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewServicesClient: %v", err)
	}
	t.Cleanup(func() { sc.Close() })
	rc, err := run.NewRevisionsClient(ctx, srv.ClientOptions()...)
	if err != nil {
		t.Fatalf("NewRevisionsClient: %v", err)
	}
	t.Cleanup(func() { rc.Close() })
	return srv, sc, rc
}

func get(t *testing.T, sc *run.ServicesClient) *runpb.Service {
	t.Helper()
	svc, err := sc.GetService(context.Background(), &runpb.GetServiceRequest{Name: name})
	if err != nil {
		t.Fatalf("GetService: %v", err)
	}
	return svc
}

func update(t *testing.T, sc *run.ServicesClient, svc *runpb.Service) *runpb.Service {
	t.Helper()
	ctx := context.Background()
	op, err := sc.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: svc})
	if err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	got, err := op.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	return got
}

func TestUpdateServiceRejects(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*runpb.Service)
		wantCode codes.Code
		wantMsg  string
	}{
		{"stale etag", func(s *runpb.Service) { s.Etag = `"e11"` }, codes.Aborted, "etag mismatch"},
		{"traffic sum 90", func(s *runpb.Service) {
			s.Traffic = []*runpb.TrafficTarget{{Type: latest, Percent: 90}}
		}, codes.InvalidArgument, "must add up to 100"},
		{"unknown revision", func(s *runpb.Service) {
			s.Traffic = []*runpb.TrafficTarget{{Type: revision, Revision: "aiprod-api-00007-zzz", Percent: 100}}
		}, codes.InvalidArgument, "Revision 'aiprod-api-00007-zzz' does not exist or is deleted"},
		{"revision not ready", func(s *runpb.Service) {
			s.Traffic = []*runpb.TrafficTarget{{Type: revision, Revision: badRev, Percent: 100}}
		}, codes.InvalidArgument, "is not ready and cannot serve traffic"},
		{"duplicate tag", func(s *runpb.Service) {
			s.Traffic = []*runpb.TrafficTarget{{Type: latest, Percent: 50, Tag: "a"}, {Type: revision, Revision: oldRev, Percent: 50, Tag: "a"}}
		}, codes.InvalidArgument, "tag 'a'"},
		{"reserved service annotation", func(s *runpb.Service) {
			s.Annotations["run.googleapis.com/ingress"] = "all"
		}, codes.InvalidArgument, "run.googleapis.com/ingress"},
		{"reserved template annotation", func(s *runpb.Service) {
			s.Template.Annotations = map[string]string{"autoscaling.knative.dev/maxScale": "3"}
		}, codes.InvalidArgument, "autoscaling.knative.dev/maxScale"},
		{"16Gi on 1 cpu", func(s *runpb.Service) {
			s.Template.Containers[0].Resources.Limits["memory"] = "16Gi"
		}, codes.InvalidArgument, "For 1 CPU, memory must be between 128Mi and 4Gi"},
		{"above 32Gi", func(s *runpb.Service) {
			s.Template.Containers[0].Resources.Limits = map[string]string{"memory": "64Gi", "cpu": "8"}
		}, codes.InvalidArgument, "at most 32Gi"},
		{"cpu 3", func(s *runpb.Service) {
			s.Template.Containers[0].Resources.Limits["cpu"] = "3"
		}, codes.InvalidArgument, "cpu must be one of"},
		{"named revision exists with other spec", func(s *runpb.Service) {
			s.Template.Revision = curRev
			s.Template.Containers[0].Resources.Limits["memory"] = "4Gi"
		}, codes.AlreadyExists, "Revision named '" + curRev + "' with different configuration already exists."},
		{"unknown service", func(s *runpb.Service) {
			s.Name = strings.Replace(name, "aiprod-api", "other", 1)
		}, codes.NotFound, "Resource 'other' of kind 'SERVICE' in region 'europe-west1' in project 'aiprod-484120' does not exist."},
	}
	for _, tt := range tests {
		for _, validateOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/validate_only=%v", tt.name, validateOnly), func(t *testing.T) {
				srv, sc, _ := start(t)
				before := srv.Service(name)
				svc := get(t, sc)
				tt.edit(svc)
				_, err := sc.UpdateService(context.Background(), &runpb.UpdateServiceRequest{Service: svc, ValidateOnly: validateOnly})
				if status.Code(err) != tt.wantCode || !strings.Contains(status.Convert(err).Message(), tt.wantMsg) {
					t.Fatalf("UpdateService(validate_only=%v) = %v, want %v containing %q", validateOnly, err, tt.wantCode, tt.wantMsg)
				}
				if after := srv.Service(name); !proto.Equal(before, after) {
					t.Errorf("service changed by a rejected update:\nbefore %v\nafter  %v", before, after)
				}
				if n := len(srv.Revisions(name)); n != 3 {
					t.Errorf("revisions = %d, want 3", n)
				}
				if n := srv.UpdateCount(name) + srv.ValidateCount(name); n != 0 {
					t.Errorf("UpdateCount+ValidateCount = %d, want 0", n)
				}
			})
		}
	}
}

var revName = regexp.MustCompile(`^aiprod-api-00013-[a-z]{3}$`)

func TestTemplateChangeCreatesRevision(t *testing.T) {
	srv, sc, rc := start(t)
	svc := get(t, sc)
	svc.Template.Containers[0].Resources.Limits["memory"] = "4Gi"
	got := update(t, sc, svc)

	if got.GetGeneration() != 13 || got.GetEtag() == `"e12"` {
		t.Errorf("generation, etag = %d, %s; want 13 and a new etag", got.GetGeneration(), got.GetEtag())
	}
	short := got.GetLatestCreatedRevision()[strings.LastIndex(got.GetLatestCreatedRevision(), "/")+1:]
	if !revName.MatchString(short) {
		t.Errorf("new revision %q, want <service>-00013-<3 letters>", short)
	}
	if got.GetLatestReadyRevision() != got.GetLatestCreatedRevision() {
		t.Errorf("latest ready %q, want the new revision %q", got.GetLatestReadyRevision(), got.GetLatestCreatedRevision())
	}
	st := got.GetTrafficStatuses()
	if len(st) != 1 || st[0].GetRevision() != short || st[0].GetPercent() != 100 {
		t.Errorf("traffic statuses = %v, want LATEST resolved to %s at 100", st, short)
	}
	revs := srv.Revisions(name)
	if len(revs) != 4 || revs[0].GetName() != got.GetLatestCreatedRevision() {
		t.Fatalf("revisions newest first = %v, want 4 starting with %s", revs, short)
	}
	if m := revs[0].GetContainers()[0].GetResources().GetLimits()["memory"]; m != "4Gi" {
		t.Errorf("new revision memory = %q, want 4Gi", m)
	}
	r, err := rc.GetRevision(context.Background(), &runpb.GetRevisionRequest{Name: got.GetLatestCreatedRevision()})
	if err != nil || r.GetConditions()[0].GetState() != runpb.Condition_CONDITION_SUCCEEDED {
		t.Errorf("GetRevision(new) = %v, %v; want a Ready revision", r, err)
	}

	// A second server with the same history names the revision identically.
	_, sc2, _ := start(t)
	svc2 := get(t, sc2)
	svc2.Template.Containers[0].Resources.Limits["memory"] = "4Gi"
	if got2 := update(t, sc2, svc2); got2.GetLatestCreatedRevision() != got.GetLatestCreatedRevision() {
		t.Errorf("revision names differ across servers: %s, %s", got2.GetLatestCreatedRevision(), got.GetLatestCreatedRevision())
	}
}

func TestNonTemplateChangesCreateNoRevision(t *testing.T) {
	tests := []struct {
		name string
		edit func(*runpb.Service)
	}{
		{"traffic pinned", func(s *runpb.Service) {
			s.Traffic = []*runpb.TrafficTarget{{Type: revision, Revision: oldRev, Percent: 100}}
		}},
		{"annotation", func(s *runpb.Service) { s.Annotations["runmedic.aiprod.ai/state"] = "{}" }},
		{"label", func(s *runpb.Service) { s.Labels["env"] = "prod" }},
		{"same template with its revision name", func(s *runpb.Service) { s.Template.Revision = curRev }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, sc, _ := start(t)
			svc := get(t, sc)
			tt.edit(svc)
			got := update(t, sc, svc)
			if n := len(srv.Revisions(name)); n != 3 {
				t.Errorf("revisions = %d, want 3 (no new revision)", n)
			}
			if got.GetGeneration() != 13 || got.GetEtag() == `"e12"` || srv.UpdateCount(name) != 1 {
				t.Errorf("generation %d etag %s updates %d; want 13, a new etag, 1", got.GetGeneration(), got.GetEtag(), srv.UpdateCount(name))
			}
			if !strings.HasSuffix(got.GetLatestCreatedRevision(), "/"+curRev) {
				t.Errorf("latest created = %s, want %s", got.GetLatestCreatedRevision(), curRev)
			}
		})
	}
}

func TestTrafficPinnedStatus(t *testing.T) {
	_, sc, _ := start(t)
	svc := get(t, sc)
	svc.Traffic = []*runpb.TrafficTarget{{Type: revision, Revision: oldRev, Percent: 90}, {Type: latest, Percent: 10, Tag: "canary"}}
	got := update(t, sc, svc)
	want := []*runpb.TrafficTargetStatus{
		{Type: revision, Revision: oldRev, Percent: 90},
		{Type: latest, Revision: curRev, Percent: 10, Tag: "canary"},
	}
	if len(got.GetTrafficStatuses()) != len(want) {
		t.Fatalf("traffic statuses = %v, want %v", got.GetTrafficStatuses(), want)
	}
	for i := range want {
		if !proto.Equal(got.GetTrafficStatuses()[i], want[i]) {
			t.Errorf("traffic status %d = %v, want %v", i, got.GetTrafficStatuses()[i], want[i])
		}
	}
}

func TestValidateOnlyChangesNothing(t *testing.T) {
	srv, sc, _ := start(t)
	before := srv.Service(name)
	svc := get(t, sc)
	svc.Template.Containers[0].Resources.Limits["memory"] = "4Gi"
	if _, err := sc.UpdateService(context.Background(), &runpb.UpdateServiceRequest{Service: svc, ValidateOnly: true}); err != nil {
		t.Fatalf("UpdateService(validate_only): %v", err)
	}
	if after := srv.Service(name); !proto.Equal(before, after) {
		t.Errorf("validate_only changed the service:\nbefore %v\nafter  %v", before, after)
	}
	if srv.ValidateCount(name) != 1 || srv.UpdateCount(name) != 0 || len(srv.Revisions(name)) != 3 {
		t.Errorf("validations %d updates %d revisions %d; want 1, 0, 3",
			srv.ValidateCount(name), srv.UpdateCount(name), len(srv.Revisions(name)))
	}
}

func TestOperationNeedsPolling(t *testing.T) {
	srv, sc, _ := start(t)
	srv.SetOperationPolls(1)
	svc := get(t, sc)
	svc.Template.Containers[0].Resources.Limits["memory"] = "4Gi"
	ctx := context.Background()
	op, err := sc.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: svc})
	if err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	if op.Done() || !srv.Service(name).GetReconciling() {
		t.Fatalf("operation done = %v, reconciling = %v; want a pending rollout", op.Done(), srv.Service(name).GetReconciling())
	}
	got, err := op.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	mem := got.GetTemplate().GetContainers()[0].GetResources().GetLimits()["memory"]
	if mem != "4Gi" || srv.Service(name).GetReconciling() {
		t.Errorf("after wait: memory %q reconciling %v; want 4Gi, false", mem, srv.Service(name).GetReconciling())
	}
}

func TestRevisionNeverReady(t *testing.T) {
	srv, sc, _ := start(t)
	srv.SetRevisionReadyFailure(name)
	svc := get(t, sc)
	svc.Template.Containers[0].Image = image + "-broken"
	ctx := context.Background()
	op, err := sc.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: svc})
	if err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	if _, err := op.Wait(ctx); !strings.Contains(err.Error(), "is not ready and cannot serve traffic") {
		t.Fatalf("Wait = %v, want the revision-not-ready error", err)
	}
	got := srv.Service(name)
	if !strings.HasSuffix(got.GetLatestReadyRevision(), "/"+curRev) || got.GetLatestCreatedRevision() == got.GetLatestReadyRevision() {
		t.Errorf("latest ready %s created %s; want ready still %s and a new created one", got.GetLatestReadyRevision(), got.GetLatestCreatedRevision(), curRev)
	}
	if st := got.GetTrafficStatuses(); len(st) != 1 || st[0].GetRevision() != curRev {
		t.Errorf("traffic statuses = %v, want still on %s", st, curRev)
	}
	if got.GetTerminalCondition().GetState() != runpb.Condition_CONDITION_FAILED {
		t.Errorf("terminal condition = %v, want failed", got.GetTerminalCondition())
	}
}

func TestFailNext(t *testing.T) {
	srv, sc, _ := start(t)
	srv.FailNext("UpdateService", codes.Unavailable, 2)
	for i := range 2 {
		svc := get(t, sc)
		svc.Labels["try"] = "x"
		if _, err := sc.UpdateService(context.Background(), &runpb.UpdateServiceRequest{Service: svc}); status.Code(err) != codes.Unavailable {
			t.Fatalf("UpdateService #%d = %v, want UNAVAILABLE", i+1, err)
		}
	}
	svc := get(t, sc)
	svc.Labels["try"] = "x"
	update(t, sc, svc)
	if srv.UpdateCount(name) != 1 || srv.Service(name).GetLabels()["try"] != "x" {
		t.Errorf("updates = %d, labels = %v; want the third call applied once", srv.UpdateCount(name), srv.Service(name).GetLabels())
	}
}

func TestModifyMovesEtag(t *testing.T) {
	srv, sc, _ := start(t)
	svc := get(t, sc)
	if err := srv.Modify(name, func(s *runpb.Service) { s.Labels["by"] = "someone" }); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	svc.Labels["by"] = "us"
	if _, err := sc.UpdateService(context.Background(), &runpb.UpdateServiceRequest{Service: svc}); status.Code(err) != codes.Aborted {
		t.Fatalf("UpdateService with the pre-Modify etag = %v, want ABORTED", err)
	}
	if got := srv.Service(name); got.GetGeneration() != 13 || got.GetLabels()["by"] != "someone" {
		t.Errorf("generation %d labels %v; want 13 and the out-of-band label", got.GetGeneration(), got.GetLabels())
	}
}

func TestListRevisionsPages(t *testing.T) {
	_, _, rc := start(t)
	it := rc.ListRevisions(context.Background(), &runpb.ListRevisionsRequest{Parent: name, PageSize: 1})
	var got []string
	for {
		r, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatalf("ListRevisions: %v", err)
		}
		got = append(got, r.GetName()[strings.LastIndex(r.GetName(), "/")+1:])
	}
	want := []string{curRev, oldRev, badRev}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ListRevisions = %v, want %v (newest first)", got, want)
	}
}
