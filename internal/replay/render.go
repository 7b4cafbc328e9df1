package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/runmedic/runmedic/internal/signals"
)

// RowsDoc is the JSON document of a replay: every row and the counts.
type RowsDoc struct {
	Scenarios []Row  `json:"scenarios"`
	Summary   string `json:"summary"`
}

// WriteRows writes the replay table in format f. Text prints each row's explanation under it
// when the rows carry one; JSON carries it in the rows.
func WriteRows(w io.Writer, rows []Row, f Format) error {
	if f == JSON {
		return writeJSON(w, RowsDoc{Scenarios: append([]Row{}, rows...), Summary: RowsSummary(rows)})
	}
	t := table{header: []string{"scenario", "diagnosis", "action", "change", "guard"}, footer: RowsSummary(rows)}
	if f == CSV {
		t.header = append(t.header, "error")
	}
	for _, r := range rows {
		cells := []string{r.Scenario, dash(r.Diagnosis), dash(r.Action), dash(r.Change), dash(r.Guard)}
		if r.Error != "" && f != CSV {
			cells = []string{r.Scenario, "-", "error", r.Error}
		}
		if f == CSV {
			cells = []string{r.Scenario, r.Diagnosis, r.Action, r.Change, r.Guard, r.Error}
		}
		t.rows = append(t.rows, cells)
		t.notes = append(t.notes, explanation(r))
	}
	return t.write(w, f)
}

// RowsSummary counts the rows: "20 scenarios: 12 with changes, 5 without, 3 errors".
func RowsSummary(rows []Row) string {
	changes, none, errs := 0, 0, 0
	for _, r := range rows {
		switch {
		case r.Error != "":
			errs++
		case r.Change != "":
			changes++
		default:
			none++
		}
	}
	return fmt.Sprintf("%s: %d with changes, %d without, %d errors", plural(len(rows), "scenario"), changes, none, errs)
}

// WriteComparison writes the scenarios two policy sets decide differently, before and after
// side by side, and the summary line.
func WriteComparison(w io.Writer, c Comparison, f Format) error {
	if f == JSON {
		return writeJSON(w, struct {
			Comparison
			Summary string `json:"summary"`
		}{c, c.Summary()})
	}
	t := table{header: []string{"scenario", "before", "after", "differs"}, footer: c.Summary()}
	if f == CSV {
		t.header = []string{"scenario",
			"before_diagnosis", "before_action", "before_change", "before_guard", "before_error",
			"after_diagnosis", "after_action", "after_change", "after_guard", "after_error", "differs"}
	}
	for _, d := range c.Diffs {
		fields := strings.Join(d.Fields, ",")
		if f == CSV {
			b, a := d.Before, d.After
			t.rows = append(t.rows, []string{d.Scenario,
				b.Diagnosis, b.Action, b.Change, b.Guard, b.Error,
				a.Diagnosis, a.Action, a.Change, a.Guard, a.Error, fields})
			continue
		}
		t.rows = append(t.rows, []string{d.Scenario, cell(d.Before), cell(d.After), fields})
		var notes []string
		if n := explanation(d.Before); len(n) > 0 {
			notes = append(append(notes, "before:"), indent(n)...)
		}
		if n := explanation(d.After); len(n) > 0 {
			notes = append(append(notes, "after:"), indent(n)...)
		}
		t.notes = append(t.notes, notes)
	}
	return t.write(w, f)
}

// cell is a whole decision in one cell: "raise_memory (insufficient_memory): template.memory
// 2Gi -> 4Gi; allowed".
func cell(r Row) string {
	if r.Error != "" {
		return "error: " + r.Error
	}
	if r.Plan == nil && r.Action == "" {
		return "-"
	}
	s := fmt.Sprintf("%s (%s)", r.Action, r.Diagnosis)
	if r.Change != "" {
		s += ": " + r.Change
	}
	return s + "; " + r.Guard
}

// explanation is what --explain prints under a row: the rules that held (constants and
// functions left to -o json), then the signals.
func explanation(r Row) []string {
	var out []string
	if len(r.Steps) > 0 {
		out = append(out, "rules:")
		for _, s := range r.Steps {
			if s.Helper {
				continue
			}
			line := "  " + s.String()
			if s.Title != "" {
				line += "   # " + s.Title
			}
			out = append(out, line)
		}
	}
	if r.Signals != nil {
		out = append(out, "signals:")
		out = append(out, indent(signalLines(*r.Signals, 96))...)
	}
	return out
}

func indent(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = "  " + l
	}
	return out
}

// signalLines are the signals as key=value in their JSON order, values as JSON, wrapped at width.
func signalLines(s signals.Signals, width int) []string {
	b, err := json.Marshal(s)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil
	}
	var lines []string
	line := ""
	for dec.More() {
		k, err1 := dec.Token()
		var v json.RawMessage // a list or an object stays one compact JSON value
		err2 := dec.Decode(&v)
		if err1 != nil || err2 != nil {
			break
		}
		pair := fmt.Sprintf("%v=%s", k, v)
		if line != "" && len(line)+1+len(pair) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += pair
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}

// plural is "1 scenario", "2 scenarios".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
