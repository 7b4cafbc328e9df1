// Package message renders what runmedic tells people at each step of an incident, once, as
// values: a PagerDuty event, a Slack message and a Google Chat card. Every message says the same
// things in each tool's own form: what happened (the diagnosis and its evidence), what runmedic
// did (before → after, the revision), what comes next (the verification, the next step of the
// ladder), memory over the last three hours against the threshold, links, the runbook's next
// steps and the command that undoes the change. Rendering is pure: the same Input gives the same
// bytes.
package message

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Kind is the moment a message marks in an incident's life.
type Kind string

// Kinds.
const (
	Page        Kind = "page"        // a step of the escalation ladder is due for a recipient
	Acknowledge Kind = "acknowledge" // runmedic applied a remedy and is verifying it
	Resolve     Kind = "resolve"     // the remedy was verified, or the incident closed healthy
	Changed     Kind = "change"      // runmedic applied a change (a PagerDuty change event)
)

// Input is everything a message says. Notification carries the decision, its plan and the
// recipient; the rest is what a person needs besides.
type Input struct {
	Kind         Kind
	Notification audit.Notification
	Applied      bool   // the plan's changes landed
	Revision     string // the revision they created or routed to
	Memory       []snapshot.Point
	Threshold    float64   // the remediation threshold in force (config memory_threshold), 0..1
	VerifyAt     time.Time // zero when nothing awaits verification
	VerifyBelow  float64
	Next         string // the next step of the ladder, in words; "" for none
	Now          time.Time
}

// MaxSummary is PagerDuty's limit on payload.summary.
const MaxSummary = 1024

// SparkWindow is the span the sparkline shows.
const SparkWindow = 3 * time.Hour

