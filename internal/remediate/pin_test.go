package remediate_test

import (
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/guard"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestRaiseOnPinnedService: traffic pinned to an older revision by a rollback, the template
// holding a newer image. The raise builds a new revision from the serving revision's spec (its
// image, more memory) and that revision serves all traffic.
func TestRaiseOnPinnedService(t *testing.T) {
	e := newEnv(t, "traffic-pinned-raise", nil)
	old := e.service()
	pinned := e.snap.Service.Traffic[0].Revision
	var servingImage string
	for _, r := range e.snap.Revisions {
		if r.Name == pinned {
			servingImage = r.Image
		}
	}
	if servingImage == "" || servingImage == viewOf(old).Image {
		t.Fatalf("scenario: serving image %q must differ from the template's %q", servingImage, viewOf(old).Image)
	}

	ev, err := e.handle()
	if err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("Handle: outcome %s, %v; want applied", ev.Outcome, err)
	}
	svc := e.service()
	newest := e.run.Revisions(e.name())[0]
	short := shortRevision(newest.GetName())
	if short == pinned || shortRevision(old.GetLatestCreatedRevision()) == short {
		t.Fatalf("newest revision %s is not new", short)
	}
	if got := newest.GetContainers()[0].GetImage(); got != servingImage {
		t.Errorf("new revision image %s, want the serving revision's %s", got, servingImage)
	}
	if got := newest.GetContainers()[0].GetResources().GetLimits()["memory"]; got != "4Gi" {
		t.Errorf("new revision memory %s, want 4Gi", got)
	}
	if diff := cmp.Diff(map[string]int{short: 100}, served(svc)); diff != "" {
		t.Errorf("served traffic (-want +got):\n%s", diff)
	}
	if shortRevision(svc.GetLatestReadyRevision()) != short {
		t.Errorf("latest ready %s, want %s", svc.GetLatestReadyRevision(), short)
	}
	if st := e.state(); st.Pin != nil {
		t.Errorf("pin %+v, want none: traffic follows the latest revision again", st.Pin)
	}
}

func shortRevision(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// deploy is someone deploying a new image: the template changes, a revision is created, and
// with traffic pinned it serves nothing.
func deploy(svc *runpb.Service) {
	svc.Template.Revision = ""
	svc.Template.Containers[0].Image = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:feedface00"
}

// TestPinHoldsBackDeploy: after a rollback pins traffic, a new deploy gets 0 %. A tick tells the
// on-call lead once (a second tick is silent); unpinning moves traffic back to the latest
// revision and forgets the pin.
func TestPinHoldsBackDeploy(t *testing.T) {
	e := newEnv(t, "regression-rollback", nil)
	if ev, err := e.handle(); err != nil || ev.Outcome != audit.Applied {
		t.Fatalf("rollback: outcome %s, %v", ev.Outcome, err)
	}
	st := e.state()
	if st.Pin == nil {
		t.Fatal("no pin recorded after the rollback")
	}
	pinned := st.Pin.Revision
	pinSteps := func() []string {
		var out []string
		for _, n := range e.notify.Notifications() {
			if len(n.After) > 4 && n.After[:4] == "pin@" {
				out = append(out, n.After)
			}
		}
		return out
	}

	// Before any deploy, the revision rolled back from is newer but is no deploy held back.
	e.at(time.Minute)
	if _, err := e.r.Tick(e.ctx); err != nil {
		t.Fatalf("tick: %v", err)
	}
	if got := pinSteps(); len(got) != 0 {
		t.Errorf("pin notifications before any deploy: %v, want none", got)
	}

	if err := e.run.Modify(e.name(), deploy); err != nil {
		t.Fatal(err)
	}
	deployed := shortRevision(e.run.Revisions(e.name())[0].GetName())
	if got := served(e.service()); got[deployed] != 0 || got[pinned] != 100 {
		t.Fatalf("served %v after the deploy, want all on %s", got, pinned)
	}
	for i := range 2 {
		e.at(time.Duration(2+i) * time.Minute)
		if _, err := e.r.Tick(e.ctx); err != nil {
			t.Fatalf("tick %d: %v", i, err)
		}
	}
	if diff := cmp.Diff([]string{"pin@" + deployed}, pinSteps()); diff != "" {
		t.Errorf("pin notifications (-want +got):\n%s", diff)
	}

	// Unpinning is a change like any other: the guard holds it until the cooldown that
	// followed the rollback has passed.
	early, err := e.r.PrepareUnpin(e.ctx, e.snap.Target)
	if err != nil {
		t.Fatal(err)
	}
	if g := early.Outcome.Plan.Guard; early.Outcome.Plan.Applyable || len(g.Refusals) != 1 || g.Refusals[0].Rule != guard.RuleCooldown {
		t.Errorf("unpin inside the cooldown: applyable %t guard %+v, want refused by cooldown", early.Outcome.Plan.Applyable, g)
	}
	e.at(e.cfg.Defaults.Cooldown.Duration)
	run, err := e.r.PrepareUnpin(e.ctx, e.snap.Target)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := e.r.Execute(e.ctx, run)
	if err != nil || !ev.Applied {
		t.Fatalf("unpin: applied %t, %v", ev.Applied, err)
	}
	svc := e.service()
	want := []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
	if diff := cmp.Diff(want, viewOf(svc).Traffic); diff != "" {
		t.Errorf("traffic after unpin (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{deployed: 100}, served(svc)); diff != "" {
		t.Errorf("served after unpin (-want +got):\n%s", diff)
	}
	if st := e.state(); st.Pin != nil {
		t.Errorf("pin %+v after unpin, want none", st.Pin)
	}
	if _, err := e.r.PrepareUnpin(e.ctx, e.snap.Target); !errors.Is(err, remediate.ErrNoPin) {
		t.Errorf("second PrepareUnpin: %v, want ErrNoPin", err)
	}
}
