package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/runmedic/runmedic/internal/audit"
)

var update = flag.Bool("update", false, "rewrite golden files (the fault matrix in BENCHMARKS.md)")

// benchmarksFile is where the fault matrix is kept, between the markers.
const (
	benchmarksFile = "../../BENCHMARKS.md"
	matrixStart    = "<!-- fault-matrix:start -->"
	matrixEnd      = "<!-- fault-matrix:end -->"
)

// faultCodes are the gRPC failures every dependency is tried with.
var faultCodes = []codes.Code{
	codes.Unavailable, codes.DeadlineExceeded, codes.Aborted,
	codes.PermissionDenied, codes.NotFound, codes.ResourceExhausted,
}

// faultCase is one row: a failure injected during the first delivery of an alert, then cleared.
type faultCase struct {
	component, call, fault string
	inject, clear          func(f *fleet)
}

func faultCases() []faultCase {
	var cs []faultCase
	for _, c := range faultCodes {
		// Three failures outlast the client's bounded read retries (three tries on UNAVAILABLE).
		cs = append(cs, faultCase{"Cloud Run", "GetService", c.String(),
			func(f *fleet) { f.run.FailNext("GetService", c, 3) },
			func(f *fleet) { f.run.FailNext("GetService", codes.OK, 0) }})
	}
	for _, c := range faultCodes {
		// The first UpdateService of an apply is its validate_only call; updates never retry.
		cs = append(cs, faultCase{"Cloud Run", "UpdateService", c.String(),
			func(f *fleet) { f.run.FailNext("UpdateService", c, 1) },
			func(f *fleet) { f.run.FailNext("UpdateService", codes.OK, 0) }})
	}
	for _, c := range faultCodes {
		cs = append(cs, faultCase{"Monitoring", "ListTimeSeries", c.String(),
			func(f *fleet) { f.mon.FailNext(c, 3) },
			func(f *fleet) { f.mon.FailNext(codes.OK, 0) }})
	}
	for _, c := range faultCodes {
		cs = append(cs, faultCase{"Pub/Sub", "Publish (audit)", c.String(),
			func(f *fleet) { f.audit.setFail(status.Error(c, "injected publish failure")) },
			func(f *fleet) { f.audit.setFail(nil) }})
	}
	clearLedger := func(f *fleet) { f.wire.inject("", 0, 0, codes.OK) }
	for _, c := range []codes.Code{codes.Unavailable, codes.DeadlineExceeded, codes.Aborted} {
		// The delivery's first commit is its claim, taken before any UpdateService.
		cs = append(cs, faultCase{"Firestore", "Commit (claim)", c.String(),
			func(f *fleet) { f.wire.inject("Commit", 0, 1, c) }, clearLedger})
	}
	for _, c := range []codes.Code{codes.Unavailable, codes.DeadlineExceeded} {
		// The second is the record, after the UpdateService: the change is on the service.
		cs = append(cs, faultCase{"Firestore", "Commit (record)", c.String(),
			func(f *fleet) { f.wire.inject("Commit", 1, 1, c) }, clearLedger})
	}
	cs = append(cs, faultCase{"Firestore", "RunQuery (read)", codes.Unavailable.String(),
		func(f *fleet) { f.wire.inject("RunQuery", 0, 3, codes.Unavailable) }, clearLedger})
	cs = append(cs,
		faultCase{"Cloud Run", "operation", "slow (done after 2 polls)",
			func(f *fleet) { f.run.SetOperationPolls(2) },
			func(f *fleet) { f.run.SetOperationPolls(0) }},
		faultCase{"Cloud Run", "GetOperation", "UNAVAILABLE while the update runs",
			func(f *fleet) { f.run.SetOperationPolls(1); f.run.FailNext("GetOperation", codes.Unavailable, 2) },
			func(f *fleet) { f.run.SetOperationPolls(0); f.run.FailNext("GetOperation", codes.OK, 0) }},
		faultCase{"Cloud Run", "operation", "fails after it started (revision never Ready)",
			func(f *fleet) { f.run.SetRevisionReadyFailure(f.name(f.services[0])) },
			func(f *fleet) {}},
	)
	return cs
}

// faultRow is what one case did.
type faultRow struct {
	first, logged, second string
	revisions, applied    int
	consistent            string
}

