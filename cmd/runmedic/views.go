package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/fleet"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/report"
	"github.com/runmedic/runmedic/internal/snapshot"
	"github.com/runmedic/runmedic/internal/status"
)

// projectList is a repeatable --project flag.
type projectList []string

func (p *projectList) String() string { return strings.Join(*p, ",") }

func (p *projectList) Set(v string) error {
	if v == "" {
		return errors.New("empty project")
	}
	*p = append(*p, v)
	return nil
}

func runStatus(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "status", "[--project P …] [-o text|json] [--html FILE] [--config FILE]",
		"Show every managed service: mode, memory limit and p99 now with a sparkline, the incidents\n"+
			"runmedic watches, its last action and verification, a pending verification, a rollout,\n"+
			"a traffic pin, the budget left today, a freeze or snooze, and a failing sink. Services are\n"+
			"read in parallel, a few at a time. --html also writes the fleet on one page with a chart\n"+
			"per service.")
	var projects projectList
	var output, htmlFile, configFile string
	var parallel int
	fs.Var(&projects, "project", "only services of this project (repeatable)")
	fs.StringVar(&output, "o", "text", "output: text or json")
	fs.StringVar(&htmlFile, "html", "", "also write the fleet page to this HTML file")
	fs.StringVar(&configFile, "config", "", "YAML file merged over the default config (policies/data/config.yaml)")
	fs.IntVar(&parallel, "parallel", status.Limit, "services read at once")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if output != "text" && output != "json" {
		return fail(e, fmt.Errorf("-o %q: want text or json", output))
	}
	if parallel < 1 {
		return fail(e, fmt.Errorf("--parallel %d: want at least 1", parallel))
	}
	r, done, err := viewReader(ctx, e, configFile)
	if err != nil {
		return fail(e, err)
	}
	defer done()
	now := time.Now().UTC()
	targets, err := r.Managed(ctx, projects, now)
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: %v\n", err) // the services listed before are shown
	}
	if len(targets) == 0 {
		return fail(e, fmt.Errorf("no managed service%s in the config's services list", inProjects(projects)))
	}
	rows := status.Collect(ctx, targets, parallel, func(ctx context.Context, t snapshot.Target) (status.Row, error) {
		return r.Row(ctx, t, now)
	})
	if output == "json" {
		b, err := status.JSON(rows, now)
		if err != nil {
			return fail(e, err)
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else {
		fmt.Fprint(e.stdout, status.Text(rows, now))
	}
	if htmlFile != "" {
		page, err := status.HTML(rows, now)
		if err != nil {
			return fail(e, err)
		}
		if err := os.WriteFile(htmlFile, []byte(page), 0o644); err != nil {
			return fail(e, fmt.Errorf("write fleet page: %w", err))
		}
		fmt.Fprintf(e.stderr, "Wrote %s\n", htmlFile)
	}
	return exitOK
}

func runReport(ctx context.Context, e env, args []string) int {
	fs := newFlags(e, "report", "--incident ID [--service projects/P/locations/L/services/S] [-o markdown|html] [--audit FILE] [--chart FILE]",
		"Write up one incident from alert to resolution: every delivery and decision, the plans,\n"+
			"the changes with their revisions, the verification, the messages sent to people, the\n"+
			"evidence, and a chart of memory with the threshold, the changes and the OOM kills.\n"+
			"Without --service, the managed services are searched for the incident. --audit adds the\n"+
			"audit events (JSON lines or an array, as exported from the audit topic).")
	var id, service, output, auditFile, chartFile, configFile string
	fs.StringVar(&id, "incident", "", "the incident's id (required)")
	fs.StringVar(&service, "service", "", "the service the incident is on, projects/P/locations/L/services/S")
	fs.StringVar(&output, "o", "markdown", "output: markdown, or html (one self-contained page)")
	fs.StringVar(&auditFile, "audit", "", "audit events of the incident, JSON lines or a JSON array")
	fs.StringVar(&chartFile, "chart", "", "with -o markdown, also write the chart to this SVG file and link it")
	fs.StringVar(&configFile, "config", "", "YAML file merged over the default config (policies/data/config.yaml)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if id == "" {
		return fail(e, errors.New("--incident is required"))
	}
	if output != "markdown" && output != "html" {
		return fail(e, fmt.Errorf("-o %q: want markdown or html", output))
	}
	var events []audit.Event
	if auditFile != "" {
		f, err := os.Open(auditFile)
		if err != nil {
			return fail(e, fmt.Errorf("audit events: %w", err))
		}
		events, err = fleet.ReadAudit(f, auditFile)
		f.Close()
		if err != nil {
			return fail(e, err)
		}
	}
	r, done, err := viewReader(ctx, e, configFile)
	if err != nil {
		return fail(e, err)
	}
	defer done()
	target, err := incidentTarget(ctx, r, service, id, events)
	if err != nil {
		return fail(e, err)
	}
	in, err := r.Incident(ctx, target, id, events, time.Now().UTC())
	if err != nil {
		return fail(e, err)
	}
	if output == "html" {
		page, err := report.HTML(in)
		if err != nil {
			return fail(e, err)
		}
		fmt.Fprint(e.stdout, page)
		return exitOK
	}
	if chartFile != "" {
		if err := os.WriteFile(chartFile, []byte(chart.SVG(in.Chart)), 0o644); err != nil {
			return fail(e, fmt.Errorf("write chart: %w", err))
		}
		in.ChartFile = filepath.Base(chartFile)
	}
	fmt.Fprint(e.stdout, report.Markdown(in))
	return exitOK
}

// incidentTarget is the service named, or the one managed service whose record (or the audit
// events) mentions the incident.
func incidentTarget(ctx context.Context, r fleet.Reader, service, id string, events []audit.Event) (snapshot.Target, error) {
	if service != "" {
		p := strings.Split(service, "/")
		if len(p) != 6 || p[0] != "projects" || p[2] != "locations" || p[4] != "services" || p[1] == "" || p[3] == "" || p[5] == "" {
			return snapshot.Target{}, fmt.Errorf("--service %q: want projects/P/locations/L/services/S", service)
		}
		return snapshot.Target{Project: p[1], Location: p[3], Service: p[5]}, nil
	}
	targets, _ := r.Managed(ctx, nil, time.Now().UTC()) // a location that cannot be listed hides only its services
	for _, ev := range events {
		for _, t := range targets {
			if ev.Incident == id && ev.Target == t.Name() {
				return t, nil
			}
		}
	}
	found := make([]bool, len(targets))
	sem := make(chan struct{}, status.Limit)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			found[i], _ = r.Has(ctx, t, id) // a service that cannot be read does not hold it
		})
	}
	wg.Wait()
	for i, ok := range found {
		if ok {
			return targets[i], nil
		}
	}
	return snapshot.Target{}, fmt.Errorf("incident %s: no managed service has a record of it; name the service with --service", id)
}

