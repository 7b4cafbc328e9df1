package cloudrun

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/protobuf/proto"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// maxWait bounds the wait for an update's operation when ctx has no deadline of its own.
const maxWait = 5 * time.Minute

// Result is the outcome of an update that Cloud Run accepted, in the orchestrator's own terms.
type Result = snapshot.Update

// Apply applies exactly changes, and sets annotations (runmedic's own: StateAnnotation,
// ClaimAnnotation) on the service, in one UpdateService call made against etag, the etag the plan was made
// against. Every other field, label and annotation is sent back as read. A template change
// clears template.revision so Cloud Run names a new revision; a traffic-only change leaves the
// template alone and creates none. The update is validated first (validate_only), then made and
// waited for, bounded by ctx.
//
// Errors: ErrNotSent on every error raised before the update was sent (with the cause's class);
// ErrConflict when the service moved since etag (nothing is sent), a RevisionNotReadyError
// (ErrRevisionNotReady) with the Result filled when the new revision failed, see errors.go for the
// rest.
func (c *Client) Apply(ctx context.Context, target snapshot.Target, etag string, changes []snapshot.Change, annotations map[string]string) (_ Result, err error) {
	defer func() { err = transient(err) }()
	name := target.Name()
	svc, before, err := c.prepare(ctx, target, etag, changes, annotations)
	if err != nil {
		return Result{}, err
	}
	updated, opName, waitErr := c.update(ctx, svc)
	if waitErr != nil && opName == "" { // refused: nothing changed
		return Result{}, waitErr
	}
	if waitErr != nil {
		// The update was accepted; find out whether it was its revision that failed.
		if ctx.Err() != nil {
			return Result{Operation: opName}, waitErr
		}
		reread, err := c.services.GetService(ctx, &runpb.GetServiceRequest{Name: name}, readOpts()...)
		if err != nil {
			return Result{Operation: opName}, waitErr
		}
		updated = reread
	}
	res := Result{Service: serviceSnapshot(updated), Operation: opName, Ready: true}
	if created := updated.GetLatestCreatedRevision(); created != before {
		res.Revision = shortName(created)
		res.Ready = created == updated.GetLatestReadyRevision()
	}
	if !res.Ready {
		return res, &RevisionNotReadyError{
			Service: name, Revision: res.Revision, Message: updated.GetTerminalCondition().GetMessage(), Err: waitErr,
		}
	}
	if waitErr != nil {
		return res, waitErr
	}
	return res, nil
}

// prepare reads the service against etag, applies changes and annotations to it and validates the
// update (validate_only): the service to send, and its latest created revision before the update.
// Every error is ErrNotSent.
func (c *Client) prepare(ctx context.Context, target snapshot.Target, etag string, changes []snapshot.Change, annotations map[string]string) (*runpb.Service, string, error) {
	name := target.Name()
	svc, err := c.read(ctx, name, etag)
	if err != nil {
		return nil, "", notSent(err)
	}
	before := svc.GetLatestCreatedRevision()
	oldTemplate := proto.Clone(svc.GetTemplate())
	if err := applyChanges(svc, changes); err != nil {
		return nil, "", notSent(fmt.Errorf("update service %s: %w", name, err))
	}
	if !proto.Equal(oldTemplate, svc.GetTemplate()) {
		svc.Template.Revision = "" // else Cloud Run refuses: the named revision exists with another spec
	}
	for k, v := range annotations {
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[k] = v
	}
	if _, err := c.services.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: svc, ValidateOnly: true}, writeOpts()...); err != nil {
		return nil, "", notSent(fmt.Errorf("validate update of service %s: %w", name, classify(err)))
	}
	return svc, before, nil
}

