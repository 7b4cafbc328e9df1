package replay

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTextFitsTheWidth(t *testing.T) {
	long := strings.Repeat("x", 200)
	tb := table{
		header: []string{"scenario", "change", "guard"},
		rows: [][]string{
			{"short", "template.memory 2Gi -> 4Gi", "allowed"},
			{"wide", long, "refused: " + long},
			{"error-row", "error: " + long}, // ends early: its last cell runs to the width
		},
		notes:  [][]string{nil, {"note " + long}},
		footer: "3 scenarios",
	}
	var b strings.Builder
	tb.text(&b)
	out := b.String()
	for line := range strings.Lines(out) {
		if n := utf8.RuneCountInString(strings.TrimRight(line, "\n")); n > textWidth {
			t.Errorf("line of %d columns, want at most %d: %q", n, textWidth, line)
		}
	}
	for _, want := range []string{"short      template.memory 2Gi -> 4Gi", "…", "cells cut to fit 120 columns", "3 scenarios"} {
		if !strings.Contains(out, want) {
			t.Errorf("text table lacks %q:\n%s", want, out)
		}
	}
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "error-row") {
			row = l
		}
	}
	if utf8.RuneCountInString(row) != textWidth {
		t.Errorf("a row that ends early is %d columns, want its message to run to %d:\n%s", utf8.RuneCountInString(row), textWidth, row)
	}

	var narrow strings.Builder
	table{header: []string{"a", "b"}, rows: [][]string{{"1", "2"}}}.text(&narrow)
	if strings.Contains(narrow.String(), "cut") {
		t.Errorf("a table that fits says it was cut:\n%s", narrow.String())
	}
}

func TestTruncateKeepsTheVerdict(t *testing.T) {
	for _, tt := range []struct {
		s    string
		n    int
		want string
	}{
		{"raise_memory (insufficient_memory): template.memory 2Gi -> 4Gi; refused: policy", 40, "raise_memory (insuffic…; refused: policy"},
		{"abcdefghij", 5, "abcd…"},
		{"short", 10, "short"},
	} {
		if got := truncate(tt.s, tt.n); got != tt.want || utf8.RuneCountInString(got) > tt.n {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}
