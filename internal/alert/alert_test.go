package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sentinels are every refusal class; each error Decode returns wraps exactly one.
var sentinels = []error{ErrMalformed, ErrTestNotification, ErrUnsupportedVersion, ErrUnsupportedResource, ErrMissingLabels}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkGolden compares got with testdata/<name>.golden, rewriting it under -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestDecodeGolden(t *testing.T) {
	for _, name := range []string{
		"open", "closed", "cancelled", "renotify", "lenient",
		"push", "cloudevent_pubsub", "cloudevent_notification", "cloudevent_data_base64",
	} {
		t.Run(name, func(t *testing.T) {
			a, err := Decode(readFixture(t, name+".json"))
			if err != nil {
				t.Fatalf("Decode(%s.json) error = %v, want nil", name, err)
			}
			var got bytes.Buffer
			enc := json.NewEncoder(&got)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(a); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name, got.Bytes())
		})
	}
}

func TestDecodeRefusalFixtures(t *testing.T) {
	for _, tc := range []struct {
		name string
		want error
	}{
		{"test_notification", ErrTestNotification},
		{"gce_instance", ErrUnsupportedResource},
		{"labels_aggregated", ErrMissingLabels},
		{"labels_no_project", ErrMissingLabels},
		{"version_2", ErrUnsupportedVersion},
		{"push_bad_base64", ErrMalformed},
		{"not_json", ErrMalformed},
		{"no_incident", ErrMalformed},
		{"missing_incident_id", ErrMalformed},
		{"bad_state", ErrMalformed},
		{"unknown_wrapper", ErrMalformed},
		{"bad_service_name", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(readFixture(t, tc.name+".json"))
			checkRefusal(t, tc.name, err, tc.want)
			checkGolden(t, tc.name, []byte("error: "+err.Error()+"\n"))
		})
	}
}

// checkRefusal asserts err wraps want and no other sentinel, on one line.
func checkRefusal(t *testing.T, input string, err, want error) {
	t.Helper()
	if err == nil {
		t.Fatalf("Decode(%s) error = nil, want %v", input, want)
	}
	for _, s := range sentinels {
		if got := errors.Is(err, s); got != (s == want) {
			t.Errorf("errors.Is(Decode(%s) error %q, %v) = %v, want %v", input, err, s, got, s == want)
		}
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "alert: ") {
		t.Errorf("Decode(%s) error %q: want one line starting with \"alert: \"", input, msg)
	}
}

