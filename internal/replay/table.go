package replay

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
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

// textWidth is the widest line a text table prints: it fits a terminal, a pull request comment
// and a log viewer without wrapping. -o json and -o csv keep every value whole.
const textWidth = 120

// minColumn is the narrowest a column is cut to.
const minColumn = 10

// text aligns the columns by padding and fits them in textWidth, cutting the widest columns
// first (a cut cell ends in "…"). A row that ends early (an error) lets its last cell run to
// textWidth without widening its column. Notes are indented under their row, cut at textWidth.
func (t table) text(b *strings.Builder) {
	widths := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		cells := r
		if len(r) < len(t.header) {
			cells = r[:len(r)-1]
		}
		for i, c := range cells {
			widths[i] = max(widths[i], runes(c))
		}
	}
	total := func() int {
		n := 2 * (len(widths) - 1)
		for _, w := range widths {
			n += w
		}
		return n
	}
	for total() > textWidth {
		widest := 0
		for i, w := range widths {
			if w > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= minColumn {
			break
		}
		widths[widest]--
	}
	cut := false
	line := func(cells []string) {
		var l strings.Builder
		for i, c := range cells {
			limit := widths[i]
			if i == len(cells)-1 && len(cells) < len(widths) {
				limit = max(minColumn, textWidth-runes(l.String()))
			}
			if runes(c) > limit {
				c, cut = truncate(c, limit), true
			}
			if i < len(cells)-1 {
				fmt.Fprintf(&l, "%s%s  ", c, strings.Repeat(" ", widths[i]-runes(c)))
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
				if runes(n)+4 > textWidth {
					n, cut = truncate(n, textWidth-4), true
				}
				b.WriteString("    " + n + "\n")
			}
		}
	}
	if t.footer != "" {
		b.WriteString("\n" + t.footer + "\n")
	}
	if cut {
		fmt.Fprintf(b, "(cells cut to fit %d columns end in …; -o json or -o csv has every value in full)\n", textWidth)
	}
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// truncate cuts s to n runes with an ellipsis. A cell that ends in "; verdict" (the guard of a
// before or after cell) keeps that ending and is cut in the middle instead: the verdict is what
// a comparison is read for.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if i := strings.LastIndex(s, "; "); i >= 0 {
		tail := []rune(s[i:])
		if len(tail) <= n-minColumn {
			return string(r[:n-len(tail)-1]) + "…" + string(tail)
		}
	}
	return string(r[:n-1]) + "…"
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
