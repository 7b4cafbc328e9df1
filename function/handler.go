package function

import (
	"context"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/remediate"
)

// KindAttribute and KindVerifyTick mark the Pub/Sub messages Cloud Scheduler publishes every
// five minutes on the alert topic: they run verification and escalation, not a new decision.
const (
	KindAttribute  = "runmedic-kind"
	KindVerifyTick = "verify-tick"
)

// MaxMessageData is the largest Pub/Sub message data runmedic decodes. A Cloud Monitoring
// notification is a few KiB; Pub/Sub accepts 10 MB, so anything larger than this is not an alert
// and is acked with one log line before it is decoded: eight 10 MB messages in flight must not
// take the instance's memory (infra/ sizes the function for them).
const MaxMessageData = 64 << 10

// envelopeAllowance is room in the CloudEvent data for what surrounds the message data: ids,
// times, the subscription and attributes.
const envelopeAllowance = 16 << 10

// DeliveryTimeout bounds one delivery below the function's largest timeout (540 s, infra/), so a
// slow Cloud Run rollout ends in a logged retry rather than a killed instance with no record.
const DeliveryTimeout = 8 * time.Minute

// Handler maps one CloudEvent to the remediator and its result to ack (nil) or retry (an
// error). It logs exactly one line per event.
type Handler struct {
	Remediator  *remediate.Remediator
	Log         *audit.Logger
	MaxEventAge time.Duration // older deliveries are acked with a log line: no retry storms
	Timeout     time.Duration // bounds one delivery; 0 leaves the caller's deadline alone
	Project     string        // for trace names in log lines
	Now         func() time.Time
	// MaxData bounds the Pub/Sub message data decoded; 0 is MaxMessageData.
	MaxData int
}

// Event handles one delivery. It never panics: a panic in the pipeline is logged and acked,
// since redelivering the same input would panic again.
func (h *Handler) Event(ctx context.Context, e event.Event) (err error) {
	if h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	log := h.Log
	if tp, ok := e.Extensions()["traceparent"].(string); ok {
		log = log.WithTrace(audit.TraceName(h.Project, tp))
	}
	defer func() {
		if p := recover(); p != nil {
			log.Log(audit.Error, fmt.Sprintf("event %s: internal error: %v; acked", e.ID(), p), nil, nil)
			err = nil
		}
	}()
	if n, limit := len(e.Data()), h.maxEventData(); n > limit {
		// Checked on the raw length: neither base64-decoded nor unmarshalled.
		log.Log(audit.Warning, fmt.Sprintf("event %s: data is %d bytes, over the %d-byte cap for a notification; acked without decoding", e.ID(), n, limit), nil, nil)
		return nil
	}
	var msg alert.MessagePublishedData
	if err := e.DataAs(&msg); err != nil {
		log.Log(audit.Warning, fmt.Sprintf("event %s: data is not a Pub/Sub message: %v; acked", e.ID(), err), nil, nil)
		return nil
	}
	published := msg.Message.PublishTime
	if published.IsZero() {
		published = e.Time()
	}
	if age := h.Now().Sub(published); !published.IsZero() && h.MaxEventAge > 0 && age > h.MaxEventAge {
		log.Log(audit.Warning, fmt.Sprintf("event %s: published %s ago, older than %s; acked without acting", e.ID(), age.Round(time.Second), h.MaxEventAge), nil, nil)
		return nil
	}
	if n := len(msg.Message.Data); n > h.maxData() {
		log.Log(audit.Warning, fmt.Sprintf("event %s: message data is %d bytes, over the %d-byte cap for a notification; acked without decoding", e.ID(), n, h.maxData()), nil, nil)
		return nil
	}
	if msg.Message.Attributes[KindAttribute] == KindVerifyTick {
		return h.tick(ctx, log)
	}
	a, err := decode(msg, e)
	if err != nil {
		log.Log(audit.Warning, fmt.Sprintf("event %s: %v; acked", e.ID(), err), nil, nil)
		return nil
	}
	ev, err := h.Remediator.Handle(ctx, a)
	log.LogEvent(ev)
	if err != nil && !remediate.IsPermanent(err) {
		return err
	}
	return nil
}

func (h *Handler) maxData() int {
	if h.MaxData > 0 {
		return h.MaxData
	}
	return MaxMessageData
}

// maxEventData is the largest CloudEvent data that can carry maxData bytes of message data: its
// base64 plus the envelope. A notification carried directly (no Pub/Sub wrapper) gets the same.
func (h *Handler) maxEventData() int {
	return base64.StdEncoding.EncodedLen(h.maxData()) + envelopeAllowance
}

// decode reads the notification from the Pub/Sub message, or from the event data itself when a
// CloudEvent carries the notification directly.
func decode(msg alert.MessagePublishedData, e event.Event) (alert.Alert, error) {
	var a alert.Alert
	var err error
	if len(msg.Message.Data) > 0 {
		a, err = alert.DecodeMessageData(msg.Message.Data)
	} else {
		a, err = alert.Decode(e.Data())
	}
	if err != nil {
		return alert.Alert{}, err
	}
	a.Delivery.EventID = e.ID()
	if msg.Message.MessageID != "" {
		a.Delivery.MessageID = msg.Message.MessageID
	} else {
		a.Delivery.MessageID = e.ID()
	}
	return a, nil
}

// tick runs verification and escalation for every managed service.
func (h *Handler) tick(ctx context.Context, log *audit.Logger) error {
	evs, err := h.Remediator.Tick(ctx)
	for _, ev := range evs {
		log.LogEvent(ev)
	}
	if err != nil && !remediate.IsPermanent(err) {
		return err
	}
	return nil
}
