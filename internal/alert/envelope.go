package alert

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/jsonpos"
)

// wirePubSub is a Pub/Sub push body or a MessagePublishedData, read leniently: only message.data
// must be right, the rest is delivery metadata.
type wirePubSub struct {
	Message      json.RawMessage `json:"message"`
	Subscription json.RawMessage `json:"subscription"`
}

type wireMessage struct {
	Data             json.RawMessage `json:"data"`
	MessageID        json.RawMessage `json:"messageId"`
	MessageIDSnake   json.RawMessage `json:"message_id"`
	PublishTime      json.RawMessage `json:"publishTime"`
	PublishTimeSnake json.RawMessage `json:"publish_time"`
}

type wireCloudEvent struct {
	SpecVersion json.RawMessage `json:"specversion"`
	ID          json.RawMessage `json:"id"`
	Type        json.RawMessage `json:"type"`
	Data        json.RawMessage `json:"data"`
	DataBase64  json.RawMessage `json:"data_base64"`
}

// unwrap recognises the wrapper from the top-level keys and returns the notification bytes.
// A CloudEvent may carry a Pub/Sub message or the notification; a Pub/Sub message carries only the
// notification. Nothing nests deeper.
func unwrap(raw []byte) ([]byte, Delivery, error) {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	keys, err := topKeys("payload", raw)
	if err != nil {
		return nil, Delivery{}, malformed(err)
	}
	switch {
	case keys["specversion"]:
		return unwrapCloudEvent(raw)
	case keys["message"] && isNotification(keys):
		return nil, Delivery{}, malformed(fmt.Errorf("payload has both message and incident; want one wrapper"))
	case keys["message"]:
		body, d, err := unwrapPubSub("", raw)
		d.Wrapper = WrapperPush
		return body, d, err
	case isNotification(keys):
		return raw, Delivery{Wrapper: WrapperNone}, nil
	}
	return nil, Delivery{}, malformed(fmt.Errorf("unknown wrapper: top-level keys %s; want incident, message or specversion", keyList(keys)))
}

func unwrapCloudEvent(raw []byte) ([]byte, Delivery, error) {
	var ce wireCloudEvent
	if err := json.Unmarshal(raw, &ce); err != nil {
		return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: %w", err))
	}
	var f fields
	spec := f.str("specversion", ce.SpecVersion)
	d := Delivery{Wrapper: WrapperCloudEvent, EventID: f.str("id", ce.ID), EventType: f.str("type", ce.Type)}
	if f.err != nil {
		return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: %w", f.err))
	}
	if spec != "1.0" {
		return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: specversion %s is not 1.0", clip(spec)))
	}
	hasData, hasB64 := !isNull(ce.Data), !isNull(ce.DataBase64)
	var data []byte
	switch {
	case hasData && hasB64:
		return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: has both data and data_base64"))
	case hasB64:
		s := f.str("data_base64", ce.DataBase64)
		if f.err != nil {
			return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: %w", f.err))
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: data_base64: %w", err))
		}
		data = b
	case hasData && bytes.HasPrefix(bytes.TrimSpace(ce.Data), []byte(`"`)):
		// Data sent as a JSON string (a text content type): its content is the payload.
		data = []byte(f.str("data", ce.Data))
	case hasData:
		data = ce.Data
	default:
		return nil, Delivery{}, malformed(fmt.Errorf("cloudevent: no data or data_base64"))
	}
	keys, err := topKeys("cloudevent data", data)
	if err != nil {
		return nil, Delivery{}, malformed(err)
	}
	switch {
	case keys["message"] && isNotification(keys):
		return nil, Delivery{}, malformed(fmt.Errorf("cloudevent data has both message and incident; want one"))
	case keys["message"]:
		body, md, err := unwrapPubSub("data.", data)
		d.MessageID, d.PublishTime, d.Subscription = md.MessageID, md.PublishTime, md.Subscription
		return body, d, err
	case isNotification(keys):
		return data, d, nil
	}
	return nil, Delivery{}, malformed(fmt.Errorf("cloudevent data: top-level keys %s; want message or incident", keyList(keys)))
}

// isNotification: the notification's two top-level keys; either one is enough to read it as a
// notification, so {"version": "test"} is a test notification and {"version": "1.2"} lacks an
// incident rather than being an unknown wrapper.
func isNotification(keys map[string]bool) bool {
	return keys["incident"] || keys["version"]
}

// unwrapPubSub reads {"message": {"data": base64, ...}, "subscription": ...}; prefix places it in
// the payload for errors ("" for a push body, "data." inside a CloudEvent).
func unwrapPubSub(prefix string, raw []byte) ([]byte, Delivery, error) {
	path := prefix + "message"
	var p wirePubSub
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, Delivery{}, malformed(fmt.Errorf("%s: %w", path, err))
	}
	var f fields
	var m wireMessage
	f.object(path, p.Message, &m)
	data := f.str(path+".data", m.Data)
	d := Delivery{
		MessageID:    firstNonEmpty(f.str(path+".messageId", m.MessageID), f.str(path+".message_id", m.MessageIDSnake)),
		Subscription: f.str(prefix+"subscription", p.Subscription),
	}
	published := firstNonEmpty(f.str(path+".publishTime", m.PublishTime), f.str(path+".publish_time", m.PublishTimeSnake))
	if f.err != nil {
		return nil, Delivery{}, malformed(f.err)
	}
	// publishTime is delivery metadata: a value that does not parse is dropped, not fatal.
	if t, err := time.Parse(time.RFC3339Nano, published); err == nil {
		t = t.UTC()
		d.PublishTime = &t
	}
	if data == "" {
		return nil, Delivery{}, malformed(fmt.Errorf("%s.data is empty", path))
	}
	body, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, Delivery{}, malformed(fmt.Errorf("%s.data: %w", path, err))
	}
	return body, d, nil
}

// topKeys returns the keys of the JSON object raw; what names raw in errors.
func topKeys(what string, raw []byte) (map[string]bool, error) {
	var obj map[string]json.RawMessage
	if err := decodeObject(what, raw, &obj); err != nil {
		return nil, err
	}
	keys := make(map[string]bool, len(obj))
	for k := range obj {
		keys[k] = true
	}
	return keys, nil
}

// decodeObject unmarshals the JSON object raw into v (a map or a struct of json.RawMessage
// fields, so only the document's syntax and top-level kind can fail).
func decodeObject(what string, raw []byte, v any) error {
	if kind(raw) == "null" {
		return fmt.Errorf("%s is JSON null, want an object", what)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return fmt.Errorf("%s is a JSON %s, want an object", what, ute.Value)
		}
		if where := jsonpos.Where(raw, err); where != "" {
			return fmt.Errorf("%s is not JSON: %s: %w", what, where, err)
		}
		return fmt.Errorf("%s is not JSON: %w", what, err)
	}
	return nil
}

// keyList renders at most five keys, sorted and quoted, for an error message.
func keyList(keys map[string]bool) string {
	if len(keys) == 0 {
		return "(none)"
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	more := ""
	if len(names) > 5 {
		names, more = names[:5], fmt.Sprintf(" and %d more", len(names)-5)
	}
	for i, n := range names {
		names[i] = clip(n)
	}
	return "[" + strings.Join(names, " ") + "]" + more
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
