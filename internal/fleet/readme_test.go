package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/chart"
	"github.com/runmedic/runmedic/internal/fleettest"
	"github.com/runmedic/runmedic/internal/golden"
	"github.com/runmedic/runmedic/internal/report"
	"github.com/runmedic/runmedic/internal/status"
)

// TestReadmeShowsTheViews keeps the README's status example and the chart under docs/ what the
// code renders for the fleet fixture; -update rewrites the chart and the README's block.
func TestReadmeShowsTheViews(t *testing.T) {
	f := fleettest.Start(t, now)
	r := reader(t, f)
	text := status.Text(rows(t, r), now)
	in, err := r.Incident(context.Background(), fleettest.API, fleettest.Incident, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	svgPath := filepath.Join("..", "..", "docs", "incident-chart.svg")
	readme := filepath.Join("..", "..", "README.md")
	b, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	want, err := block(string(b), "status", "```\n", "$ runmedic status\n"+text)
	if err != nil {
		t.Fatal(err)
	}
	md := report.Markdown(in)
	want, err = block(want, "report", "````markdown\n", "$ runmedic report --incident "+fleettest.Incident+"\n"+md)
	if err != nil {
		t.Fatal(err)
	}
	svg := chart.SVG(in.Chart)
	if *golden.Update {
		if err := os.WriteFile(readme, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(svgPath, []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(b) != want {
		t.Error("README.md's status or report example differs from what status prints for the fleet fixture; run go test ./internal/fleet -update")
	}
	if have, err := os.ReadFile(svgPath); err != nil || string(have) != svg {
		t.Errorf("docs/incident-chart.svg differs from the chart of the fleet fixture's incident (%v); run go test ./internal/fleet -update", err)
	}
}

// block replaces what README text holds between the name:start and name:end markers, inside a
// fenced block opened by fence (its backticks close it), with body.
func block(text, name, fence, body string) (string, error) {
	closing := strings.TrimRight(fence, "abcdefghijklmnopqrstuvwxyz\n") + "\n"
	start, end := "<!-- "+name+":start -->\n"+fence, closing+"<!-- "+name+":end -->"
	i, j := strings.Index(text, start), strings.Index(text, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md has no %s:start/end block", name)
	}
	return text[:i+len(start)] + body + text[j:], nil
}
