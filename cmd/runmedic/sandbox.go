package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/GoogleCloudPlatform/functions-framework-go/functions"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/cloudrun"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/fnserver"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/logs"
	"github.com/runmedic/runmedic/internal/monitoring"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/plan"
	"github.com/runmedic/runmedic/internal/pubsubtest"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/internal/secret"
	"github.com/runmedic/runmedic/internal/sink"
	"github.com/runmedic/runmedic/internal/sinktest"
	"github.com/runmedic/runmedic/internal/topic"
)

// sandboxWait bounds the wait for the function to handle the alert and publish its audit event.
const sandboxWait = 60 * time.Second

// sandboxEntry is the name the sandbox's handler is served under. The framework serves one
// function per process, chosen by name when it starts; the handler behind the name is set per
// run, so the sandbox never depends on the process environment the Remediate entry reads.
const sandboxEntry = "RemediateSandbox"

var (
	sandboxOnce     sync.Once
	sandboxHandler  atomic.Pointer[function.Handler]
	sandboxInFlight atomic.Int64 // deliveries the function is handling now
)

// Topic and subscription ids the sandbox creates in the emulator.
const (
	alertTopic = "runmedic-alerts"
	auditTopic = "runmedic-audit"
	auditSub   = "runmedic-audit-pull"
	notifyTop  = "runmedic-notify"
	pushSub    = "runmedic-alerts-push"
)

func runSandbox(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "sandbox", "[--scenario DIR]",
		"Run the whole loop on this machine: the Pub/Sub and Firestore emulators, fake Cloud Run,\n"+
			"Monitoring and Logging seeded from a scenario (its times moved to now), and the function\n"+
			"served by the functions framework behind a push subscription. One alert is published; the\n"+
			"plan, the change the fake Cloud Run received, the audit event and the messages PagerDuty,\n"+
			"Slack and Chat recorders received are printed; everything is stopped.\n"+
			"Needs the Google Cloud CLI with the pubsub-emulator and cloud-firestore-emulator\n"+
			"components and a Java runtime.")
	dir := fs.String("scenario", filepath.Join("tests", "scenarios", "insufficient-memory"), "scenario folder (incident.json, snapshot.json)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if err := sandbox(ctx, e, *dir); err != nil {
		if ctx.Err() != nil {
			// Ctrl-C: what failed is only the interruption itself (the emulator's start-up
			// log included), so say so quietly and exit as a shell does on SIGINT.
			fmt.Fprintln(e.stderr, "Interrupted; everything the sandbox started is stopped.")
			return exitInterrupted
		}
		return fail(e, err)
	}
	return exitOK
}

