package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/runmedic/runmedic/internal/jsonpos"
	"github.com/runmedic/runmedic/internal/quantity"
)

// ErrInvalid marks a snapshot that cannot be used: bad JSON, an unknown version, or a field that
// fails validation. The message names the field.
var ErrInvalid = errors.New("invalid snapshot")

// Load decodes and validates snapshot JSON. Unknown fields are rejected so a misspelt key in a
// hand-written fixture is caught rather than silently ignored.
func Load(data []byte) (Snapshot, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		msg := describeJSONError(data, err)
		return Snapshot{}, fmt.Errorf("%w: %s: %s", ErrInvalid, jsonWhere(data, err, msg, dec.InputOffset()), msg)
	}
	if err := s.Validate(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

// jsonWhere is the line and column of a decoding error: encoding/json's offset when it has one,
// else the key the message names, else where the decoder stopped.
func jsonWhere(data []byte, err error, msg string, stopped int64) string {
	if where := jsonpos.Where(data, err); where != "" {
		return where
	}
	field, _, _ := strings.Cut(msg, ":")
	field = strings.Trim(strings.TrimPrefix(field, "unknown field "), `"`)
	if i := strings.LastIndexAny(field, ".]"); i >= 0 {
		field = field[i+1:]
	}
	if off, ok := jsonpos.KeyOffset(data, field); ok && field != "" {
		return jsonpos.WhereOffset(data, off)
	}
	return jsonpos.WhereOffset(data, stopped)
}

// describeJSONError turns encoding/json's errors into one line that names the field.
func describeJSONError(data []byte, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s: want %s, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Sprintf("want %s, got %s", te.Type, te.Value)
	}
	if strings.Contains(err.Error(), "Time.UnmarshalJSON") { // a time that is not even a string
		if field := badTimeField(data); field != "" {
			return fmt.Sprintf("%s: not an RFC 3339 time string", field)
		}
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		if field := badTimeField(data); field != "" {
			return fmt.Sprintf("%s: %q is not RFC 3339", field, pe.Value)
		}
		return fmt.Sprintf("time %q: not RFC 3339", pe.Value)
	}
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown field " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	return strings.TrimPrefix(msg, "json: ")
}

// Validate checks what a decision relies on, naming the first bad field.
func (s Snapshot) Validate() error {
	v := validator{}
	if s.Version != Version {
		v.add("version", "is %d, want %d", s.Version, Version)
	}
	v.time("captured_at", s.CapturedAt)
	v.nonEmpty("incident.id", s.Incident.ID)
	if s.Incident.State != StateOpen && s.Incident.State != StateClosed {
		v.add("incident.state", "is %q, want open or closed", s.Incident.State)
	}
	v.time("incident.started_at", s.Incident.StartedAt)
	v.nonEmpty("target.project", s.Target.Project)
	v.nonEmpty("target.location", s.Target.Location)
	v.nonEmpty("target.service", s.Target.Service)
	v.memory("service.template.memory", s.Service.Template.Memory)
	v.cpu("service.template.cpu", s.Service.Template.CPU)
	v.traffic(s.Service.Traffic)
	for i, r := range s.Revisions {
		f := fmt.Sprintf("revisions[%d]", i)
		v.nonEmpty(f+".name", r.Name)
		v.time(f+".created_at", r.CreatedAt)
		if r.Memory != "" {
			v.memory(f+".memory", r.Memory)
		}
		if i > 0 && r.CreatedAt.After(s.Revisions[i-1].CreatedAt) {
			v.add(f+".created_at", "is newer than revisions[%d]; revisions must be newest first", i-1)
		}
	}
	v.series("metrics.memory_utilization", s.Metrics.MemoryUtilization)
	v.series("metrics.instance_count", s.Metrics.InstanceCount)
	v.series("metrics.request_count", s.Metrics.RequestCount)
	v.series("metrics.server_error_count", s.Metrics.ServerErrorCount)
	for _, rev := range slices.Sorted(maps.Keys(s.Metrics.MemoryByRevision)) {
		v.nonEmpty("metrics.memory_by_revision: revision name", rev)
		v.series(fmt.Sprintf("metrics.memory_by_revision[%q]", rev), s.Metrics.MemoryByRevision[rev])
	}
	if s.Logs != nil {
		for i, k := range s.Logs.OOMKills {
			f := fmt.Sprintf("logs.oom_kills[%d]", i)
			v.nonEmpty(f+".revision", k.Revision)
			if k.Count < 1 {
				v.add(f+".count", "is %d, want at least 1", k.Count)
			}
			if k.MaxUsedMiB < 0 || k.LimitMiB < 0 {
				v.add(f, "MiB values must not be negative")
			}
			v.time(f+".first", k.First)
			v.time(f+".last", k.Last)
			if k.Last.Before(k.First) {
				v.add(f+".last", "is before first")
			}
		}
	}
	for i, a := range s.History {
		f := fmt.Sprintf("history[%d]", i)
		v.nonEmpty(f+".action", a.Action)
		v.time(f+".at", a.At)
	}
	return v.err
}

