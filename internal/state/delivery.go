package state

import (
	"slices"
	"time"
)

// MaxDeliveries bounds the sink deliveries remembered; the oldest are dropped first. The three
// sinks of a few incidents' steps, acknowledges, resolves and changes fit, in about 6 KiB.
const MaxDeliveries = 48

// Delivery is one message that reached a person's sink, or that the sink refused for good
// (Refused holds its words, never a credential). Either way it is not sent again.
type Delivery struct {
	Incident string    `json:"incident"`
	Key      string    `json:"key"`
	At       time.Time `json:"at"`
	Refused  string    `json:"refused,omitempty"`
}

// DeliveryKey names one (step, recipient, sink) of an incident: step is "page@" plus the step's
// time ("page@5m"), "ack@"/"change@" plus an action, or "resolve".
func DeliveryKey(step, to, sink string) string { return step + "|" + to + "|" + sink }

// Delivered reports whether key was delivered (or refused for good) for incident.
func (s State) Delivered(incident, key string) bool {
	for _, d := range s.Deliveries {
		if d.Incident == incident && d.Key == key {
			return true
		}
	}
	return false
}

// MarkDelivered records key for incident; the first record is kept.
func (s State) MarkDelivered(d Delivery) State {
	out := s.clone()
	if s.Delivered(d.Incident, d.Key) {
		return out
	}
	out.Deliveries = append([]Delivery{d}, out.Deliveries...)
	return out.normalize()
}

// WithDeliveries is s with the deliveries from records that s lacks, keeping from's order.
func (s State) WithDeliveries(from State) State {
	out := s
	for _, d := range slices.Backward(from.Deliveries) {
		out = out.MarkDelivered(d)
	}
	return out
}
