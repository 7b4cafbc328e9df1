package alert

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// boundedIncident is a valid notification for p-123456's service api with extra incident fields.
func boundedIncident(extra string) string {
	return `{"version":"1.2","incident":{"incident_id":"0.x","state":"open","started_at":1770200640,` +
		`"scoping_project_id":"scope-1",` +
		`"resource":{"type":"cloud_run_revision","labels":{"project_id":"p-123456","service_name":"api","location":"europe-west1"}}` + extra + `}}`
}

// manyLabels is a JSON object of n labels.
func manyLabels(n int) string {
	kv := make([]string, n)
	for i := range kv {
		kv[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return "{" + strings.Join(kv, ",") + "}"
}

// TestPayloadBoundsRefused: names and labels past their bounds are not an alert.
func TestPayloadBoundsRefused(t *testing.T) {
	long := strings.Repeat("a", MaxNameBytes+1)
	for _, tc := range []struct{ name, raw, contains string }{
		{"incident id too long", strings.Replace(boundedIncident(""), `"0.x"`, `"`+strings.Repeat("1", MaxIDBytes+1)+`"`, 1), "incident.incident_id is 257 bytes, longer than 256"},
		{"incident id with a slash", strings.Replace(boundedIncident(""), `"0.x"`, `"0/x"`, 1), `incident.incident_id "0/x" has a character outside printable ASCII, a space or a slash`},
		{"incident id with a space", strings.Replace(boundedIncident(""), `"0.x"`, `"0 x"`, 1), "a space or a slash"},
		{"policy name too long", boundedIncident(`,"policy_name":"` + long + `"`), "incident.policy_name is 2049 bytes, longer than 2048"},
		{"condition name too long", boundedIncident(`,"condition_name":"` + long + `"`), "incident.condition_name is 2049 bytes"},
		{"condition display name too long", boundedIncident(`,"condition":{"displayName":"` + long + `"}`), "incident.condition_name is 2049 bytes"},
		{"policy name with a newline", boundedIncident(`,"policy_name":"a\nb"`), `incident.policy_name "a\nb" has a control character at byte 1`},
		{"severity too long", boundedIncident(`,"severity":"` + long + `"`), "incident.severity is 2049 bytes"},
		{"too many policy labels", boundedIncident(`,"policy_user_labels":` + manyLabels(MaxLabels+1)), "incident.policy_user_labels has 65 labels, more than 64"},
		{"too many user labels", boundedIncident(`,"metadata":{"user_labels":` + manyLabels(MaxLabels+1) + `}`), "incident.metadata.user_labels has 65 labels"},
		{"label key too long", boundedIncident(`,"policy_user_labels":{"` + strings.Repeat("k", 129) + `":"v"}`), "incident.policy_user_labels: key"},
		{"label value too long", boundedIncident(`,"policy_user_labels":{"remediation":"` + strings.Repeat("v", 129) + `"}`), `incident.policy_user_labels."remediation" is 129 bytes, longer than 128`},
		{"too many resource labels", strings.Replace(boundedIncident(""), `"location":"europe-west1"}`, `"location":"europe-west1",`+strings.TrimPrefix(manyLabels(MaxLabels), "{"), 1), "incident.resource.labels has 67 labels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.raw))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Decode() error = %v, want ErrMalformed", err)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.contains) || strings.ContainsAny(msg, "\r\n") || len(msg) > 512 {
				t.Errorf("Decode() error = %q, want one short line containing %q", msg, tc.contains)
			}
		})
	}
}

// TestPayloadBoundsAccepted: the largest values within bounds decode as sent.
func TestPayloadBoundsAccepted(t *testing.T) {
	raw := boundedIncident(`,"policy_name":"` + strings.Repeat("p", MaxNameBytes) + `","policy_user_labels":` + manyLabels(MaxLabels))
	a, err := Decode([]byte(strings.Replace(raw, `"0.x"`, `"`+strings.Repeat("1", MaxIDBytes)+`"`, 1)))
	if err != nil {
		t.Fatalf("Decode() error = %v", err)
	}
	if len(a.Incident.ID) != MaxIDBytes || len(a.Incident.Policy) != MaxNameBytes || len(a.Incident.Labels) != MaxLabels {
		t.Errorf("Decode() kept id %d bytes, policy %d bytes, %d labels; want %d, %d, %d",
			len(a.Incident.ID), len(a.Incident.Policy), len(a.Incident.Labels), MaxIDBytes, MaxNameBytes, MaxLabels)
	}
}

