package remediate

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/alert"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/state"
)

// Observer reads the live service. *cloudrun.Client is one.
type Observer interface {
	Observe(ctx context.Context, target snapshot.Target) (snapshot.Observation, error)
}

// Applier changes the live service, always against the etag the plan was made from.
// *cloudrun.Client is one.
type Applier interface {
	Apply(ctx context.Context, target snapshot.Target, etag string, changes []snapshot.Change, annotations map[string]string) (snapshot.Update, error)
	WriteState(ctx context.Context, target snapshot.Target, etag, annotation string) error
}

// MetricsReader reads the service's time series. *monitoring.Client is one.
type MetricsReader interface {
	Series(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) (snapshot.Metrics, error)
}

// LogsReader reads the OOM kills Cloud Logging holds for the service over a window. *logs.Reader
// is one. A failed read is reported inside the result (Available false), never as an error: the
// logs are evidence, and the decision is made from the metrics without them.
type LogsReader interface {
	OOMKills(ctx context.Context, target snapshot.Target, now time.Time, window time.Duration) snapshot.Logs
}

// Publisher publishes one JSON message. *topic.Publisher is one.
type Publisher interface {
	Publish(ctx context.Context, payload any, attrs map[string]string) (string, error)
}

// Remediator runs the runbook on live services: observe, decide, apply, record. It is safe for
// concurrent use: work on one service is serialised, different services proceed in parallel.
type Remediator struct {
	Policy   Policy
	Config   config.Config
	Observer Observer
	Applier  Applier
	Metrics  MetricsReader
	Logs     LogsReader    // OOM kills from Cloud Logging; nil reads none (the snapshot's logs stay nil)
	Audit    Publisher     // the audit topic; nil publishes nothing
	Notify   Publisher     // the notification topic; nil sends no notifications
	People   People        // people's own sinks (PagerDuty, Slack, Chat); nil reaches nobody directly
	Snoozes  SnoozeReader  // Monitoring snoozes that hold changes; nil reads none
	Log      *audit.Logger // structured log lines; nil logs nothing
	// Ledger is runmedic's durable memory; nil keeps it in the service's state annotation.
	Ledger Ledger
	// Rollouts, with a Ledger, issues changes without waiting for their rollout: the next run
	// (a delivery or the tick) reads it. nil waits for it inside the delivery.
	Rollouts Rollouts
	// Fleet finds the services a "*" config rule admits; nil manages only the services the
	// config names.
	Fleet Fleet
	Now   func() time.Time
	// NoCoalesce makes every delivery run the runbook itself. By default duplicates of an
	// incident that wait behind the run holding its service, or arrive while its memo holds, take
	// that run's outcome (see coalesce.go): a storm of redeliveries costs one run.
	NoCoalesce bool

	mu      sync.Mutex
	locks   map[string]chan struct{}      // one slot per service: held while a run works on it
	gens    map[string]uint64             // per service, how many times its lock was taken
	flights map[string]map[string]*flight // per service, runs of Handle and their memos by key

	imports imports // the services whose legacy annotation the tick knows to be imported
}

// maxConflicts bounds re-observe and re-plan rounds when the service changes under us.
const maxConflicts = 3

// ErrPermanent marks a failure that redelivery cannot fix: the function acks it after logging.
var ErrPermanent = errors.New("permanent")

// permanent wraps err so errors.Is(err, ErrPermanent) holds. The message is err's own: the class
// steers ack or retry and is no word for the people reading the error.
func permanent(err error) error { return permanentError{err} }

type permanentError struct{ err error }

func (p permanentError) Error() string        { return p.err.Error() }
func (p permanentError) Unwrap() error        { return p.err }
func (p permanentError) Is(target error) bool { return target == ErrPermanent }

// IsPermanent reports whether err must be acked rather than retried.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// lock serialises work on one service. It gives up when ctx ends, so a delivery queued behind a
// slow one still returns within its deadline (and is redelivered). Taking it ends every memo of
// earlier runs on the service (see flight).
func (r *Remediator) lock(ctx context.Context, target snapshot.Target) (unlock func(), err error) {
	unlock, err = r.acquire(ctx, target)
	if err == nil {
		r.mu.Lock()
		r.endMemos(target.Name())
		r.mu.Unlock()
	}
	return unlock, err
}

