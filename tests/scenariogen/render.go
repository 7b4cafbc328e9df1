package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"time"

	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// The service every generated incident is about: the one the default config allows.
const (
	project  = "aiprod-484120"
	location = "europe-west1"
	service  = "aiprod-api"
	image    = "europe-docker.pkg.dev/aiprod-484120/api/api@sha256:"
)

// capturedAt is when every generated snapshot is taken; the series end a minute before.
var capturedAt = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// rev is one revision of a scene, newest first in scene.revs.
type rev struct {
	num     int
	age     time.Duration
	ready   bool
	percent int
	memory  string // "" takes the scene's
}

// scene is one incident before it is rendered. Series are aligned at their ends: a series shorter
// than the window starts when its revision took traffic.
type scene struct {
	readme     string
	memory     string
	cpu        string
	maxConc    int
	revs       []rev
	split      []snapshot.TrafficTarget // nil: 100 % to LATEST
	mem        []float64
	byRev      map[int][]float64 // revision number → its own series
	gaps       []int             // indexes of missing minutes, in every series
	req        []float64
	kills      map[int][]int // revision number → indexes of its OOM kills
	logs       string        // "read", "denied", "none" (not read at all)
	history    []snapshot.Action
	alertRev   int // revision number in the alert, 0: grouped away
	startedAgo time.Duration
	state      string
	fixedUsed  float64 // the largest OOM "used", MiB; 0: a little over the limit
}

// kase is one catalogue entry: a folder name and the scene it generates.
type kase struct {
	name string
	gen  func(r *rand.Rand) scene
}

// names gives each revision number a stable name with a random three-letter suffix.
func names(s scene, r *rand.Rand) map[int]string {
	out := map[int]string{}
	for _, v := range s.revs {
		b := make([]byte, 3)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		out[v.num] = fmt.Sprintf("%s-%05d-%s", service, v.num, b)
	}
	return out
}

