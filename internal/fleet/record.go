package fleet

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Record is runmedic's own memory of one service, as status and report read it: what it did,
// what it watches and waits for, and what it told people. It is a value of this package so the
// place it is kept can change without touching the views.
type Record struct {
	Actions  []snapshot.Action // newest first
	Pending  *Pending
	Watching []Watch
	Pin      *Pin
	Sent     []Sent // newest first
}

// Pending is a change awaiting verification at VerifyAt.
type Pending struct {
	Incident, Action    string
	AppliedAt, VerifyAt time.Time
	Baseline            float64 // memory p99 just before the change, 0..1
	Revision            string
}

// Watch is an open incident runmedic acted on or escalated.
type Watch struct {
	Incident              string
	StartedAt             time.Time
	Severity, URL, Policy string
}

// Pin is traffic runmedic routed to one revision.
type Pin struct {
	Revision string
	Since    time.Time
	Incident string
}

// Sent is one message to people: an escalation step published, or a delivery to a sink.
// Refused holds the sink's words when it refused the message for good.
type Sent struct {
	Incident      string
	At            time.Time
	To, Sink      string
	Step, Refused string
}

// Records is where a Record comes from. live is the service as just read, for sources that keep
// the record on the service itself.
type Records interface {
	Record(ctx context.Context, target snapshot.Target, live cloudrun.Observation) (Record, error)
}

// Annotation reads the Record from the service's state annotation (package state), where
// runmedic keeps it today. A corrupt or foreign annotation is an error naming the service.
type Annotation struct{}

// Record decodes live's state annotation.
func (Annotation) Record(_ context.Context, target snapshot.Target, live cloudrun.Observation) (Record, error) {
	st, err := state.Decode(live.StateAnnotation)
	if err != nil {
		return Record{}, fmt.Errorf("runmedic's record on %s: %w", target.Name(), err)
	}
	return fromState(st), nil
}

// fromState is the Record of runmedic's state of one service.
func fromState(st state.State) Record {
	rec := Record{Actions: st.History()}
	if p := st.Pending; p != nil {
		rec.Pending = &Pending{Incident: p.Incident, Action: p.Action, AppliedAt: p.AppliedAt, VerifyAt: p.VerifyAt,
			Baseline: p.Baseline.Memory, Revision: p.Revision}
	}
	for _, w := range st.Watching {
		rec.Watching = append(rec.Watching, Watch{Incident: w.Incident, StartedAt: w.StartedAt, Severity: w.Severity, URL: w.URL, Policy: w.Policy})
	}
	if p := st.Pin; p != nil {
		rec.Pin = &Pin{Revision: p.Revision, Since: p.Since, Incident: p.Incident}
	}
	for _, e := range st.Escalations {
		rec.Sent = append(rec.Sent, Sent{Incident: e.Incident, At: e.At, To: e.To, Sink: "topic", Step: "page@" + after(e.Step)})
	}
	// Deliveries newest first, those of one moment by incident and key, as the ledger lists
	// them: the same record reads the same from either place.
	ds := slices.Clone(st.Deliveries)
	slices.SortStableFunc(ds, func(a, b state.Delivery) int {
		return cmp.Or(b.At.Compare(a.At), strings.Compare(a.Incident+a.Key, b.Incident+b.Key))
	})
	for _, d := range ds {
		step, to, sink := splitKey(d.Key)
		rec.Sent = append(rec.Sent, Sent{Incident: d.Incident, At: d.At, To: to, Sink: sink, Step: step, Refused: d.Refused})
	}
	return rec
}

// after is the time part of an escalation StepKey ("lead@5m" → "5m").
func after(step string) string { return step[strings.LastIndex(step, "@")+1:] }

// splitKey undoes state.DeliveryKey.
func splitKey(key string) (step, to, sink string) {
	p := strings.SplitN(key, "|", 3)
	for len(p) < 3 {
		p = append(p, "")
	}
	return p[0], p[1], p[2]
}