func TestDecodeRefusals(t *testing.T) {
	const res = `"resource":{"type":"cloud_run_revision","labels":{"project_id":"p-123456","service_name":"api","location":"europe-west1"}}`
	inc := func(extra string) string {
		return `{"version":"1.2","incident":{"incident_id":"0.x","state":"open","started_at":1770200640,` + res + extra + `}}`
	}
	for _, tc := range []struct {
		name, raw string
		want      error
		contains  string
	}{
		{"empty", ``, ErrMalformed, "payload is not JSON"},
		{"array", `[1,2]`, ErrMalformed, "payload is a JSON array, want an object"},
		{"null", `null`, ErrMalformed, "payload is JSON null"},
		{"incident null", `{"version":"1.2","incident":null}`, ErrMalformed, "no incident"},
		{"incident string", `{"incident":"0.x"}`, ErrMalformed, "incident: want an object, got string"},
		{"message and incident", `{"message":{},"incident":{}}`, ErrMalformed, "both message and incident"},
		{"push without data", `{"message":{"messageId":"1"}}`, ErrMalformed, "message.data is empty"},
		{"push message not object", `{"message":"hello"}`, ErrMalformed, "message: want an object, got string"},
		{"push data not notification", `{"message":{"data":"eyJhIjoxfQ=="}}`, ErrMalformed, "notification"},
		{"cloudevent old specversion", `{"specversion":"0.3","data":{}}`, ErrMalformed, `specversion "0.3" is not 1.0`},
		{"cloudevent no data", `{"specversion":"1.0","id":"1"}`, ErrMalformed, "no data or data_base64"},
		{"cloudevent both data", `{"specversion":"1.0","data":{},"data_base64":"e30="}`, ErrMalformed, "both data and data_base64"},
		{"cloudevent bad data_base64", `{"specversion":"1.0","data_base64":"%%%"}`, ErrMalformed, "data_base64: illegal base64 data at input byte 0"},
		{"cloudevent data of other shape", `{"specversion":"1.0","data":{"foo":1}}`, ErrMalformed, `keys ["foo"]; want message or incident`},
		{"cloudevent nested cloudevent", `{"specversion":"1.0","data":{"specversion":"1.0","data":{}}}`, ErrMalformed, "want message or incident"},
		{"missing started_at", `{"incident":{"incident_id":"0.x","state":"open",` + res + `}}`, ErrMalformed, `incident "0.x": started_at is missing`},
		{"started_at text", inc(`,"started_at":"yesterday"`), ErrMalformed, `incident.started_at: want Unix seconds, got "yesterday"`},
		{"started_at far future", inc(`,"started_at":1e300`), ErrMalformed, "out of range"},
		{"started_at negative", inc(`,"started_at":-5`), ErrMalformed, "out of range"},
		{"ended_at object", inc(`,"ended_at":{}`), ErrMalformed, "incident.ended_at: want a string, got object"},
		{"state missing", `{"incident":{"incident_id":"0.x","started_at":1,` + res + `}}`, ErrMalformed, `state "" is not open or closed`},
		{"label value object", inc(`,"policy_user_labels":{"a":{}}`), ErrMalformed, `incident.policy_user_labels: label "a": want a string, got object`},
		{"resource not object", `{"incident":{"incident_id":"0.x","state":"open","started_at":1,"resource":[]}}`, ErrMalformed, "incident.resource: want an object, got array"},
		{"location with slash", strings.Replace(inc(""), "europe-west1", "europe-west1/services/x", 1), ErrMalformed, "resource.labels.location"},
		{"version object", `{"version":{},"incident":{}}`, ErrMalformed, "version: want a string, got object"},
		{"version 0.9", `{"version":"0.9","incident":{}}`, ErrUnsupportedVersion, `version "0.9"`},
		{"version 1.x suffix", `{"version":"1.2-beta","incident":{}}`, ErrUnsupportedVersion, `version "1.2-beta"`},
		{"test without incident", `{"version":"test"}`, ErrTestNotification, "never acted on"},
		{"no resource type", `{"incident":{"incident_id":"0.x","state":"open","started_at":1}}`, ErrUnsupportedResource, "has no resource.type"},
		{"cloud run job", strings.Replace(inc(""), "cloud_run_revision", "cloud_run_job", 1), ErrUnsupportedResource, `resource type "cloud_run_job" is not cloud_run_revision`},
		{"blank service name", strings.Replace(inc(""), `"api"`, `"  "`, 1), ErrMissingLabels, "has no resource.labels service_name (aggregated away)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.raw))
			checkRefusal(t, tc.raw, err, tc.want)
			if err != nil && !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("Decode(%s) error = %q, want it to contain %q", tc.raw, err, tc.contains)
			}
		})
	}
}

// TestMissingLabelsMessage pins the advice an operator needs to fix the alert policy.
func TestMissingLabelsMessage(t *testing.T) {
	_, err := Decode(readFixture(t, "labels_aggregated.json"))
	for _, want := range []string{"project_id, service_name, location", "resource.label.service_name", "resource.label.location", "resource.label.project_id"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(labels_aggregated.json) error = %v, want it to contain %q", err, want)
		}
	}
}