// viewReader connects the clients and loads the config the views read with. done closes them.
func viewReader(ctx context.Context, e env, configFile string) (fleet.Reader, func(), error) {
	cfg, err := config.Default()
	if err != nil {
		return fleet.Reader{}, nil, err
	}
	if configFile != "" {
		b, err := os.ReadFile(configFile)
		if err != nil {
			return fleet.Reader{}, nil, fmt.Errorf("read config: %w", err)
		}
		if cfg, err = config.Parse(b, cfg); err != nil {
			return fleet.Reader{}, nil, fmt.Errorf("%s: %w", configFile, err)
		}
	}
	cs, err := clients.New(ctx, e.getenv, clients.Options{})
	if err != nil {
		return fleet.Reader{}, nil, err
	}
	r := fleet.Reader{Run: cs.Run, Metrics: cs.Monitoring, Logs: cs.Logs, Records: fleet.Annotation{}, Config: cfg, Lister: cs.Run}
	// With GOOGLE_CLOUD_PROJECT, runmedic's record is read from its ledger, as the function keeps
	// it (RUNMEDIC_FIRESTORE_DATABASE, FIRESTORE_EMULATOR_HOST); reading it writes nothing.
	var store *ledger.Store
	if e.getenv(ledger.EnvProject) != "" {
		if store, err = clients.Ledger(ctx, e.getenv); err != nil {
			cs.Close()
			return fleet.Reader{}, nil, err
		}
		r.Records = fleet.Ledger{Store: store}
	}
	sn, err := clients.Snoozes(ctx, e.getenv)
	if err != nil {
		if store != nil {
			store.Close()
		}
		cs.Close()
		return fleet.Reader{}, nil, err
	}
	if sn != nil {
		r.Snoozes = sn.Active
	}
	return r, func() {
		if sn != nil {
			sn.Close()
		}
		if store != nil {
			store.Close()
		}
		cs.Close()
	}, nil
}

func inProjects(p projectList) string {
	if len(p) == 0 {
		return ""
	}
	return " in " + p.String()
}
