package alert_test

import (
	"errors"
	"fmt"

	"github.com/runmedic/runmedic/internal/alert"
)

func ExampleDecode() {
	a, err := alert.Decode([]byte(`{
	  "version": "1.2",
	  "incident": {
	    "incident_id": "0.nrwotmyokd9n", "state": "open", "started_at": 1770200640, "ended_at": null,
	    "policy_name": "alert-memory-high", "policy_user_labels": {"remediation": "auto"},
	    "observed_value": "0.934", "threshold_value": "0.85",
	    "resource": {"type": "cloud_run_revision", "labels": {
	      "project_id": "aiprod-484120", "location": "europe-west1", "service_name": "aiprod-api"}},
	    "metric": {"type": "run.googleapis.com/container/memory/utilizations"}
	  }
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Incident.ID, a.Incident.State, *a.Incident.Observed, a.Incident.StartedAt.Format("2006-01-02T15:04:05Z07:00"))
	fmt.Println(a.Target.Name())

	_, err = alert.Decode([]byte(`{"version": "1.2", "incident": {"incident_id": "0.x", "state": "open", "started_at": 1770200640,
	  "resource": {"type": "gce_instance", "labels": {"project_id": "p", "zone": "us-central1-c"}}}}`))
	fmt.Println(errors.Is(err, alert.ErrUnsupportedResource), err)
	// Output:
	// 0.nrwotmyokd9n open 0.934 2026-02-04T10:24:00Z
	// projects/aiprod-484120/locations/europe-west1/services/aiprod-api
	// true alert: unsupported resource: resource type "gce_instance" is not cloud_run_revision; runmedic only remediates Cloud Run services
}
