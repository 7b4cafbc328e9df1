package cloudrun_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/snapshot"
)

const state = `{"v":1,"actions":[{"incident":"0.abc"}]}`

// decoded returns changes as encoding/json returns them from a plan file.
func decoded(t *testing.T, text string) []snapshot.Change {
	t.Helper()
	var out []snapshot.Change
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("decode changes: %v", err)
	}
	return out
}

// jsonValue reads one change value as a plan file may write it.
func jsonValue(text string) snapshot.Value {
	var v snapshot.Value
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		panic(err)
	}
	return v
}

func latest100() []snapshot.TrafficTarget {
	return []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
}

func pinned(rev string) []snapshot.TrafficTarget {
	return []snapshot.TrafficTarget{{Type: snapshot.TrafficRevision, Revision: rev, Percent: 100}}
}

// TestApply checks the service Cloud Run ends up with, read back through Observe.
func TestApply(t *testing.T) {
	tests := []struct {
		name         string
		seed         func(*snapshot.Snapshot)
		changes      func(t *testing.T) []snapshot.Change
		wantRevision bool              // a new revision was created
		wantTemplate snapshot.Template // the service's template afterwards
		wantTraffic  []snapshot.TrafficTarget
		wantServing  string // the revision serving 100 %; "new" for the created one
	}{
		{
			name: "raise memory",
			changes: func(*testing.T) []snapshot.Change {
				return []snapshot.Change{{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")}}
			},
			wantRevision: true,
			wantTemplate: snapshot.Template{Image: image, Memory: "4Gi", CPU: "1", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  latest100(),
			wantServing:  "new",
		},
		{
			name: "raise memory and cpu from a json plan",
			changes: func(t *testing.T) []snapshot.Change {
				return decoded(t, `[{"path":"template.memory","before":"2Gi","after":"8Gi"},
					{"path":"template.cpu","before":"1","after":2}]`)
			},
			wantRevision: true,
			wantTemplate: snapshot.Template{Image: image, Memory: "8Gi", CPU: "2", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  latest100(),
			wantServing:  "new",
		},
		{
			name: "rollback is traffic only",
			changes: func(*testing.T) []snapshot.Change {
				return []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue(latest100()), After: snapshot.TrafficValue(pinned(oldRev))}}
			},
			wantTemplate: snapshot.Template{Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  pinned(oldRev),
			wantServing:  oldRev,
		},
		{
			name: "rollback from a json plan",
			changes: func(t *testing.T) []snapshot.Change {
				return decoded(t, `[{"path":"traffic","before":[{"type":"LATEST","percent":100}],
					"after":[{"type":"REVISION","revision":"`+oldRev+`","percent":100}]}]`)
			},
			wantTemplate: snapshot.Template{Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  pinned(oldRev),
			wantServing:  oldRev,
		},
		{
			name: "raise memory on a pinned service",
			seed: func(s *snapshot.Snapshot) {
				s.Service.Traffic = pinned(oldRev)
				s.Revisions[0].TrafficPercent, s.Revisions[1].TrafficPercent = 0, 100
			},
			changes: func(*testing.T) []snapshot.Change {
				return []snapshot.Change{
					{Path: snapshot.PathImage, Before: snapshot.TextValue(image), After: snapshot.TextValue(oldImage)},
					{Path: snapshot.PathMemory, Before: snapshot.TextValue("2Gi"), After: snapshot.TextValue("4Gi")},
					{Path: snapshot.PathTraffic, Before: snapshot.TrafficValue(pinned(oldRev)), After: snapshot.TrafficValue(latest100())},
				}
			},
			wantRevision: true,
			wantTemplate: snapshot.Template{Image: oldImage, Memory: "4Gi", CPU: "1", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  latest100(),
			wantServing:  "new",
		},
		{
			name: "lower concurrency from a json plan",
			changes: func(t *testing.T) []snapshot.Change {
				return decoded(t, `[{"path":"template.max_concurrency","before":80,"after":40}]`)
			},
			wantRevision: true,
			wantTemplate: snapshot.Template{Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 40, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  latest100(),
			wantServing:  "new",
		},
		{
			name: "restart keeps the spec",
			changes: func(*testing.T) []snapshot.Change {
				return []snapshot.Change{{Path: snapshot.PathRestart, Before: snapshot.TextValue(""), After: snapshot.TextValue("0.abc")}}
			},
			wantRevision: true,
			wantTemplate: snapshot.Template{Image: image, Memory: "2Gi", CPU: "1", MaxConcurrency: 80, MinInstances: 1, MaxInstances: 20},
			wantTraffic:  latest100(),
			wantServing:  "new",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := fixture()
			if tt.seed != nil {
				tt.seed(&snap)
			}
			srv, c := start(t, snap)
			res, err := c.Apply(context.Background(), target, snap.Service.Etag, tt.changes(t), map[string]string{cloudrun.StateAnnotation: state})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			got := observe(t, c)

			if got.Service.Generation != 13 || got.Service.Etag == snap.Service.Etag {
				t.Errorf("generation %d etag %s; want 13 and a new etag", got.Service.Generation, got.Service.Etag)
			}
			if diff := cmp.Diff(tt.wantTemplate, got.Service.Template); diff != "" {
				t.Errorf("template (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTraffic, got.Service.Traffic); diff != "" {
				t.Errorf("traffic (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(res.Service, got.Service); diff != "" {
				t.Errorf("Result.Service differs from the service read back (-result +read):\n%s", diff)
			}
			newRevs := len(got.Revisions) - len(snap.Revisions)
			if tt.wantRevision != (newRevs == 1) || newRevs > 1 || tt.wantRevision != (res.Revision != "") {
				t.Fatalf("%d new revisions, Result.Revision %q; want new revision = %v", newRevs, res.Revision, tt.wantRevision)
			}
			serving := tt.wantServing
			if serving == "new" {
				serving = res.Revision
				if got.Revisions[0].Name != res.Revision || got.Revisions[0].Image != tt.wantTemplate.Image ||
					got.Revisions[0].Memory != tt.wantTemplate.Memory || !got.Revisions[0].Ready {
					t.Errorf("newest revision = %+v, want %s, ready, with the template's image and memory", got.Revisions[0], res.Revision)
				}
			}
			for _, r := range got.Revisions {
				if want := map[bool]int{true: 100, false: 0}[r.Name == serving]; r.TrafficPercent != want {
					t.Errorf("revision %s serves %d %%, want %d", r.Name, r.TrafficPercent, want)
				}
			}
			if !res.Ready || res.Operation == "" {
				t.Errorf("Result ready %v operation %q; want ready and an operation name", res.Ready, res.Operation)
			}
			if diff := cmp.Diff(map[string]string{"team": "api"}, got.Service.Labels); diff != "" {
				t.Errorf("labels (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(map[string]string{"owner": "backend"}, got.Service.Annotations); diff != "" {
				t.Errorf("annotations besides state (-want +got):\n%s", diff)
			}
			if got.StateAnnotation != state {
				t.Errorf("state annotation = %q, want %q", got.StateAnnotation, state)
			}
			if srv.UpdateCount(target.Name()) != 1 || srv.ValidateCount(target.Name()) != 1 {
				t.Errorf("updates %d validations %d, want 1 and 1", srv.UpdateCount(target.Name()), srv.ValidateCount(target.Name()))
			}
		})
	}
}

func TestApplyRestartMarksRevision(t *testing.T) {
	srv, c := start(t, fixture())
	res, err := c.Apply(context.Background(), target, `"e12"`, []snapshot.Change{{Path: snapshot.PathRestart, After: snapshot.TextValue("0.abc")}}, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	rev := srv.Revisions(target.Name())[0]
	if rev.GetName() != target.Name()+"/revisions/"+res.Revision || rev.GetAnnotations()[cloudrun.RestartAnnotation] != "0.abc" {
		t.Errorf("newest revision %s annotations %v; want %s marked %s=0.abc", rev.GetName(), rev.GetAnnotations(), res.Revision, cloudrun.RestartAnnotation)
	}
	if _, ok := srv.Service(target.Name()).GetAnnotations()[cloudrun.StateAnnotation]; ok {
		t.Errorf("empty state annotation was written; want the annotation left alone")
	}
}

// unchanged asserts the fake still holds before and saw no successful update.
func unchanged(t *testing.T, srv interface {
	Service(string) *runpb.Service
	UpdateCount(string) int
}, before *runpb.Service) {
	t.Helper()
	if after := srv.Service(target.Name()); !proto.Equal(before, after) {
		t.Errorf("service changed:\nbefore %v\nafter  %v", before, after)
	}
	if n := srv.UpdateCount(target.Name()); n != 0 {
		t.Errorf("UpdateCount = %d, want 0", n)
	}
}

func TestApplyStaleEtagIsConflict(t *testing.T) {
	srv, c := start(t, fixture())
	if err := srv.Modify(target.Name(), func(s *runpb.Service) { s.Labels["deployed-by"] = "ci" }); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	before := srv.Service(target.Name())
	_, err := c.Apply(context.Background(), target, `"e12"`, []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}, map[string]string{cloudrun.StateAnnotation: state})
	if !errors.Is(err, cloudrun.ErrConflict) || cloudrun.IsRetryable(err) {
		t.Fatalf("Apply(stale etag) = %v, want ErrConflict, not retryable", err)
	}
	unchanged(t, srv, before)
	if n := srv.ValidateCount(target.Name()); n != 0 {
		t.Errorf("ValidateCount = %d, want 0: nothing is sent on a stale etag", n)
	}
	if err := c.WriteState(context.Background(), target, `"e12"`, state); !errors.Is(err, cloudrun.ErrConflict) {
		t.Errorf("WriteState(stale etag) = %v, want ErrConflict", err)
	}
	unchanged(t, srv, before)
}

func TestApplyRefused(t *testing.T) {
	tests := []struct {
		name     string
		changes  []snapshot.Change
		wantCode codes.Code // codes.OK: refused by the adapter before any call
	}{
		{"16Gi on 1 cpu", []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("16Gi")}}, codes.InvalidArgument},
		{"traffic to a failed revision", []snapshot.Change{{Path: snapshot.PathTraffic, After: snapshot.TrafficValue(pinned(badRev))}}, codes.InvalidArgument},
		{"traffic to 90", []snapshot.Change{{Path: snapshot.PathTraffic, After: snapshot.TrafficValue([]snapshot.TrafficTarget{{Type: "LATEST", Percent: 90}})}}, codes.InvalidArgument},
		{"unknown path", []snapshot.Change{{Path: "template.gpu", After: snapshot.TextValue("1")}}, codes.OK},
		{"memory as a number", []snapshot.Change{{Path: snapshot.PathMemory, After: jsonValue("4.0")}}, codes.OK},
		{"concurrency not whole", []snapshot.Change{{Path: snapshot.PathMaxConcurrency, After: jsonValue("40.5")}}, codes.OK},
		{"traffic type unknown", []snapshot.Change{{Path: snapshot.PathTraffic, After: jsonValue(`[{"type":"TAG","percent":100}]`)}}, codes.OK},
		{"empty image", []snapshot.Change{{Path: snapshot.PathImage, After: snapshot.TextValue("")}}, codes.OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := start(t, fixture())
			before := srv.Service(target.Name())
			_, err := c.Apply(context.Background(), target, `"e12"`, tt.changes, map[string]string{cloudrun.StateAnnotation: state})
			if err == nil || status.Code(err) != tt.wantCode && tt.wantCode != codes.OK {
				t.Fatalf("Apply = %v, want an error with code %v", err, tt.wantCode)
			}
			if cloudrun.IsRetryable(err) || errors.Is(err, cloudrun.ErrConflict) {
				t.Errorf("Apply = %v classified retryable or conflict, want permanent", err)
			}
			unchanged(t, srv, before)
			if n := srv.ValidateCount(target.Name()); n != 0 {
				t.Errorf("ValidateCount = %d, want 0", n)
			}
		})
	}
}

// TestApplyUnavailable: the adapter never retries a write; the caller (Pub/Sub redelivery) does.
func TestApplyUnavailable(t *testing.T) {
	srv, c := start(t, fixture())
	srv.FailNext("UpdateService", codes.Unavailable, 2)
	changes := []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}
	for i := range 2 {
		if _, err := c.Apply(context.Background(), target, `"e12"`, changes, map[string]string{cloudrun.StateAnnotation: state}); !cloudrun.IsRetryable(err) || !snapshot.Retryable(err) {
			t.Fatalf("Apply #%d = %v, want a retryable error", i+1, err)
		}
	}
	if n := srv.UpdateCount(target.Name()); n != 0 {
		t.Fatalf("UpdateCount after two UNAVAILABLE = %d, want 0", n)
	}
	res, err := c.Apply(context.Background(), target, `"e12"`, changes, map[string]string{cloudrun.StateAnnotation: state})
	if err != nil {
		t.Fatalf("Apply #3: %v", err)
	}
	if n := len(srv.Revisions(target.Name())); n != 4 || srv.UpdateCount(target.Name()) != 1 || res.Revision == "" {
		t.Errorf("revisions %d updates %d new %q; want exactly one new revision", n, srv.UpdateCount(target.Name()), res.Revision)
	}
}

func TestApplyWaitsForOperation(t *testing.T) {
	srv, c := start(t, fixture())
	srv.SetOperationPolls(2)
	res, err := c.Apply(context.Background(), target, `"e12"`, []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}, map[string]string{cloudrun.StateAnnotation: state})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	got := observe(t, c)
	if !res.Ready || got.Reconciling || got.Service.LatestReadyRevision != res.Revision || got.Service.Template.Memory != "4Gi" {
		t.Errorf("after a polled operation: ready %v reconciling %v latest ready %s (new %s) memory %s",
			res.Ready, got.Reconciling, got.Service.LatestReadyRevision, res.Revision, got.Service.Template.Memory)
	}
}

func TestApplyRevisionNotReady(t *testing.T) {
	srv, c := start(t, fixture())
	srv.SetRevisionReadyFailure(target.Name())
	res, err := c.Apply(context.Background(), target, `"e12"`, []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}, map[string]string{cloudrun.StateAnnotation: state})
	var nr *cloudrun.RevisionNotReadyError
	if !errors.Is(err, cloudrun.ErrRevisionNotReady) || !errors.As(err, &nr) || cloudrun.IsRetryable(err) || errors.Is(err, cloudrun.ErrConflict) {
		t.Fatalf("Apply = %v, want a permanent ErrRevisionNotReady", err)
	}
	if nr.Revision == "" || nr.Revision != res.Revision || res.Ready || nr.Message == "" {
		t.Errorf("error %+v result %+v; want the failed revision named, with Cloud Run's reason", nr, res)
	}
	got := observe(t, c)
	if got.Service.LatestReadyRevision != curRev || got.Service.LatestCreatedRevision != res.Revision {
		t.Errorf("latest ready %s created %s; want ready still %s, created %s", got.Service.LatestReadyRevision, got.Service.LatestCreatedRevision, curRev, res.Revision)
	}
	for _, r := range got.Revisions {
		if (r.Name == curRev) != (r.TrafficPercent == 100) {
			t.Errorf("revision %s serves %d %%, want traffic left on %s", r.Name, r.TrafficPercent, curRev)
		}
	}
	if got.StateAnnotation != state {
		t.Errorf("state annotation = %q, want the record written with the change", got.StateAnnotation)
	}
}

func TestWriteState(t *testing.T) {
	srv, c := start(t, fixture())
	if err := c.WriteState(context.Background(), target, `"e12"`, state); err != nil {
		t.Fatalf("WriteState: %v", err)
	}
	got := observe(t, c)
	want := fixture().Service
	want.Etag, want.Generation = got.Service.Etag, 13
	if diff := cmp.Diff(want, got.Service); diff != "" || got.Service.Etag == `"e12"` {
		t.Errorf("service after WriteState, etag must move (-want +got):\n%s", diff)
	}
	if got.StateAnnotation != state || len(srv.Revisions(target.Name())) != 3 {
		t.Errorf("state %q revisions %d; want %q and no new revision", got.StateAnnotation, len(srv.Revisions(target.Name())), state)
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{status.Error(codes.Unavailable, "x"), true},
		{status.Error(codes.DeadlineExceeded, "x"), true},
		{status.Error(codes.ResourceExhausted, "x"), true},
		{status.Error(codes.Internal, "x"), true},
		{status.Error(codes.Aborted, "read aborted"), true},
		{context.Canceled, true},
		{status.Error(codes.Canceled, "x"), true},
		{context.DeadlineExceeded, true},
		{status.Error(codes.PermissionDenied, "x"), false},
		{status.Error(codes.NotFound, "x"), false},
		{status.Error(codes.InvalidArgument, "x"), false},
		{cloudrun.ErrConflict, false},
		{&cloudrun.RevisionNotReadyError{Err: status.Error(codes.Internal, "x")}, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := cloudrun.IsRetryable(tt.err); got != tt.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// A service deployed with a named revision returns template.revision; a template change must
// clear it or Cloud Run refuses the update (409), while a traffic-only change keeps it.
func TestApplyClearsNamedRevision(t *testing.T) {
	srv, c := start(t, fixture())
	if err := srv.Modify(target.Name(), func(s *runpb.Service) { s.Template.Revision = curRev }); err != nil {
		t.Fatalf("Modify: %v", err)
	}
	obs := observe(t, c)
	rb, err := c.Apply(context.Background(), target, obs.Service.Etag, []snapshot.Change{{Path: snapshot.PathTraffic, After: snapshot.TrafficValue(pinned(oldRev))}}, nil)
	if err != nil || rb.Revision != "" {
		t.Fatalf("Apply(rollback) = %+v, %v; want no new revision", rb, err)
	}
	if got := srv.Service(target.Name()).GetTemplate().GetRevision(); got != curRev {
		t.Errorf("template.revision after a traffic-only change = %q, want %q kept", got, curRev)
	}
	res, err := c.Apply(context.Background(), target, rb.Service.Etag, []snapshot.Change{{Path: snapshot.PathMemory, After: snapshot.TextValue("4Gi")}}, nil)
	if err != nil {
		t.Fatalf("Apply(raise) on a named revision: %v", err)
	}
	if res.Revision == "" || res.Revision == curRev || !res.Ready {
		t.Errorf("Result = %+v, want a new ready revision", res)
	}
}
