package replay

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Format is an output format of the replay tables.
type Format string

// The formats. Text is for a terminal; the others are for tools, spreadsheets and pull requests.
const (
	Text     Format = "text"
	JSON     Format = "json"
	CSV      Format = "csv"
	Markdown Format = "markdown"
)

// ParseFormat accepts the names of the formats.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Text, JSON, CSV, Markdown:
		return f, nil
	}
	return "", fmt.Errorf("output format %q: want text, json, csv or markdown", s)
}

// table is what text, CSV and Markdown share: a header, rows of cells, and for text only, lines
// printed under a row (the explanation). A text row may have fewer cells than the header.
type table struct {
	header []string
	rows   [][]string
	notes  [][]string // notes[i] go under rows[i]; may be shorter than rows
	footer string     // a line after the table (text and Markdown)
}

func (t table) write(w io.Writer, f Format) error {
	var b strings.Builder
	switch f {
	case CSV:
		cw := csv.NewWriter(&b)
		_ = cw.Write(t.header)
		_ = cw.WriteAll(t.rows)
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write csv: %w", err)
		}
	case Markdown:
		t.markdown(&b)
	default:
		t.text(&b)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// text aligns the columns by padding; notes are indented under their row and do not widen it.
func (t table) text(b *strings.Builder) {
	// The last cell of a row is never padded, so it does not widen its column: a row may end
	// early with one long cell (an error) without stretching the table.
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r[:len(r)-1] {
			widths[i] = max(widths[i], len(c))
		}
	}
	line := func(cells []string) {
		var l strings.Builder
		for i, c := range cells {
			if i < len(cells)-1 {
				fmt.Fprintf(&l, "%-*s  ", widths[i], c)
			} else {
				l.WriteString(c)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	line(t.header)
	for i, r := range t.rows {
		line(r)
		if i < len(t.notes) {
			for _, n := range t.notes[i] {
				b.WriteString("    " + n + "\n")
			}
		}
	}
	if t.footer != "" {
		b.WriteString("\n" + t.footer + "\n")
	}
}

func (t table) markdown(b *strings.Builder) {
	line := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(esc, " | ") + " |\n")
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	if t.footer != "" {
		b.WriteString("\n" + t.footer + "\n")
	}
}

// writeJSON writes v indented, with "->" and "<" left readable.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	return nil
}

// dash stands in for an empty cell, so a column never looks shifted.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