// acquire takes the service's lock and nothing else.
func (r *Remediator) acquire(ctx context.Context, target snapshot.Target) (unlock func(), err error) {
	r.mu.Lock()
	if r.locks == nil {
		r.locks = map[string]chan struct{}{}
	}
	slot, ok := r.locks[target.Name()]
	if !ok {
		slot = make(chan struct{}, 1)
		r.locks[target.Name()] = slot
	}
	r.mu.Unlock()
	select {
	case slot <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for other work on %s: %w", target.Name(), ctx.Err())
	}
	return func() { <-slot }, nil
}

// endMemos moves the service's generation on, which ends every memo of earlier runs on it, and
// forgets those runs. The caller holds r.mu.
func (r *Remediator) endMemos(svc string) {
	if r.gens == nil {
		r.gens = map[string]uint64{}
	}
	r.gens[svc]++
	for key, f := range r.flights[svc] {
		select {
		case <-f.done: // its memo no longer holds
			delete(r.flights[svc], key)
		default:
		}
	}
}

// Observe reads the service, its metrics (per revision too), the OOM kills in its logs and
// runmedic's state into a snapshot taken at now. A state annotation that cannot be read is
// reported in warning and treated as empty; a ledger entry that cannot be read is a permanent
// error wrapping state.ErrEntryUnreadable. Logs that cannot be read are recorded as unavailable in
// the snapshot and fail nothing.
func (r *Remediator) Observe(ctx context.Context, a alert.Alert, now time.Time) (snap snapshot.Snapshot, st state.State, warning error, err error) {
	snap, st, _, warning, err = r.observeAt(ctx, a, now)
	return snap, st, warning, err
}

// observeAt is Observe, with the ledger version the state was read at.
func (r *Remediator) observeAt(ctx context.Context, a alert.Alert, now time.Time) (snap snapshot.Snapshot, st state.State, version int64, warning error, err error) {
	obs, err := r.Observer.Observe(ctx, a.Target)
	if err != nil {
		return snapshot.Snapshot{}, state.State{}, 0, nil, classify(err)
	}
	type memory struct {
		st      state.State
		version int64
		warning error
		err     error
	}
	remembered := make(chan memory, 1)
	go func() { // beside the metrics: the ledger read needs only the service
		var m memory
		m.st, m.version, m.warning, m.err = r.remember(ctx, a.Target, obs, now)
		remembered <- m
	}()
	var logs *snapshot.Logs
	logsCtx, cancelLogs := context.WithCancel(ctx)
	defer cancelLogs()
	logsRead := make(chan struct{})
	if r.Logs != nil {
		go func() { // beside the metrics: the two reads are independent
			defer close(logsRead)
			l := r.Logs.OOMKills(logsCtx, a.Target, now, snapshot.Window)
			logs = &l
		}()
	} else {
		close(logsRead)
	}
	m, err := r.Metrics.Series(ctx, a.Target, now, snapshot.Window)
	if err != nil {
		cancelLogs() // no snapshot without metrics: the logs are not waited for
	}
	<-logsRead
	mem := <-remembered
	if mem.err != nil {
		return snapshot.Snapshot{}, state.State{}, 0, nil, mem.err
	}
	if err != nil {
		return snapshot.Snapshot{}, state.State{}, 0, nil, classify(err)
	}
	st, version, warning = mem.st, mem.version, mem.warning
	snap = snapshot.Snapshot{
		Version:    snapshot.Version,
		CapturedAt: now.UTC(),
		Incident:   a.Incident,
		Target:     a.Target,
		Service:    obs.Service,
		Revisions:  obs.Revisions,
		Metrics:    m,
		History:    st.History(),
		Logs:       logs,
	}
	return snap, st, version, warning, nil
}

// classify marks errors that redelivery cannot fix as permanent; transient ones pass through.
func classify(err error) error {
	if err == nil || snapshot.Retryable(err) || errors.Is(err, snapshot.ErrConflict) {
		return err
	}
	return permanent(err)
}
