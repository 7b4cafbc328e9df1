package scenario

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/runmedic/runmedic/internal/plan"
)

// Rendered is a result as its golden files hold it: the text plan and the JSON plan, or, for an
// input runmedic refuses, the one-line error in both (as `runmedic plan` prints it).
type Rendered struct {
	Text []byte
	JSON []byte
}

// Render renders res the way `runmedic plan -no-color` and `-o json` print it.
func Render(res Result) (Rendered, error) {
	if res.Err != nil {
		line := []byte("Error: " + strings.ReplaceAll(res.Err.Error(), "\n", " ") + "\n")
		return Rendered{Text: line, JSON: line}, nil
	}
	var text, js bytes.Buffer
	if err := plan.RenderText(&text, res.Outcome.Plan, plan.TextOptions{}); err != nil {
		return Rendered{}, err
	}
	if err := plan.RenderJSON(&js, res.Outcome.Plan); err != nil {
		return Rendered{}, err
	}
	return Rendered{Text: text.Bytes(), JSON: js.Bytes()}, nil
}

// Mismatch is a golden file whose content differs from the rendering.
type Mismatch struct {
	File      string
	Want, Got []byte
}

// Compare checks r against the scenario's golden files. A missing golden is a mismatch with an
// empty Want.
func Compare(sc Scenario, r Rendered) ([]Mismatch, error) {
	var out []Mismatch
	for _, g := range []struct {
		name string
		got  []byte
	}{{TextGolden, r.Text}, {JSONGolden, r.JSON}} {
		path := filepath.Join(sc.Dir, g.name)
		want, err := os.ReadFile(path)
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("read golden: %w", err)
		}
		if !bytes.Equal(want, g.got) {
			out = append(out, Mismatch{File: path, Want: want, Got: g.got})
		}
	}
	return out, nil
}

// WriteGoldens rewrites the scenario's golden files from r.
func WriteGoldens(sc Scenario, r Rendered) error {
	if err := os.WriteFile(filepath.Join(sc.Dir, TextGolden), r.Text, 0o644); err != nil {
		return fmt.Errorf("write golden: %w", err)
	}
	if err := os.WriteFile(filepath.Join(sc.Dir, JSONGolden), r.JSON, 0o644); err != nil {
		return fmt.Errorf("write golden: %w", err)
	}
	return nil
}
