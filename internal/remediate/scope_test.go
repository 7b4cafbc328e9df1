package remediate_test

import (
	"fmt"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/guard"
)

// TestScopeByLabel delivers the insufficient-memory alert with the allowlist given by pattern and
// the live service labelled by label: the label narrows what the config allows, and a service it
// leaves off is read once, to learn that, and otherwise untouched.
func TestScopeByLabel(t *testing.T) {
	const (
		wildcard  = "services:\n  - {project: aiprod-484120, location: europe-west1, service: \"*\"%s}\n"
		named     = "services:\n  - {project: aiprod-484120, location: europe-west1, service: aiprod-api%s}\n"
		elsewhere = "services:\n  - {project: other-project, location: europe-west1, service: \"*\"}\n"
	)
	for _, tc := range []struct {
		name      string
		config    string
		label     string // the value of runmedic_io_mode, "" for no label
		want      audit.Outcome
		wantReads int // GetService calls when the service is left alone; -1: not counted
		changed   bool
	}{
		{"wildcard, opted in", fmt.Sprintf(wildcard, ""), "enforce", audit.Applied, -1, true},
		{"wildcard, not opted in", fmt.Sprintf(wildcard, ""), "", audit.Refused, 1, false},
		{"wildcard, opted out", fmt.Sprintf(wildcard, ""), "off", audit.Refused, 1, false},
		{"wildcard shadow, label enforce", fmt.Sprintf(wildcard, ", mode: shadow"), "enforce", audit.Shadow, -1, false},
		{"named enforce, label off", fmt.Sprintf(named, ""), "off", audit.Refused, 1, false},
		{"named enforce, label shadow", fmt.Sprintf(named, ""), "shadow", audit.Shadow, -1, false},
		{"another project's wildcard, label enforce", elsewhere, "enforce", audit.Refused, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "insufficient-memory", []byte(tc.config))
			if tc.label != "" {
				if err := e.run.Modify(e.name(), func(s *runpb.Service) {
					if s.Labels == nil {
						s.Labels = map[string]string{}
					}
					s.Labels[config.ModeLabel] = tc.label
				}); err != nil {
					t.Fatal(err)
				}
			}
			before := e.service()
			reads := e.run.Calls("GetService")
			ev, err := e.handle()
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if ev.Outcome != tc.want {
				t.Errorf("outcome %s, want %s (guard %+v)", ev.Outcome, tc.want, ev.Guard)
			}
			if n := e.run.Calls("GetService") - reads; tc.wantReads >= 0 && n != tc.wantReads {
				t.Errorf("GetService called %d times, want %d", n, tc.wantReads)
			}
			after := e.service()
			if got := !cmp.Equal(viewOf(before), viewOf(after)); got != tc.changed {
				t.Errorf("service spec changed %v, want %v", got, tc.changed)
			}
			if !tc.changed && tc.want == audit.Refused {
				if ev.Guard == nil || len(ev.Guard.Refusals) == 0 || ev.Guard.Refusals[0].Rule != guard.RuleAllowlist {
					t.Errorf("guard %+v, want refused by %s", ev.Guard, guard.RuleAllowlist)
				}
				if after.GetGeneration() != before.GetGeneration() || after.GetAnnotations()[cloudrun.StateAnnotation] != "" {
					t.Errorf("service written (generation %d -> %d, state %q), want untouched",
						before.GetGeneration(), after.GetGeneration(), after.GetAnnotations()[cloudrun.StateAnnotation])
				}
				if n := e.notify.Notifications(); len(n) != 0 {
					t.Errorf("notified %v about a service runmedic leaves alone", e.notify.steps())
				}
				if evs := e.audit.Events(); len(evs) != 1 || evs[0].Outcome != audit.Refused {
					t.Errorf("audit events %+v, want one refusal", evs)
				}
			}
			if tc.changed && viewOf(after).Memory != "4Gi" {
				t.Errorf("memory %s after the raise, want 4Gi", viewOf(after).Memory)
			}
		})
	}
}

// TestTickSkipsPatterns checks the verify tick walks the services the config names and never
// tries to read a "*" rule as if it were a service.
func TestTickSkipsPatterns(t *testing.T) {
	e := newEnv(t, "insufficient-memory", []byte("services:\n  - {project: aiprod-484120, location: europe-west1, service: \"*\"}\n  - {project: aiprod-484120, location: europe-west1, service: aiprod-api}\n"))
	reads := e.run.Calls("GetService")
	if _, err := e.r.Tick(e.ctx); err != nil {
		t.Fatalf("Tick: %v, want nil", err)
	}
	if n := e.run.Calls("GetService") - reads; n != 1 {
		t.Errorf("Tick read %d services, want 1: the named one", n)
	}
}
