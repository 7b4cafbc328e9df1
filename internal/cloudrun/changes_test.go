package cloudrun

import (
	"encoding/json"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestApplyChangesNumbers: a plan file may write a cpu or a concurrency as a JSON number; the
// typed value reads it as the document wrote it.
func TestApplyChangesNumbers(t *testing.T) {
	tests := []struct{ raw, wantCPU string }{
		{`{"path":"template.cpu","after":2}`, "2"},
		{`{"path":"template.cpu","after":0.5}`, "0.5"},
		{`{"path":"template.cpu","after":"1000m"}`, "1000m"},
	}
	for _, tt := range tests {
		var c snapshot.Change
		if err := json.Unmarshal([]byte(tt.raw), &c); err != nil {
			t.Fatal(err)
		}
		svc := &runpb.Service{Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "i"}}}}
		if err := applyChanges(svc, []snapshot.Change{c}); err != nil {
			t.Errorf("applyChanges(%s): %v", tt.raw, err)
			continue
		}
		if got := svc.Template.Containers[0].Resources.GetLimits()["cpu"]; got != tt.wantCPU {
			t.Errorf("applyChanges(%s) cpu = %q, want %q", tt.raw, got, tt.wantCPU)
		}
	}
}