// sandbox runs one alert through the local loop. Every component it starts is stopped before it
// returns, on success, failure or cancellation, except the framework's HTTP server, which the
// framework cannot stop: it ends with the process.
func sandbox(ctx context.Context, e env, dir string) error {
	sc, err := scenario.Load(dir)
	if err != nil {
		return err
	}
	snap, err := sc.Prepare()
	if err != nil {
		return err
	}
	a, err := sc.Alert()
	if err != nil {
		return err
	}
	shift := time.Now().UTC().Truncate(time.Minute).Sub(snap.CapturedAt)
	snap = snap.Shifted(shift)
	incident, err := scenario.ShiftIncident(sc.Incident, shift)
	if err != nil {
		return err
	}
	runner, err := policyFlags{}.runner()
	if err != nil {
		return err
	}
	eng, cfg, err := runner.Engine(ctx, sc.Config)
	if err != nil {
		return err
	}

	fmt.Fprintln(e.stderr, "Starting the Pub/Sub emulator…")
	emu, err := pubsubtest.Start(ctx, a.Target.Project)
	if err != nil {
		return err
	}
	defer emu.Close()
	fmt.Fprintln(e.stderr, "Starting the Firestore emulator…")
	fsEmu, err := firestoretest.Start(ctx)
	if err != nil {
		return err
	}
	defer fsEmu.Close()
	store, err := ledger.Open(ctx, a.Target.Project, ledger.DefaultDatabase, ledger.EmulatorOptions(fsEmu.Host())...)
	if err != nil {
		return err
	}
	defer store.Close()
	runFake, err := cloudruntest.Start()
	if err != nil {
		return fmt.Errorf("start fake cloud run: %w", err)
	}
	defer runFake.Close()
	monFake, err := monitoringtest.Start()
	if err != nil {
		return err
	}
	defer monFake.Close()
	logFake, err := loggingtest.Start()
	if err != nil {
		return err
	}
	defer logFake.Close()
	if err := runFake.SeedFromSnapshot(snap); err != nil {
		return err
	}
	monFake.SeedFromSnapshot(snap)
	logFake.SeedFromSnapshot(snap)

	runClient, err := cloudrun.New(ctx, runFake.ClientOptions()...)
	if err != nil {
		return err
	}
	defer runClient.Close()
	monClient, err := monitoring.New(ctx, monFake.ClientOptions()...)
	if err != nil {
		return err
	}
	defer monClient.Close()
	logReader, err := logs.New(ctx, logFake.ClientOptions()...)
	if err != nil {
		return err
	}
	defer logReader.Close()
	for _, t := range []string{alertTopic, auditTopic, notifyTop} {
		if err := emu.CreateTopic(ctx, t); err != nil {
			return err
		}
	}
	if err := emu.CreatePullSubscription(ctx, auditSub, auditTopic); err != nil {
		return err
	}
	auditPub, err := topic.NewPublisher(ctx, emu.Project(), emu.TopicName(auditTopic), emu.ClientOptions()...)
	if err != nil {
		return err
	}
	defer auditPub.Close()
	notifyPub, err := topic.NewPublisher(ctx, emu.Project(), emu.TopicName(notifyTop), emu.ClientOptions()...)
	if err != nil {
		return err
	}
	defer notifyPub.Close()

	rec := sinktest.Start()
	defer rec.Close()
	log := audit.NewLogger(e.stderr)
	r := &remediate.Remediator{
		Policy: eng, Config: cfg, Observer: runClient, Applier: runClient, Metrics: monClient, Logs: logReader,
		Audit: auditPub, Notify: notifyPub, Log: log, Now: time.Now, Ledger: store,
		People: sandboxPeople(cfg, rec),
	}
	sandboxHandler.Store(&function.Handler{
		Remediator: r, Log: log, MaxEventAge: cfg.Defaults.MaxEventAge.Duration,
		Project: emu.Project(), Now: time.Now,
	})
	defer sandboxHandler.Store(nil)
	url, err := serveSandbox(ctx)
	if err != nil {
		return err
	}
	endpoint := url + "/" + emu.TopicName(alertTopic)
	if err := emu.CreatePushSubscription(ctx, pushSub, alertTopic, endpoint); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Function on %s; alerts pushed to %s\n", url, endpoint)

	// The plan the function is about to make: the same observation and decision, read-only.
	live, _, _, err := r.Observe(ctx, a, time.Now())
	if err != nil {
		return fmt.Errorf("observe %s: %w", a.Target.Name(), err)
	}
	out, err := remediate.Decide(ctx, eng, live, cfg, live.CapturedAt)
	if err != nil {
		return err
	}
	before := runFake.Service(snap.Target.Name())

	id, err := emu.Publish(ctx, alertTopic, incident, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Published incident %s as message %s\n", a.Incident.ID, id)
	msgs, err := emu.Pull(ctx, auditSub, 1, sandboxWait)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		if ctx.Err() != nil {
			return errors.New("interrupted before the audit event arrived")
		}
		return fmt.Errorf("no audit event within %s; the function's log above says why", sandboxWait)
	}
	// The audit event is published before the delivery records it in the ledger: let the
	// delivery finish before anything it uses is stopped.
	for deadline := time.Now().Add(sandboxWait); sandboxInFlight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	after := runFake.Service(snap.Target.Name())

	fmt.Fprintln(e.stdout, "== Plan")
	if err := plan.RenderText(e.stdout, out.Plan, plan.TextOptions{Color: e.stdoutIsTerminal && e.getenv("NO_COLOR") == ""}); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\n== Change received by Cloud Run (fake)")
	printChange(e, before, after)
	fmt.Fprintln(e.stdout, "\n== Audit event")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, msgs[0].Data, "", "  "); err != nil {
		return fmt.Errorf("audit event %s: %w", msgs[0].Data, err)
	}
	fmt.Fprintln(e.stdout, pretty.String())
	return printReceived(e.stdout, rec)
}

