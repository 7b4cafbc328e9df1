package scenario

import (
	"encoding/json"
	"testing"
	"time"
)

func TestShiftIncident(t *testing.T) {
	raw := []byte(`{"incident": {"incident_id": "0.a", "started_at": 1770201000, "ended_at": null, "observed_value": "0.934"}, "version": "1.2"}`)
	got, err := ShiftIncident(raw, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var n struct {
		Incident struct {
			StartedAt int64  `json:"started_at"`
			EndedAt   *int64 `json:"ended_at"`
			Observed  string `json:"observed_value"`
		} `json:"incident"`
		Version string `json:"version"`
	}
	if err := json.Unmarshal(got, &n); err != nil {
		t.Fatal(err)
	}
	if n.Incident.StartedAt != 1770201000+3600 || n.Incident.EndedAt != nil || n.Incident.Observed != "0.934" || n.Version != "1.2" {
		t.Errorf("ShiftIncident(+1h) = %s, want started_at moved by 3600 and nothing else changed", got)
	}
	if _, err := ShiftIncident([]byte(`{`), time.Hour); err == nil {
		t.Error("ShiftIncident(not JSON) = nil error")
	}
}
