package replay

import (
	"fmt"
	"strings"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Summarize is the change column: every change in one line, in plan order, e.g.
// "template.memory 2Gi -> 4Gi, template.cpu 1 -> 2" or "traffic -> aiprod-api-00042-abc 100%".
// No changes is "".
func Summarize(changes []snapshot.Change) string {
	parts := make([]string, 0, len(changes))
	for _, c := range changes {
		parts = append(parts, summarizeOne(c))
	}
	return strings.Join(parts, ", ")
}

func summarizeOne(c snapshot.Change) string {
	switch c.Path {
	case snapshot.PathRestart:
		return c.Path + " (new revision)"
	case snapshot.PathImage:
		// The registry path is the same on both sides; the digest is what changes.
		return fmt.Sprintf("%s %s -> %s", c.Path, lastSegment(value(c.Before)), lastSegment(value(c.After)))
	case snapshot.PathTraffic:
		if ts, ok := traffic(c.After); ok {
			return "traffic -> " + trafficText(ts)
		}
	}
	return fmt.Sprintf("%s %s -> %s", c.Path, value(c.Before), value(c.After))
}

// traffic reads a traffic change's value.
func traffic(v snapshot.Value) ([]snapshot.TrafficTarget, bool) {
	ts, err := v.Traffic()
	return ts, err == nil
}

// trafficText lists the entries that carry traffic: "aiprod-api-00042-abc 100%", "latest 100%".
func trafficText(ts []snapshot.TrafficTarget) string {
	var parts []string
	for _, t := range ts {
		if t.Percent == 0 {
			continue
		}
		name := t.Revision
		if t.Type == snapshot.TrafficLatest || name == "" {
			name = "latest"
		}
		parts = append(parts, fmt.Sprintf("%s %d%%", name, t.Percent))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " + ")
}

func value(v snapshot.Value) string {
	switch v.Kind() {
	case snapshot.KindNull:
		return "(none)"
	case snapshot.KindText:
		if s, _ := v.Text(); s == "" {
			return `""`
		}
	}
	return v.String()
}

func lastSegment(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 {
		return s[i+1:]
	}
	return s
}