// TestFaultMatrix injects every failure of Cloud Run, Monitoring, Pub/Sub and the Firestore ledger into the first
// delivery of an alert through HTTP, clears it, and delivers the alert again (a Pub/Sub
// redelivery, or Monitoring's re-notification after an ack). Whatever the fault: at most one new
// revision, at most one applied audit event, the state annotation readable and in agreement
// with the service; a ledger fault also settles, through the claim marker on the service. The table it computes is the one in BENCHMARKS.md (-update rewrites it).
func TestFaultMatrix(t *testing.T) {
	var b strings.Builder
	b.WriteString("| component | call | fault | 1st delivery | logged (severity outcome error) | redelivery | new revisions | applied events | state |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	add := func(component, call, fault string, run func() faultRow) {
		start := time.Now()
		row := run()
		t.Logf("%s %s %s: %s", component, call, fault, time.Since(start).Round(time.Millisecond))
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %d | %d | %s |\n",
			component, call, fault, row.first, row.logged, row.second, row.revisions, row.applied, row.consistent)
		if row.revisions > 1 || row.applied > 1 || row.consistent != "consistent" {
			t.Errorf("%s %s %s: %d new revisions, %d applied events, state %s; want at most one change, consistent",
				component, call, fault, row.revisions, row.applied, row.consistent)
		}
	}
	for _, c := range faultCases() {
		add(c.component, c.call, c.fault, func() faultRow { return runFault(t, c) })
	}
	for _, c := range crashCases() {
		add(c.component, c.call, c.fault, func() faultRow { return runCrash(t, c) })
	}
	table := b.String()
	doc, err := os.ReadFile(benchmarksFile)
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(doc), matrixStart+"\n")
	have, after, ok2 := strings.Cut(rest, matrixEnd)
	if !ok1 || !ok2 {
		t.Fatalf("%s has no %s … %s section", benchmarksFile, matrixStart, matrixEnd)
	}
	if *update {
		out := before + matrixStart + "\n" + table + matrixEnd + after
		if err := os.WriteFile(benchmarksFile, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(have, table); diff != "" {
		t.Errorf("fault matrix in %s is stale (-file +computed); rerun with -update:\n%s", benchmarksFile, diff)
	}
}

// runFault runs one case on a fresh one-service fleet.
func runFault(t *testing.T, c faultCase) faultRow {
	t.Helper()
	f := newFleet(t, fleetOptions{wait: true}) // the matrix covers the rollout inside the delivery (GetOperation faults)
	svc := f.services[0]
	seeded := len(f.run.Revisions(f.name(svc)))
	var row faultRow

	c.inject(f)
	st1, err := f.deliver(svc, "inc-1", "msg-1")
	if err != nil {
		t.Fatal(err)
	}
	row.first = ackOrRetry(st1)
	row.logged = summarize(f.log.take())
	c.clear(f)

	msg := "msg-1" // Pub/Sub redelivers the same message
	if acked(st1) {
		msg = "msg-2" // Monitoring re-notifies the open incident
	}
	st2, err := f.deliver(svc, "inc-1", msg)
	if err != nil {
		t.Fatal(err)
	}
	row.second = ackOrRetry(st2) + " " + outcomes(f.log.take())

	row.revisions = len(f.run.Revisions(f.name(svc))) - seeded
	row.applied = appliedEvents(f)
	row.consistent = consistency(f, svc)
	return row
}

// appliedEvents counts the applied audit events the fleet published, by ID: an event published
// again (its record failed after the publish) carries the same ID, and subscribers see one event.
func appliedEvents(f *fleet) int {
	ids := map[string]bool{}
	for _, ev := range f.audit.all() {
		if ev.Applied && ev.Outcome == audit.Applied {
			ids[ev.ID] = true
		}
	}
	return len(ids)
}

// consistency checks the ledger against the service: it decodes, records at most one
// action, marks nothing unpublished once the publisher works again, and records an action
// exactly when the memory moved.
func consistency(f *fleet, svc string) string {
	st, err := f.state(svc)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	moved := f.memory(svc) != "2Gi"
	switch {
	case len(st.Actions) > 1:
		return fmt.Sprintf("%d actions recorded", len(st.Actions))
	case moved != (len(st.Actions) == 1):
		return fmt.Sprintf("memory %s but %d actions recorded", f.memory(svc), len(st.Actions))
	case len(st.Unpublished) > 0:
		return fmt.Sprintf("unpublished %v", st.Unpublished)
	}
	return "consistent"
}

func ackOrRetry(status int) string {
	if acked(status) {
		return "ack"
	}
	return fmt.Sprintf("retry (HTTP %d)", status)
}

var (
	codeRE     = regexp.MustCompile(`code = (\w+)`)
	revisionRE = regexp.MustCompile(`svc-\d+-\d+-[a-z0-9]+`) // generated names vary
)

// logLine is the part of a log line the matrix shows.
type logLine struct {
	Severity string      `json:"severity"`
	Message  string      `json:"message"`
	Event    audit.Event `json:"event"`
}

// summarize renders log lines as "SEVERITY outcome (code)", one per line, in order.
func summarize(lines []string) string {
	var out []string
	for _, l := range lines {
		var ll logLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			out = append(out, "unparsable line")
			continue
		}
		s := ll.Severity + " "
		if ll.Event.Outcome != "" {
			s += string(ll.Event.Outcome)
		} else {
			s += "message"
		}
		text := ll.Event.Error
		if text == "" {
			text = ll.Message
		}
		if m := codeRE.FindStringSubmatch(text); m != nil {
			s += " (" + m[1] + ")"
		} else if ll.Event.Error != "" {
			s += " (" + shorten(ll.Event.Error) + ")"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "nothing"
	}
	return strings.Join(out, "; ")
}

// outcomes is the audit outcomes the log lines carry.
func outcomes(lines []string) string {
	var out []string
	for _, l := range lines {
		var ll logLine
		if json.Unmarshal([]byte(l), &ll) == nil && ll.Event.Outcome != "" {
			out = append(out, string(ll.Event.Outcome))
		}
	}
	return strings.Join(out, ", ")
}

// shorten keeps an error's last clause, which names the cause.
func shorten(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	s = revisionRE.ReplaceAllString(s, "REVISION")
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return s
}