// TestFreeTextCut: summary, documentation and non-numeric observed values are cut on a rune
// boundary, ending in "…".
func TestFreeTextCut(t *testing.T) {
	summary := strings.Repeat("é", MaxSummaryBytes) // 2 bytes each
	raw := boundedIncident(`,"summary":"` + summary + `","documentation":{"content":"` + strings.Repeat("d", 20000) +
		`"},"observed_value":"` + strings.Repeat("o", 1000) + `"`)
	a, err := Decode([]byte(raw))
	if err != nil {
		t.Fatalf("Decode() error = %v", err)
	}
	for _, f := range []struct {
		name string
		got  string
		max  int
	}{{"summary", a.Incident.Summary, MaxSummaryBytes}, {"documentation", a.Documentation, MaxDocumentationBytes}, {"observed text", a.Incident.ObservedText, MaxObservedTextBytes}} {
		if len(f.got) > f.max || len(f.got) < f.max-4 || !strings.HasSuffix(f.got, "…") || !utf8.ValidString(f.got) {
			t.Errorf("%s is %d bytes (valid UTF-8 %v), want cut to at most %d ending in …", f.name, len(f.got), utf8.ValidString(f.got), f.max)
		}
	}
	short := boundedIncident(`,"summary":"memory high"`)
	if a, err := Decode([]byte(short)); err != nil || a.Incident.Summary != "memory high" {
		t.Errorf("Decode(short summary) = %q, %v, want it as sent", a.Incident.Summary, err)
	}
}

// TestIncidentURL: only a Cloud Console incident URL of the scoping project or the service's
// project is kept; anything else is dropped with one warning and the alert still decodes.
func TestIncidentURL(t *testing.T) {
	for _, tc := range []struct{ name, url, warning string }{
		{"incidents path, scoping project", "https://console.cloud.google.com/monitoring/alerting/incidents/0.x?project=scope-1", ""},
		{"alerts path, service's project", "https://console.cloud.google.com/monitoring/alerting/alerts/0.x?channelType=cloud-pubsub&project=p-123456", ""},
		{"none", "", ""},
		{"another project", "https://console.cloud.google.com/monitoring/alerting/incidents/0.x?project=attacker", `project="attacker" is neither the scoping project nor the service's`},
		{"another host", "https://console.cloud.google.com.evil.example/monitoring/alerting/incidents/0.x?project=scope-1", "is not https://console.cloud.google.com"},
		{"plain http", "http://console.cloud.google.com/monitoring/alerting/incidents/0.x?project=scope-1", "is not https://console.cloud.google.com"},
		{"user info", "https://me@console.cloud.google.com/monitoring/alerting/incidents/0.x?project=scope-1", "is not https://console.cloud.google.com"},
		{"another page", "https://console.cloud.google.com/iam-admin/iam?project=scope-1", `path "/iam-admin/iam" is not /monitoring/alerting/incidents/ID`},
		{"no project", "https://console.cloud.google.com/monitoring/alerting/incidents/0.x", "no single project= parameter"},
		{"two projects", "https://console.cloud.google.com/monitoring/alerting/incidents/0.x?project=scope-1&project=x", "no single project= parameter"},
		{"javascript", "javascript:alert(1)", "is not https://console.cloud.google.com"},
		{"too long", "https://console.cloud.google.com/monitoring/alerting/incidents/0.x?project=scope-1&pad=" + strings.Repeat("a", MaxURLBytes), "longer than 2048"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := Decode([]byte(boundedIncident(`,"url":"` + tc.url + `"`)))
			if err != nil {
				t.Fatalf("Decode() error = %v", err)
			}
			if tc.warning == "" {
				if a.Incident.URL != tc.url || len(a.Warnings) != 0 {
					t.Errorf("Decode() URL = %q, warnings %q; want %q kept, no warning", a.Incident.URL, a.Warnings, tc.url)
				}
				return
			}
			if a.Incident.URL != "" || len(a.Warnings) != 1 || !strings.Contains(a.Warnings[0], tc.warning) || !strings.HasPrefix(a.Warnings[0], "incident.url dropped: ") {
				t.Errorf("Decode() URL = %q, warnings %q; want it dropped with one warning containing %q", a.Incident.URL, a.Warnings, tc.warning)
			}
			if len(a.Warnings) == 1 && len(a.Warnings[0]) > 256 {
				t.Errorf("warning is %d bytes, want a short line", len(a.Warnings[0]))
			}
		})
	}
}