// sandboxPeople routes every recipient of the escalation table to the recorders, whatever the
// scenario's config says: a sandbox never reaches a real PagerDuty, Slack or Chat. Credentials
// go through the same env: references and resolver as a deployment's.
func sandboxPeople(cfg config.Config, rec *sinktest.Recorder) *sink.Router {
	env := map[string]string{"SANDBOX_PD_KEY": "sandbox-routing-key", "SANDBOX_PD_URL": rec.EventsURL()}
	recipients := map[string]config.Recipient{}
	for i, step := range cfg.Defaults.Escalation {
		slackEnv, chatEnv := fmt.Sprintf("SANDBOX_SLACK_%d", i), fmt.Sprintf("SANDBOX_CHAT_%d", i)
		env[slackEnv], env[chatEnv] = rec.SlackWebhook(fmt.Sprintf("step%d", i)), rec.ChatWebhook(fmt.Sprintf("step%d", i))
		recipients[step.Notify] = config.Recipient{
			PagerDuty: &config.PagerDuty{RoutingKey: "env:SANDBOX_PD_KEY", EventsURL: "env:SANDBOX_PD_URL"},
			Slack:     &config.Webhook{Webhook: "env:" + slackEnv},
			Chat:      &config.Webhook{Webhook: "env:" + chatEnv},
		}
	}
	return &sink.Router{
		Recipients: recipients,
		Secrets:    secret.Resolver{Getenv: func(k string) string { return env[k] }},
		Sender:     &sink.Sender{},
	}
}

// serveSandbox serves the sandbox handler through the functions framework on a free loopback
// port. The function is registered once per process.
func serveSandbox(ctx context.Context) (string, error) {
	sandboxOnce.Do(func() {
		// An HTTP function, as the Remediate entry: function.Receiver decodes the CloudEvent.
		functions.HTTP(sandboxEntry, func(w http.ResponseWriter, r *http.Request) {
			sandboxInFlight.Add(1)
			defer sandboxInFlight.Add(-1)
			h := sandboxHandler.Load()
			if h == nil {
				http.Error(w, "sandbox: no handler", http.StatusInternalServerError)
				return
			}
			rc := function.Receiver{Handle: h.Event, Log: h.Log}
			rc.ServeHTTP(w, r)
		})
	})
	url, _, err := fnserver.Start(ctx, sandboxEntry, 0)
	return url, err
}

// printChange shows what the fake Cloud Run service looks like before and after the run.
func printChange(e env, before, after *runpb.Service) {
	if before == nil || after == nil {
		fmt.Fprintln(e.stdout, "  (service not found)")
		return
	}
	rows := []struct{ name, b, a string }{
		{"memory", limit(before, "memory"), limit(after, "memory")},
		{"cpu", limit(before, "cpu"), limit(after, "cpu")},
		{"max_concurrency", fmt.Sprint(before.GetTemplate().GetMaxInstanceRequestConcurrency()), fmt.Sprint(after.GetTemplate().GetMaxInstanceRequestConcurrency())},
		{"image", image(before), image(after)},
		{"traffic", traffic(before), traffic(after)},
		{"latest_ready_revision", short(before.GetLatestReadyRevision()), short(after.GetLatestReadyRevision())},
		{"generation", fmt.Sprint(before.GetGeneration()), fmt.Sprint(after.GetGeneration())},
	}
	for _, r := range rows {
		mark := " "
		if r.b != r.a {
			mark = "~"
		}
		if r.b == r.a {
			fmt.Fprintf(e.stdout, "  %s %-22s %s\n", mark, r.name, r.a)
		} else {
			fmt.Fprintf(e.stdout, "  %s %-22s %s -> %s\n", mark, r.name, r.b, r.a)
		}
	}
	if before.GetLatestCreatedRevision() != after.GetLatestCreatedRevision() {
		fmt.Fprintf(e.stdout, "  new revision: %s\n", short(after.GetLatestCreatedRevision()))
	} else {
		fmt.Fprintln(e.stdout, "  no new revision")
	}
}

func serving(svc *runpb.Service) *runpb.Container {
	cs := svc.GetTemplate().GetContainers()
	for _, c := range cs {
		if len(c.GetPorts()) > 0 {
			return c
		}
	}
	if len(cs) > 0 {
		return cs[0]
	}
	return nil
}

func limit(svc *runpb.Service, name string) string {
	return serving(svc).GetResources().GetLimits()[name]
}

func image(svc *runpb.Service) string { return serving(svc).GetImage() }

func traffic(svc *runpb.Service) string {
	var parts []string
	for _, t := range svc.GetTraffic() {
		if t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST {
			parts = append(parts, fmt.Sprintf("LATEST %d%%", t.GetPercent()))
		} else {
			parts = append(parts, fmt.Sprintf("%s %d%%", short(t.GetRevision()), t.GetPercent()))
		}
	}
	return strings.Join(parts, ", ")
}

func short(name string) string { return name[strings.LastIndexByte(name, '/')+1:] }
