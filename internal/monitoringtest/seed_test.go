package monitoringtest

import (
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/runmedic/runmedic/internal/snapshot"
)

func TestSeedServesRevisionSeries(t *testing.T) {
	s := New(t)
	s.SeedFromSnapshot(snapshot.Snapshot{Target: api, Metrics: snapshot.Metrics{
		MemoryUtilization: minutes(t0, 0.6, 0.8, 0.9),
		MemoryByRevision: map[string][]snapshot.Point{
			"api-00001": minutes(t0, 0.6, 0.5, 0.5),
			"api-00002": minutes(t0, 0.3, 0.8, 0.9),
		},
	}})
	s.SeedFromSnapshot(snapshot.Snapshot{Target: worker, Metrics: snapshot.Metrics{
		MemoryByRevision: map[string][]snapshot.Point{"worker-00001": minutes(t0, 0.99, 0.99, 0.99)},
	}})
	c := client(t, s)
	byRevision := func(by string) *monitoringpb.Aggregation {
		return &monitoringpb.Aggregation{AlignmentPeriod: durationpb.New(time.Minute),
			PerSeriesAligner:   monitoringpb.Aggregation_ALIGN_PERCENTILE_99,
			CrossSeriesReducer: monitoringpb.Aggregation_REDUCE_MAX, GroupByFields: []string{by}}
	}
	service := `metric.type = "` + memMetric + `" AND resource.labels.service_name = "api"`
	newestFirst := func(pts []snapshot.Point) []snapshot.Point {
		out := make([]snapshot.Point, len(pts))
		for i, p := range pts {
			out[len(pts)-1-i] = p
		}
		return out
	}

	got, err := list(t, c, request(service, t0, t0.Add(time.Hour), byRevision("resource.label.revision_name")))
	if err != nil {
		t.Fatal(err)
	}
	gotByRev := map[string][]snapshot.Point{}
	for _, ts := range got {
		rev := ts.GetResource().GetLabels()["revision_name"]
		gotByRev[rev] = points([]*monitoringpb.TimeSeries{ts})
	}
	want := map[string][]snapshot.Point{ // the service-level series has no revision: a group of its own
		"":          newestFirst(minutes(t0, 0.6, 0.8, 0.9)),
		"api-00001": newestFirst(minutes(t0, 0.6, 0.5, 0.5)),
		"api-00002": newestFirst(minutes(t0, 0.3, 0.8, 0.9)),
	}
	if diff := cmp.Diff(want, gotByRev); diff != "" {
		t.Errorf("series by revision (-want +got):\n%s", diff)
	}

	// The service-level maximum is the snapshot's memory series.
	got, err = list(t, c, request(service, t0, t0.Add(time.Hour), byRevision("resource.label.service_name")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(newestFirst(minutes(t0, 0.6, 0.8, 0.9)), points(got)); diff != "" {
		t.Errorf("service maximum (-want +got):\n%s", diff)
	}

	// A filter on one revision keeps only it.
	got, err = list(t, c, request(service+` AND resource.labels.revision_name = "api-00001"`, t0, t0.Add(time.Hour), nil))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(newestFirst(minutes(t0, 0.6, 0.5, 0.5)), points(got)); diff != "" {
		t.Errorf("one revision (-want +got):\n%s", diff)
	}
}
