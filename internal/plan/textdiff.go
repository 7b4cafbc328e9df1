package plan

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// writeChanges writes the diff block: one service, its changed fields aligned, traffic as a list.
func writeChanges(b *strings.Builder, c painter, p Plan) {
	name := serviceName(p.Target)
	note := "will be updated in-place"
	for _, ch := range p.Changes {
		if isTemplatePath(ch.Path) {
			note += " (a new revision will be created)"
			break
		}
	}
	fmt.Fprintf(b, "  # service %q %s\n", name, note)
	fmt.Fprintf(b, "  %s service %q\n", c.marker("~"), name)
	width := 0
	for _, ch := range p.Changes {
		if ch.Path != snapshot.PathTraffic {
			width = max(width, len(ch.Path)+1)
		}
	}
	for _, ch := range p.Changes {
		if ch.Path == snapshot.PathTraffic {
			before, errB := ch.Before.Traffic()
			after, errA := ch.After.Traffic()
			if errB == nil && errA == nil {
				fmt.Fprintf(b, "      %s %s:\n", c.marker("~"), ch.Path)
				writeTraffic(b, c, before, after)
				continue
			}
		}
		fmt.Fprintf(b, "      %s %-*s %s -> %s\n", c.marker("~"), width, ch.Path+":", formatValue(ch.Before), formatValue(ch.After))
	}
}

// writeTraffic lists entries that go away with -, entries that stay unmarked, new entries with +.
func writeTraffic(b *strings.Builder, c painter, before, after []snapshot.TrafficTarget) {
	const indent = "          "
	for _, t := range before {
		if !containsTarget(after, t) {
			fmt.Fprintf(b, "%s%s %s\n", indent, c.marker("-"), formatTarget(t))
		}
	}
	for _, t := range after {
		m := c.marker("+")
		if containsTarget(before, t) {
			m = " "
		}
		fmt.Fprintf(b, "%s%s %s\n", indent, m, formatTarget(t))
	}
}

func containsTarget(ts []snapshot.TrafficTarget, t snapshot.TrafficTarget) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}

func formatTarget(t snapshot.TrafficTarget) string {
	parts := []string{fmt.Sprintf("type = %q", t.Type)}
	if t.Revision != "" {
		parts = append(parts, fmt.Sprintf("revision = %q", t.Revision))
	}
	parts = append(parts, fmt.Sprintf("percent = %d", t.Percent))
	if t.Tag != "" {
		parts = append(parts, fmt.Sprintf("tag = %q", t.Tag))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// formatValue writes a scalar change value as HCL would: strings quoted, numbers bare.
func formatValue(v snapshot.Value) string {
	switch v.Kind() {
	case snapshot.KindNull:
		return "null"
	case snapshot.KindText:
		s, _ := v.Text()
		return strconv.Quote(s)
	case snapshot.KindNumber:
		if s, ok := v.Text(); ok {
			return s
		}
		if f, ok := v.Float(); ok {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return v.String()
}

// writeSignals lists the signals by their JSON names, in field order, values aligned, with the
// groups of fields (embedded structs) flattened as JSON flattens them. A field JSON omits (an
// absent OOM count without readable logs) is not listed. Floats are rounded to 4 decimals:
// enough to reason with, short enough to read; lists and maps print as JSON.
func writeSignals(b *strings.Builder, sig signals.Signals) {
	type kv struct{ k, v string }
	var rows []kv
	width := 0
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			fv := v.Field(i)
			if f.Anonymous && fv.Kind() == reflect.Struct && name == "" {
				walk(fv)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if strings.Contains(opts, "omitempty") && fv.IsZero() {
				continue
			}
			if fv.Kind() == reflect.Pointer {
				fv = fv.Elem()
			}
			var val string
			switch x := fv.Interface().(type) {
			case float64:
				val = strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
			case string:
				val = strconv.Quote(x)
			case bool, int, int64:
				val = fmt.Sprint(x)
			default:
				raw, err := json.Marshal(x)
				if err != nil {
					raw = []byte(fmt.Sprint(x))
				}
				val = string(raw)
			}
			rows = append(rows, kv{name, val})
			width = max(width, len(name))
		}
	}
	walk(reflect.ValueOf(sig))
	for _, r := range rows {
		fmt.Fprintf(b, "  %-*s  %s\n", width, r.k, r.v)
	}
}