// Start is Apply without the wait: it returns once Cloud Run has accepted the update, with
// Result.Operation naming the rollout and Result.Revision the revision created before it
// (the previous latest), to hand to Rollout. Errors are Apply's, before the wait.
func (c *Client) Start(ctx context.Context, target snapshot.Target, etag string, changes []snapshot.Change, annotations map[string]string) (_ Result, err error) {
	defer func() { err = transient(err) }()
	svc, before, err := c.prepare(ctx, target, etag, changes, annotations)
	if err != nil {
		return Result{}, err
	}
	op, err := c.services.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: svc}, writeOpts()...)
	if err != nil {
		return Result{}, fmt.Errorf("update service %s: %w", target.Name(), classify(err))
	}
	return Result{Operation: op.Name(), Revision: shortName(before)}, nil
}

// Rollout reads the update operation that Start returned, without waiting: done is false while
// Cloud Run still rolls it out. Once done, the Result is Apply's: the revision the update created
// (before is the latest created revision before it, as Start returned it) and whether it is
// Ready; a revision that failed is a RevisionNotReadyError, as from Apply.
func (c *Client) Rollout(ctx context.Context, target snapshot.Target, operation, before string) (res Result, done bool, err error) {
	name := target.Name()
	op := c.services.UpdateServiceOperation(operation)
	updated, pollErr := op.Poll(ctx, readOpts()...)
	if !op.Done() {
		if pollErr != nil {
			return Result{Operation: operation}, false, fmt.Errorf("poll update of service %s (operation %s): %w", name, operation, pollErr)
		}
		return Result{Operation: operation}, false, nil
	}
	if pollErr != nil || updated == nil {
		reread, err := c.services.GetService(ctx, &runpb.GetServiceRequest{Name: name}, readOpts()...)
		if err != nil {
			return Result{Operation: operation}, true, fmt.Errorf("get service %s: %w", name, err)
		}
		updated = reread
	}
	res = Result{Service: serviceSnapshot(updated), Operation: operation, Ready: true}
	if created := shortName(updated.GetLatestCreatedRevision()); created != before {
		res.Revision = created
		res.Ready = updated.GetLatestCreatedRevision() == updated.GetLatestReadyRevision()
	}
	if !res.Ready || pollErr != nil {
		res.Ready = false
		return res, true, &RevisionNotReadyError{
			Service: name, Revision: res.Revision, Message: updated.GetTerminalCondition().GetMessage(), Err: pollErr,
		}
	}
	return res, true, nil
}

// WriteState records annotation under StateAnnotation and changes nothing else: no new revision.
// It is checked against etag like Apply.
func (c *Client) WriteState(ctx context.Context, target snapshot.Target, etag, annotation string) error {
	svc, err := c.read(ctx, target.Name(), etag)
	if err != nil {
		return err
	}
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Annotations[StateAnnotation] = annotation
	_, _, err = c.update(ctx, svc)
	return err
}

// read gets the service and refuses it when its etag is not etag.
func (c *Client) read(ctx context.Context, name, etag string) (*runpb.Service, error) {
	svc, err := c.services.GetService(ctx, &runpb.GetServiceRequest{Name: name}, readOpts()...)
	if err != nil {
		return nil, fmt.Errorf("get service %s: %w", name, err)
	}
	if etag == "" || svc.GetEtag() != etag {
		return nil, fmt.Errorf("update service %s: etag is %s, plan was made against %q: %w", name, svc.GetEtag(), etag, ErrConflict)
	}
	return svc, nil
}

// update sends svc (carrying the etag it was read with) and waits for the operation. On an
// error after Cloud Run accepted the call, opName is set.
func (c *Client) update(ctx context.Context, svc *runpb.Service) (updated *runpb.Service, opName string, err error) {
	name := svc.GetName()
	op, err := c.services.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: svc}, writeOpts()...)
	if err != nil {
		return nil, "", fmt.Errorf("update service %s: %w", name, classify(err))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxWait)
		defer cancel()
	}
	updated, err = op.Wait(ctx)
	if err != nil {
		return nil, op.Name(), fmt.Errorf("wait for update of service %s (operation %s): %w", name, op.Name(), err)
	}
	return updated, op.Name(), nil
}
