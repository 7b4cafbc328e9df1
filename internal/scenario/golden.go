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

// Mismatch is a golden file whose content differs from the rendering, or that does not exist.
type Mismatch struct {
	File      string
	Want, Got []byte
	Missing   bool // no golden file: Want is empty because there is nothing to compare with
}

// Compare checks r against the scenario's golden files. A missing golden is a mismatch marked
// Missing, so it is reported as missing rather than as a diff against nothing.
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
		if err != nil || !bytes.Equal(want, g.got) {
			out = append(out, Mismatch{File: path, Want: want, Got: g.got, Missing: err != nil})
		}
	}
	return out, nil
}

// WriteGoldens rewrites the scenario's golden files from r and returns the paths whose content
// changed; a golden that already holds r is left alone, so -update can say what it rewrote.
func WriteGoldens(sc Scenario, r Rendered) ([]string, error) {
	mm, err := Compare(sc, r)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, m := range mm {
		if err := os.WriteFile(m.File, m.Got, 0o644); err != nil {
			return written, fmt.Errorf("write golden: %w", err)
		}
		written = append(written, m.File)
	}
	return written, nil
}
