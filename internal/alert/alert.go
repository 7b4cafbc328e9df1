// Package alert decodes Cloud Monitoring alert notifications (schema 1.2) into the incident and
// target a remediation run works on.
//
// Decode accepts the notification as Cloud Monitoring sends it to a webhook, a Pub/Sub push body
// carrying it, or a structured CloudEvent carrying either; the wrapper is recognised from the JSON
// shape. It is lenient where Cloud Monitoring itself is inconsistent (observed values sent as text,
// ended_at null, "OPEN" in upper case, documentation as a string or an object, camelCase keys inside
// condition) and strict where a mistake would touch the wrong thing: every refusal is one of the
// sentinel errors below, checked with errors.Is, and its text is one line that says what to fix.
//
// The package is pure: it reads bytes and returns values.
package alert

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/jsonpos"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// SchemaVersion is the notification schema this package is written against. Other 1.x versions are
// accepted (Cloud Monitoring only adds fields within a major version), as is a missing version
// (hand-written incident fixtures); anything else is ErrUnsupportedVersion.
const SchemaVersion = "1.2"

// ResourceType is the only monitored resource type runmedic acts on: a Cloud Run service's
// revisions. Cloud Run jobs, VMs and everything else are ErrUnsupportedResource.
const ResourceType = "cloud_run_revision"

// Refusals. Each is permanent: redelivering the same bytes gives the same answer, so a caller acks
// the message and logs the error once.
var (
	// ErrMalformed: the bytes are not a notification runmedic can read (not JSON, unknown wrapper,
	// bad base64, no incident, missing incident_id or started_at, a state other than open/closed,
	// a field of the wrong JSON type, a resource label that is not a valid name).
	ErrMalformed = errors.New("malformed notification")
	// ErrTestNotification: the channel test Cloud Monitoring sends from the console
	// (version "test"). Never acted on.
	ErrTestNotification = errors.New("test notification")
	// ErrUnsupportedVersion: a schema version that is neither "test", missing, nor 1.x.
	ErrUnsupportedVersion = errors.New("unsupported schema version")
	// ErrUnsupportedResource: the incident is about something other than a Cloud Run service.
	ErrUnsupportedResource = errors.New("unsupported resource")
	// ErrMissingLabels: the incident does not name the service because the alert policy aggregated
	// the resource labels away; the message says which labels and how to fix the policy.
	ErrMissingLabels = errors.New("missing resource labels")
)

// Alert is one decoded notification. On success Incident.ID is non-empty, Incident.State is
// snapshot.StateOpen or snapshot.StateClosed, Incident.Labels is non-nil, and every Target field is a
// non-empty name without slashes, so Target.Name() is a well-formed Cloud Run resource name.
type Alert struct {
	// Version is the schema version as sent ("1.2"), empty when the payload had none.
	Version  string            `json:"version"`
	Delivery Delivery          `json:"delivery"`
	Incident snapshot.Incident `json:"incident"`
	Target   snapshot.Target   `json:"target"`
	// Revision is resource.labels.revision_name: the revision whose series crossed the threshold,
	// empty when the policy grouped it away. Informative only; the live service is the truth.
	Revision string `json:"revision,omitempty"`
	// Documentation is the policy's documentation text (documentation.content in 1.2, the whole
	// string in older and test payloads).
	Documentation string `json:"documentation,omitempty"`
	// Warnings say what was dropped from the payload rather than refused (an incident URL that
	// is not the scoping project's console URL). The caller logs them; the alert still counts.
	Warnings []string `json:"warnings,omitempty"`
}

// Wrapper names how the notification reached the decoder.
type Wrapper string

// Wrappers Decode recognises.
const (
	// WrapperNone: the notification itself (webhook channel, CLI fixture, or Pub/Sub message data
	// already unwrapped by the caller).
	WrapperNone Wrapper = "none"
	// WrapperPush: a Pub/Sub push body {"message": {"data": base64, ...}, "subscription": ...}.
	WrapperPush Wrapper = "pubsub_push"
	// WrapperCloudEvent: a structured-mode CloudEvent whose data (or data_base64) is a Pub/Sub
	// MessagePublishedData or the notification itself.
	WrapperCloudEvent Wrapper = "cloudevent"
)

// Delivery is what the wrapper said about the delivery. Fields the wrapper did not carry are empty;
// PublishTime is nil unless the Pub/Sub message had a valid RFC 3339 publishTime.
type Delivery struct {
	Wrapper      Wrapper    `json:"wrapper"`
	EventID      string     `json:"event_id,omitempty"`
	EventType    string     `json:"event_type,omitempty"`
	MessageID    string     `json:"message_id,omitempty"`
	PublishTime  *time.Time `json:"publish_time,omitempty"`
	Subscription string     `json:"subscription,omitempty"`
}

// MessagePublishedData is the data of a google.cloud.pubsub.topic.v1.messagePublished CloudEvent
// (and the shape of a Pub/Sub push body). google-cloudevents-go no longer ships a Pub/Sub type, so
// it is declared here as Google's own samples do; encoding/json decodes Message.Data from base64.
type MessagePublishedData struct {
	Message      Message `json:"message"`
	Subscription string  `json:"subscription"`
}

// Message is one Pub/Sub message. Eventarc also sends snake_case duplicates (message_id,
// publish_time); encoding/json ignores them, which is harmless since they repeat the same values.
type Message struct {
	Data        []byte            `json:"data"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	MessageID   string            `json:"messageId"`
	PublishTime time.Time         `json:"publishTime"`
}

// Decode reads raw, which may be the notification itself, a Pub/Sub push body carrying it, or a
// structured CloudEvent carrying either, and returns the alert. Errors wrap exactly one of the
// sentinels above.
func Decode(raw []byte) (Alert, error) {
	body, d, err := unwrap(raw)
	if err != nil {
		return Alert{}, err
	}
	a, err := decodeNotification(body)
	if err != nil {
		if d.Wrapper == WrapperNone {
			return Alert{}, withPosition(body, err)
		}
		return Alert{}, err
	}
	a.Delivery = d
	return a, nil
}

// withPosition adds to a malformed-field error the line and column of the field's key in body,
// so the file a person wrote by hand points at what to fix.
func withPosition(body []byte, err error) error {
	if !errors.Is(err, ErrMalformed) {
		return err
	}
	_, rest, _ := strings.Cut(err.Error(), ErrMalformed.Error()+": ")
	path, _, found := strings.Cut(rest, ":")
	if !found || strings.ContainsAny(path, " \"") {
		return err
	}
	key := path[strings.LastIndex(path, ".")+1:]
	if i := strings.Index(key, "["); i >= 0 {
		key = key[:i]
	}
	off, ok := jsonpos.KeyOffset(body, key)
	if !ok || key == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, jsonpos.WhereOffset(body, off))
}

// DecodeMessageData reads the data of a Pub/Sub message (already base64-decoded, as
// MessagePublishedData.Message.Data is): the notification itself, no wrapper. Delivery.Wrapper is
// WrapperNone; the caller knows the message ID and publish time.
func DecodeMessageData(data []byte) (Alert, error) {
	a, err := decodeNotification(bytes.TrimPrefix(data, []byte("\ufeff")))
	if err != nil {
		return Alert{}, err
	}
	a.Delivery = Delivery{Wrapper: WrapperNone}
	return a, nil
}