// render turns a case into its folder's files.
func render(c kase, seed uint64) (map[string][]byte, error) {
	r := rand.New(rand.NewPCG(seed, 0x16))
	s := c.gen(r)
	if s.state == "" {
		s.state = snapshot.StateOpen
	}
	name := names(s, r)
	digest := fmt.Sprintf("%010x", r.Uint64()>>24)
	start := capturedAt.Add(-window * time.Minute)
	at := func(i, n int) time.Time { return start.Add(time.Duration(window-n+i) * time.Minute) }
	gap := map[int]bool{}
	for _, g := range s.gaps {
		gap[g] = true
	}
	points := func(v []float64) []snapshot.Point {
		out := make([]snapshot.Point, 0, len(v))
		for i, x := range v {
			if !gap[window-len(v)+i] {
				out = append(out, snapshot.Point{At: at(i, len(v)), Value: x})
			}
		}
		return out
	}
	threshold := 0.85
	observed := s.mem[len(s.mem)-1]
	for _, v := range s.mem[len(s.mem)-int(s.startedAgo/time.Minute)-1:] {
		observed = max(observed, v)
	}
	snap := snapshot.Snapshot{
		Version:    snapshot.Version,
		CapturedAt: capturedAt,
		Target:     snapshot.Target{Project: project, Location: location, Service: service},
		Service: snapshot.Service{
			Etag: fmt.Sprintf("\"%s\"", digest), Generation: int64(s.revs[0].num),
			Labels: map[string]string{"team": "backend"}, Annotations: map[string]string{},
			Template: snapshot.Template{Image: image + digest, Memory: s.memory, CPU: s.cpu,
				MaxConcurrency: s.maxConc, MaxInstances: 20},
			Traffic:               s.split,
			LatestCreatedRevision: name[s.revs[0].num],
		},
		Metrics: snapshot.Metrics{
			MemoryUtilization: points(s.mem),
			InstanceCount:     points(requests(r, window, 4)),
			RequestCount:      points(s.req),
		},
		History: []snapshot.Action{},
	}
	if snap.Service.Traffic == nil {
		snap.Service.Traffic = []snapshot.TrafficTarget{{Type: snapshot.TrafficLatest, Percent: 100}}
	}
	for i := range snap.Service.Traffic {
		if n, ok := revNum(snap.Service.Traffic[i].Revision); ok {
			snap.Service.Traffic[i].Revision = name[n]
		}
	}
	for _, v := range s.revs {
		if v.ready && snap.Service.LatestReadyRevision == "" {
			snap.Service.LatestReadyRevision = name[v.num]
		}
		mem := v.memory
		if mem == "" {
			mem = s.memory
		}
		snap.Revisions = append(snap.Revisions, snapshot.Revision{
			Name: name[v.num], CreatedAt: capturedAt.Add(-v.age), Ready: v.ready, Image: image + digest,
			Memory: mem, CPU: s.cpu, MaxConcurrency: s.maxConc, TrafficPercent: v.percent,
		})
	}
	if len(s.byRev) > 0 {
		snap.Metrics.MemoryByRevision = map[string][]snapshot.Point{}
		for n, v := range s.byRev {
			snap.Metrics.MemoryByRevision[name[n]] = points(v)
		}
	}
	id := incidentID(c.name)
	for _, h := range s.history {
		if n, ok := revNum(h.Revision); ok {
			h.Revision = name[n]
		}
		if h.Incident == thisIncident {
			h.Incident = id
		}
		snap.History = append(snap.History, h)
	}
	switch s.logs {
	case "read":
		snap.Logs = killLogs(s, name, r, func(i int) time.Time { return at(i, window) })
	case "denied":
		snap.Logs = &snapshot.Logs{Available: false, OOMKills: []snapshot.OOMKill{},
			Error: "list log entries: rpc error: code = PermissionDenied desc = Permission 'logging.logEntries.list' denied"}
	}
	started := capturedAt.Add(-s.startedAgo)
	alertRev := ""
	if s.alertRev != 0 {
		alertRev = name[s.alertRev]
	}
	snap.Incident = snapshot.Incident{
		ID: id, State: s.state, Policy: "alert-memory-high", Condition: "Cloud Run memory p99 > 85%",
		Metric: "run.googleapis.com/container/memory/utilizations", Observed: &observed, Threshold: &threshold,
		StartedAt: started, Severity: "Warning", Labels: map[string]string{"remediation": "auto"}, Revision: alertRev,
	}
	if s.state == snapshot.StateClosed {
		ended := capturedAt.Add(-time.Minute)
		snap.Incident.EndedAt = &ended
	}
	inc, err := notification(c.name, started, observed, threshold, alertRev, s.state)
	if err != nil {
		return nil, err
	}
	sb, err := encodeSnapshot(snap)
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"incident.json": inc,
		"snapshot.json": sb,
		"README.md":     []byte(s.readme + "\n"),
	}, nil
}

// revNum reads the "#N" placeholder cases use for revision N.
func revNum(s string) (int, bool) {
	var n int
	if _, err := fmt.Sscanf(s, "#%d", &n); err != nil {
		return 0, false
	}
	return n, true
}

// killLogs summarises the scene's OOM kills as the log reader would: per revision, the limit the
// entries name, the largest "used" (a little over the limit), the first and last kill.
func killLogs(s scene, name map[int]string, r *rand.Rand, at func(int) time.Time) *snapshot.Logs {
	l := &snapshot.Logs{Available: true, OOMKills: []snapshot.OOMKill{}}
	for _, v := range s.revs {
		idx := s.kills[v.num]
		if len(idx) == 0 {
			continue
		}
		mem := v.memory
		if mem == "" {
			mem = s.memory
		}
		limit, _ := quantity.ParseMemory(mem)
		used := math.Round(float64(limit) * (1.01 + 0.12*r.Float64()))
		if s.fixedUsed > 0 {
			used = s.fixedUsed
		}
		l.OOMKills = append(l.OOMKills, snapshot.OOMKill{
			Revision: name[v.num], Count: len(idx), LimitMiB: float64(limit), MaxUsedMiB: used,
			First: at(idx[0]), Last: at(idx[len(idx)-1]),
		})
	}
	slices.SortFunc(l.OOMKills, func(a, b snapshot.OOMKill) int { return b.Last.Compare(a.Last) })
	return l
}

var pointLine = regexp.MustCompile(`\{\s+"at": ("[^"]+"),\s+"value": ([-0-9.e+]+)\s+\}`)

// encodeSnapshot indents like the hand-written fixtures but keeps each point on one line.
func encodeSnapshot(s snapshot.Snapshot) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return pointLine.ReplaceAll(buf.Bytes(), []byte(`{"at": $1, "value": $2}`)), nil
}
