package function

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/runmedic/runmedic/internal/audit"
)

// MessagePublished is the CloudEvent type of a Pub/Sub message, as Eventarc delivers it.
const MessagePublished = "google.cloud.pubsub.topic.v1.messagePublished"

// drainLimit bounds how much of a refused body is read and thrown away, so the connection can
// be reused; a longer body closes it instead. Pub/Sub's largest message fits.
const drainLimit = 16 << 20

// RequestLimit is the largest request body a Receiver reads for a handler whose message data
// cap is maxData: the CloudEvent data that can carry it, plus room for a structured-mode
// envelope around that data.
func RequestLimit(maxData int) int64 {
	return int64(base64.StdEncoding.EncodedLen(maxData)) + 2*envelopeAllowance
}

// Receiver serves one HTTP request as one CloudEvent, decoded and handled in the request's own
// goroutine. The functions framework's CloudEvent path is not used: cloudevents/sdk-go v2 hands
// each request to the function through one unbuffered channel shared by every request, and
// under a burst of fast answers a push can be left unconsumed until more traffic arrives
// (cloudevents/sdk-go#1224, #1332). This decodes the same three shapes the framework accepts:
//
//   - binary mode (the CloudEvent's attributes in ce-* headers, its data the body), as
//     Eventarc pushes a Pub/Sub message to the function;
//   - structured mode (Content-Type application/cloudevents+json, the whole event the body);
//   - a Pub/Sub push body ({"message": ..., "subscription": ...}) posted to
//     /projects/P/topics/T, as the Pub/Sub emulator's push subscriptions deliver it.
//
// Handle's nil answers 200 (ack) and an error 500 (retry). A body over MaxBody is acked with one
// log line, neither kept nor decoded (its bytes are discarded as they arrive); a request that is not a POST answers 405 and one that is neither shape
// 400, each with a one-line body.
type Receiver struct {
	// Handle takes each event; its context is the request's.
	Handle func(ctx context.Context, e event.Event) error
	// MaxBody bounds the body read; 0 is RequestLimit(MaxMessageData).
	MaxBody int64
	// Log gets the line for a request acked or refused unread; nil logs nothing.
	Log *audit.Logger
}

// ServeHTTP answers one delivery.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.refuse(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s: a delivery is a POST", r.Method))
		return
	}
	id := r.Header.Get("Ce-Id")
	body, err := rc.read(r)
	if big, ok := errors.AsType[tooLarge](err); ok {
		rc.log(audit.Warning, fmt.Sprintf("request %s: %s, over the %d-byte cap for a notification; acked without decoding", orUnknown(id), big.size(), rc.maxBody()))
		w.WriteHeader(http.StatusOK)
		return
	}
	if err != nil {
		rc.refuse(w, http.StatusBadRequest, fmt.Sprintf("request %s: read body: %v", orUnknown(id), err))
		return
	}
	e, err := decodeRequest(r, body)
	if err != nil {
		rc.refuse(w, http.StatusBadRequest, fmt.Sprintf("request %s: %v", orUnknown(id), err))
		return
	}
	if err := rc.Handle(r.Context(), e); err != nil {
		// The handler has logged the delivery's outcome; the status alone asks for a retry.
		http.Error(w, oneLine(err.Error()), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (rc *Receiver) maxBody() int64 {
	if rc.MaxBody > 0 {
		return rc.MaxBody
	}
	return RequestLimit(MaxMessageData)
}

// tooLarge is a body over the cap; n is its length, or -1 when it came without one.
type tooLarge struct{ n int64 }

func (t tooLarge) Error() string { return t.size() + ", over the cap" }

func (t tooLarge) size() string {
	if t.n < 0 {
		return "body (no length given) is longer"
	}
	return fmt.Sprintf("body is %d bytes", t.n)
}

// read returns the body, or a tooLarge error once it is known to exceed the cap: from
// Content-Length before reading anything, or after reading one byte past the cap.
func (rc *Receiver) read(r *http.Request) ([]byte, error) {
	limit := rc.maxBody()
	if r.ContentLength > limit {
		io.CopyN(io.Discard, r.Body, drainLimit)
		return nil, tooLarge{r.ContentLength}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		io.CopyN(io.Discard, r.Body, drainLimit)
		return nil, tooLarge{-1}
	}
	return body, nil
}

func (rc *Receiver) refuse(w http.ResponseWriter, status int, msg string) {
	rc.log(audit.Warning, msg)
	http.Error(w, oneLine(msg), status)
}

func (rc *Receiver) log(severity, msg string) {
	if rc.Log != nil {
		rc.Log.Log(severity, msg, nil, nil)
	}
}

func orUnknown(id string) string {
	if id == "" {
		return "(no ce-id)"
	}
	return id
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// decodeRequest is the CloudEvent the request carries. As in the framework, a request is a
// CloudEvent when it has a ce-id header or a cloudevents content type; otherwise it is read as a
// Pub/Sub push body.
func decodeRequest(r *http.Request, body []byte) (event.Event, error) {
	if r.Header.Get("Ce-Id") != "" || strings.Contains(r.Header.Get("Content-Type"), "cloudevents") {
		msg := cehttp.NewMessage(r.Header, io.NopCloser(bytes.NewReader(body)))
		e, err := binding.ToEvent(r.Context(), msg)
		if err != nil {
			return event.Event{}, fmt.Errorf("not a CloudEvent: %w", err)
		}
		if err := e.Validate(); err != nil {
			return event.Event{}, fmt.Errorf("invalid CloudEvent: %w", err)
		}
		return *e, nil
	}
	return pushEvent(r.URL.Path, body)
}

// topicPath finds the topic in a push endpoint's path, as the framework does.
var topicPath = regexp.MustCompile(`projects/[^/?]+/topics/[^/?]+`)

// pushEvent is the messagePublished CloudEvent for a Pub/Sub push body posted to path: the
// message id its id, the publish time its time, the topic in the path its source, the body its
// data (the same {"message", "subscription"} shape Eventarc sends).
func pushEvent(path string, body []byte) (event.Event, error) {
	var push struct {
		Message *struct {
			MessageID   string    `json:"messageId"`
			PublishTime time.Time `json:"publishTime"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &push); err != nil {
		return event.Event{}, fmt.Errorf("neither a CloudEvent (no ce-id header) nor a Pub/Sub push body: %v", err)
	}
	if push.Message == nil || push.Message.MessageID == "" {
		return event.Event{}, errors.New("neither a CloudEvent (no ce-id header) nor a Pub/Sub push body: no message.messageId")
	}
	e := event.New()
	e.SetID(push.Message.MessageID)
	e.SetType(MessagePublished)
	e.SetSource("//pubsub.googleapis.com/" + topicPath.FindString(path))
	if !push.Message.PublishTime.IsZero() {
		e.SetTime(push.Message.PublishTime)
	}
	e.SetDataContentType(event.ApplicationJSON)
	e.DataEncoded = body // JSON, as binary mode's data: SetData would mark it base64
	return e, nil
}