// TestDecodeMessageData unwraps a push body the way the Cloud Function does (encoding/json into
// MessagePublishedData) and checks it decodes to what Decode makes of the whole body.
func TestDecodeMessageData(t *testing.T) {
	raw := readFixture(t, "push.json")
	var msg MessagePublishedData
	if err := json.Unmarshal(raw, &msg); err != nil {
		t.Fatalf("json.Unmarshal(push.json, MessagePublishedData) = %v", err)
	}
	wantMsg := Message{Attributes: map[string]string{}, MessageID: "12087154821753318", PublishTime: time.Date(2026, 2, 4, 10, 29, 3, 518e6, time.UTC)}
	if diff := cmp.Diff(wantMsg, msg.Message, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Data" }, cmp.Ignore())); diff != "" {
		t.Errorf("MessagePublishedData.Message mismatch (-want +got):\n%s", diff)
	}
	if !bytes.Equal(bytes.TrimSpace(msg.Message.Data[:1]), []byte("{")) {
		t.Errorf("Message.Data starts with %q, want the decoded JSON notification", msg.Message.Data[:1])
	}

	got, err := DecodeMessageData(msg.Message.Data)
	if err != nil {
		t.Fatalf("DecodeMessageData() error = %v", err)
	}
	whole, err := Decode(raw)
	if err != nil {
		t.Fatalf("Decode(push.json) error = %v", err)
	}
	if got.Delivery != (Delivery{Wrapper: WrapperNone}) {
		t.Errorf("DecodeMessageData().Delivery = %+v, want only Wrapper %q", got.Delivery, WrapperNone)
	}
	whole.Delivery = got.Delivery
	if diff := cmp.Diff(whole, got); diff != "" {
		t.Errorf("DecodeMessageData vs Decode(push) (-want +got):\n%s", diff)
	}

	// The message data is the notification only: a wrapper inside it is refused.
	if _, err := DecodeMessageData(raw); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeMessageData(push body) error = %v, want ErrMalformed", err)
	}
}

// TestMessagePublishedDataRoundTrip: what the exported type marshals, Decode reads.
func TestMessagePublishedDataRoundTrip(t *testing.T) {
	published := time.Date(2026, 2, 4, 10, 29, 3, 0, time.UTC)
	body, err := json.Marshal(MessagePublishedData{
		Message:      Message{Data: readFixture(t, "closed.json"), MessageID: "42", PublishTime: published},
		Subscription: "projects/p/subscriptions/s",
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Decode(body)
	if err != nil {
		t.Fatalf("Decode(marshalled MessagePublishedData) error = %v", err)
	}
	want := Delivery{Wrapper: WrapperPush, MessageID: "42", PublishTime: &published, Subscription: "projects/p/subscriptions/s"}
	if diff := cmp.Diff(want, a.Delivery); diff != "" {
		t.Errorf("Delivery mismatch (-want +got):\n%s", diff)
	}
	if a.Incident.State != "closed" {
		t.Errorf("Incident.State = %q, want closed", a.Incident.State)
	}
}

func TestIncidentMapping(t *testing.T) {
	ren, err := Decode(readFixture(t, "renotify.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Policy labels win over the resource's user labels on the same key; other keys are merged.
	if diff := cmp.Diff(map[string]string{"remediation": "auto", "team": "backend"}, ren.Incident.Labels); diff != "" {
		t.Errorf("renotify labels (-want +got):\n%s", diff)
	}
	open, err := Decode(readFixture(t, "open.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ren.Incident.ID != open.Incident.ID || ren.Incident.StartedAt != open.Incident.StartedAt {
		t.Errorf("re-notification id/start = %s/%v, want the original %s/%v", ren.Incident.ID, ren.Incident.StartedAt, open.Incident.ID, open.Incident.StartedAt)
	}

	canc, err := Decode(readFixture(t, "cancelled.json"))
	if err != nil {
		t.Fatal(err)
	}
	if canc.Incident.Observed != nil || !strings.HasPrefix(canc.Incident.ObservedText, "Incident cancelled") {
		t.Errorf("cancelled Observed = %v, ObservedText = %q, want nil and the text", canc.Incident.Observed, canc.Incident.ObservedText)
	}
	if canc.Incident.EndedAt == nil || !canc.Incident.EndedAt.After(canc.Incident.StartedAt) {
		t.Errorf("cancelled EndedAt = %v, want a time after StartedAt %v", canc.Incident.EndedAt, canc.Incident.StartedAt)
	}
}

func TestSupportedVersion(t *testing.T) {
	for v, want := range map[string]bool{"": true, "1": true, "1.2": true, "1.10": true, "1.": false, "1.2.3": false, "2.0": false, "test": false, "v1.2": false} {
		if got := supportedVersion(v); got != want {
			t.Errorf("supportedVersion(%q) = %v, want %v", v, got, want)
		}
	}
}
