package alert

import (
	"encoding/json"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// TestDecodeSDKCloudEvents feeds Decode structured CloudEvents as the CloudEvents SDK (which the
// functions framework uses) serialises them: JSON data inline, binary data as data_base64.
func TestDecodeSDKCloudEvents(t *testing.T) {
	notification := readFixture(t, "open.json")
	for _, tc := range []struct {
		name        string
		contentType string
		data        any
		wantMessage string
	}{
		{"pubsub message as json", event.ApplicationJSON, MessagePublishedData{Message: Message{Data: notification, MessageID: "77"}}, "77"},
		{"notification as json", event.ApplicationJSON, json.RawMessage(notification), ""},
		{"notification as binary", "application/octet-stream", notification, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := event.New()
			e.SetID("evt-1")
			e.SetSource("//pubsub.googleapis.com/projects/p/topics/t")
			e.SetType("google.cloud.pubsub.topic.v1.messagePublished")
			if err := e.SetData(tc.contentType, tc.data); err != nil {
				t.Fatal(err)
			}
			raw, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			a, err := Decode(raw)
			if err != nil {
				t.Fatalf("Decode(%s) error = %v", raw, err)
			}
			if a.Delivery.Wrapper != WrapperCloudEvent || a.Delivery.EventID != "evt-1" || a.Delivery.MessageID != tc.wantMessage {
				t.Errorf("Delivery = %+v, want cloudevent evt-1 with message %q", a.Delivery, tc.wantMessage)
			}
			if a.Incident.ID != "0.nrwotmyokd9n" || a.Target.Service != "aiprod-api" {
				t.Errorf("Decode() = incident %q target %+v, want 0.nrwotmyokd9n on aiprod-api", a.Incident.ID, a.Target)
			}
		})
	}
}