// validator keeps the first problem found.
type validator struct{ err error }

func (v *validator) add(field, format string, args ...any) {
	if v.err == nil {
		v.err = fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
	}
}

func (v *validator) nonEmpty(field, s string) {
	if s == "" {
		v.add(field, "missing")
	}
}

func (v *validator) time(field string, t time.Time) {
	if t.IsZero() {
		v.add(field, "missing (want an RFC 3339 time)")
	}
}

func (v *validator) memory(field, s string) {
	if _, err := quantity.ParseMemory(s); err != nil {
		v.add(field, "%v", err)
	}
}

func (v *validator) cpu(field, s string) {
	if _, err := quantity.ParseCPU(s); err != nil {
		v.add(field, "%v", err)
	}
}

func (v *validator) traffic(ts []TrafficTarget) {
	sum := 0
	for i, t := range ts {
		f := fmt.Sprintf("service.traffic[%d]", i)
		switch t.Type {
		case TrafficLatest:
		case TrafficRevision:
			v.nonEmpty(f+".revision", t.Revision)
		default:
			v.add(f+".type", "is %q, want LATEST or REVISION", t.Type)
		}
		if t.Percent < 0 || t.Percent > 100 {
			v.add(f+".percent", "is %d, want 0..100", t.Percent)
		}
		sum += t.Percent
	}
	if len(ts) > 0 && sum != 100 {
		v.add("service.traffic", "percentages sum to %d, want 100", sum)
	}
}

func (v *validator) series(field string, ps []Point) {
	for i, p := range ps {
		// The field is named only for a bad point: a series has hundreds of good ones.
		zero, unordered := p.At.IsZero(), i > 0 && !p.At.After(ps[i-1].At)
		if !zero && !unordered {
			continue
		}
		f := fmt.Sprintf("%s[%d].at", field, i)
		v.time(f, p.At)
		if unordered {
			v.add(f, "not after the previous point; series must be oldest first")
		}
	}
}

// badTimeField finds the first time field that does not parse. encoding/json reports a bad time
// without its field, so the document is walked again along the snapshot's time fields.
func badTimeField(data []byte) string {
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return ""
	}
	bad := func(v any) bool {
		s, ok := v.(string)
		if !ok {
			return v != nil
		}
		_, err := time.Parse(time.RFC3339, s)
		return err != nil
	}
	obj := func(v any) map[string]any { m, _ := v.(map[string]any); return m }
	list := func(v any) []any { l, _ := v.([]any); return l }
	if v, ok := doc["captured_at"]; ok && bad(v) {
		return "captured_at"
	}
	inc := obj(doc["incident"])
	for _, k := range []string{"started_at", "ended_at"} {
		if v, ok := inc[k]; ok && v != nil && bad(v) {
			return "incident." + k
		}
	}
	for i, r := range list(doc["revisions"]) {
		if v, ok := obj(r)["created_at"]; ok && bad(v) {
			return fmt.Sprintf("revisions[%d].created_at", i)
		}
	}
	metrics := obj(doc["metrics"])
	for _, k := range []string{"memory_utilization", "instance_count", "request_count", "server_error_count"} {
		for i, p := range list(metrics[k]) {
			if v, ok := obj(p)["at"]; ok && bad(v) {
				return fmt.Sprintf("metrics.%s[%d].at", k, i)
			}
		}
	}
	for i, h := range list(doc["history"]) {
		if v, ok := obj(h)["at"]; ok && bad(v) {
			return fmt.Sprintf("history[%d].at", i)
		}
	}
	return ""
}