// DedupKey is one PagerDuty incident per (service, incident): every step and every redelivery
// lands on it, and acknowledge and resolve find it. PagerDuty allows 255 characters.
func DedupKey(target, incident string) string {
	k := "runmedic/" + target + "/" + incident
	if len(k) <= 255 {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	return "runmedic/" + hex.EncodeToString(sum[:])
}

// ThreadKey threads every chat message of one incident.
func ThreadKey(target, incident string) string {
	sum := sha256.Sum256([]byte(target + "/" + incident))
	return "runmedic-" + hex.EncodeToString(sum[:12])
}

// content is the message before it takes a tool's form.
type content struct {
	title     string
	happened  string
	evidence  []string
	did       string
	next      []string
	spark     []string
	fix       []string
	undo      string
	links     []link
	severity  string
	diagnosis decision.Diagnosis
	target    snapshot.Target
}

type link struct{ text, href string }

func build(in Input) content {
	n := in.Notification
	t := parseTarget(n.Target)
	c := content{
		title:     title(in, t),
		evidence:  n.Evidence,
		fix:       n.NextSteps,
		diagnosis: n.Diagnosis,
		target:    t,
		severity:  n.Severity,
	}
	c.happened = fmt.Sprintf("Incident %s (%s) on %s: diagnosis %s. %s", n.Incident, orUnknown(n.Severity), n.Target, n.Diagnosis, strings.TrimSpace(decisionReason(n)))
	c.did = did(in)
	if !in.VerifyAt.IsZero() && in.Kind != Resolve {
		c.next = append(c.next, fmt.Sprintf("Verifying at %s: memory must be below %.0f%%.", in.VerifyAt.UTC().Format("15:04 MST"), in.VerifyBelow*100))
	}
	switch {
	case in.Kind == Resolve:
		c.next = append(c.next, "Nothing: the page is resolved.")
	case in.Next != "":
		c.next = append(c.next, in.Next)
	default:
		c.next = append(c.next, "No further step of the ladder.")
	}
	c.spark = Sparkline(in.Memory, in.Threshold, in.Now, SparkWindow, 36)
	c.undo = undo(n, t)
	if n.URL != "" {
		c.links = append(c.links, link{"Incident", n.URL})
	}
	if n.ConsoleURL != "" {
		c.links = append(c.links, link{"Service", n.ConsoleURL})
	}
	c.links = append(c.links, link{"OOM logs", LogsURL(t)})
	return c
}

func decisionReason(n audit.Notification) string {
	if n.Plan != nil && n.Plan.Decision.Reason != "" {
		return n.Plan.Decision.Reason
	}
	return n.Reason
}

func orUnknown(s string) string {
	if s == "" {
		return "severity unknown"
	}
	return s
}

// title is the one line every tool shows first.
func title(in Input, t snapshot.Target) string {
	n := in.Notification
	diag := strings.ReplaceAll(string(n.Diagnosis), "_", " ")
	switch in.Kind {
	case Resolve:
		return fmt.Sprintf("Resolved memory incident on %s: %s", t.Service, diag)
	case Acknowledge:
		return fmt.Sprintf("Remedy applied on %s, verifying: %s", t.Service, diag)
	case Changed:
		return fmt.Sprintf("runmedic changed %s: %s", t.Service, changeList(n))
	}
	switch {
	case in.Applied:
		return fmt.Sprintf("runmedic acted on %s (%s): %s", t.Service, n.Action, diag)
	case frozen(n):
		return fmt.Sprintf("Frozen: runmedic did not change %s: %s", t.Service, diag)
	case n.Action == decision.Escalate:
		return fmt.Sprintf("Escalated memory incident on %s: %s", t.Service, diag)
	}
	return fmt.Sprintf("Memory incident on %s: %s", t.Service, diag)
}

// frozen reports whether a freeze or snooze refused the plan.
func frozen(n audit.Notification) bool {
	if n.Plan == nil {
		return false
	}
	for _, r := range n.Plan.Guard.Refusals {
		if r.Rule == "freeze" || r.Rule == "snooze" {
			return true
		}
	}
	return false
}

// did says what runmedic did: the changes that landed, or why none did.
func did(in Input) string {
	n := in.Notification
	p := n.Plan
	switch {
	case p == nil || len(p.Changes) == 0:
		return "Changed nothing: no safe step is left for runmedic; a person decides."
	case in.Applied:
		s := "Changed " + changeList(n)
		if in.Revision != "" {
			s += " (revision " + in.Revision + ")"
		}
		return s + "."
	case !p.Guard.Allowed:
		var why []string
		for _, r := range p.Guard.Refusals {
			why = append(why, r.Rule+": "+r.Message)
		}
		return fmt.Sprintf("Changed nothing. The plan was %s, refused by the guard (%s).", changeList(n), strings.Join(why, "; "))
	case p.Guard.Mode == "shadow":
		return fmt.Sprintf("Changed nothing (shadow mode). It would change %s.", changeList(n))
	}
	return fmt.Sprintf("Changed nothing yet. The plan is %s.", changeList(n))
}

// changeList words the plan's changes: "memory 2Gi → 4Gi, cpu 1 → 2".
func changeList(n audit.Notification) string {
	if n.Plan == nil || len(n.Plan.Changes) == 0 {
		return "nothing"
	}
	var parts []string
	for _, c := range n.Plan.Changes {
		name := strings.TrimPrefix(c.Path, "template.")
		switch c.Path {
		case snapshot.PathRestart:
			parts = append(parts, "restart of every instance")
		case snapshot.PathTraffic:
			parts = append(parts, "traffic "+traffic(c.Before)+" → "+traffic(c.After))
		default:
			parts = append(parts, fmt.Sprintf("%s %v → %v", name, c.Before, c.After))
		}
	}
	return strings.Join(parts, ", ")
}

func traffic(v snapshot.Value) string {
	ts, err := v.Traffic()
	if err != nil {
		return fmt.Sprint(v)
	}
	var parts []string
	for _, t := range ts {
		name := t.Revision
		if t.Type != snapshot.TrafficRevision {
			name = "latest"
		}
		parts = append(parts, fmt.Sprintf("%d%% %s", t.Percent, name))
	}
	return strings.Join(parts, " + ")
}

// undo is the command that takes the change back: runmedic unpin for a traffic pin, the gcloud
// update to the old values for a resource change, nothing for a restart.
func undo(n audit.Notification, t snapshot.Target) string {
	if n.Plan == nil {
		return ""
	}
	var flags []string
	for _, c := range n.Plan.Changes {
		switch c.Path {
		case snapshot.PathTraffic:
			return "runmedic unpin --service " + t.Name()
		case snapshot.PathMemory:
			flags = append(flags, fmt.Sprintf("--memory=%v", c.Before))
		case snapshot.PathCPU:
			flags = append(flags, fmt.Sprintf("--cpu=%v", c.Before))
		case snapshot.PathMaxConcurrency:
			flags = append(flags, fmt.Sprintf("--concurrency=%v", c.Before))
		}
	}
	if len(flags) == 0 {
		return ""
	}
	return fmt.Sprintf("gcloud run services update %s --project=%s --region=%s %s", t.Service, t.Project, t.Location, strings.Join(flags, " "))
}

// LogsURL is a Logs Explorer query for the service's out-of-memory entries.
func LogsURL(t snapshot.Target) string {
	q := fmt.Sprintf("resource.type=\"cloud_run_revision\"\nresource.labels.service_name=\"%s\"\nresource.labels.location=\"%s\"\ntextPayload:\"Memory limit of\"", t.Service, t.Location)
	return "https://console.cloud.google.com/logs/query;query=" + url.PathEscape(q) + "?project=" + url.QueryEscape(t.Project)
}

// parseTarget reads projects/P/locations/L/services/S; anything else keeps the whole name as
// the service.
func parseTarget(name string) snapshot.Target {
	p := strings.Split(name, "/")
	if len(p) == 6 && p[0] == "projects" && p[2] == "locations" && p[4] == "services" {
		return snapshot.Target{Project: p[1], Location: p[3], Service: p[5]}
	}
	return snapshot.Target{Service: name}
}
