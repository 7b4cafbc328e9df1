package state_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/state"
)

func TestDeliveriesBounded(t *testing.T) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var s state.State
	for i := range state.MaxDeliveries + 10 {
		key := state.DeliveryKey("page@5m", "backend-lead@aiprod.ai", "pagerduty")
		s = s.MarkDelivered(state.Delivery{Incident: fmt.Sprintf("0.incident%03d", i), Key: key, At: at})
		s = s.MarkDelivered(state.Delivery{Incident: fmt.Sprintf("0.incident%03d", i), Key: key, At: at.Add(time.Hour)})
	}
	if len(s.Deliveries) != state.MaxDeliveries {
		t.Fatalf("len(Deliveries) = %d, want %d", len(s.Deliveries), state.MaxDeliveries)
	}
	key := state.DeliveryKey("page@5m", "backend-lead@aiprod.ai", "pagerduty")
	if !s.Delivered("0.incident057", key) || s.Delivered("0.incident000", key) {
		t.Errorf("want the newest kept and the oldest dropped")
	}
	if !s.Deliveries[0].At.Equal(at) {
		t.Errorf("a second mark replaced the first: %v", s.Deliveries[0].At)
	}
	enc, err := state.Encode(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := state.Decode(enc)
	if err != nil || len(back.Deliveries) != state.MaxDeliveries {
		t.Errorf("Decode(Encode()) = %d deliveries, %v", len(back.Deliveries), err)
	}
	if len(enc) > 8<<10 {
		t.Errorf("a full delivery record encodes to %d bytes, want at most 8 KiB of the %d", len(enc), state.MaxBytes)
	}
}
