package policy

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/runmedic/runmedic/internal/decision"
)

// Step is one rule of the policy package whose body held while deciding: what
// `runmedic plan --explain` prints, in file order.
type Step struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Rule  string `json:"rule"`            // the rule's name, e.g. "regression"
	Head  string `json:"head"`            // the head as written, e.g. "decision := rollback_decision if {"
	Value string `json:"value,omitempty"` // the value the rule produced, shortened; empty for functions
	Title string `json:"title,omitempty"` // the rule's METADATA title, when it has one
	// Helper marks a constant (a rule whose body is empty) or a function: plumbing, which
	// --explain hides unless asked for everything.
	Helper bool `json:"helper,omitempty"`
}

// String is "oom.rego:42 regression = true".
func (s Step) String() string {
	if s.Value == "" {
		return fmt.Sprintf("%s:%d %s", s.File, s.Line, s.Head)
	}
	return fmt.Sprintf("%s:%d %s = %s", s.File, s.Line, s.Rule, s.Value)
}

// maxValue bounds a Step's value: explain output is for reading, not a dump.
const maxValue = 160

// Explain decides like Decide and also returns the rules of the policy package that held on
// the way. It traces the evaluation, so it is for people, not for the hot path.
func (e *Engine) Explain(ctx context.Context, input any) (decision.Decision, []Step, error) {
	v, err := inputValue(input)
	if err != nil {
		return decision.Decision{}, nil, err
	}
	t := &stepTracer{pkg: "data." + e.pkg, seen: map[string]bool{}}
	d, err := e.eval(ctx, v, rego.EvalQueryTracer(t))
	sortSteps(t.steps)
	return d, t.steps, err
}

func sortSteps(steps []Step) {
	slices.SortStableFunc(steps, func(a, b Step) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
}

// title is the METADATA title written right above r (or above the first rule of its else
// chain's document), "" when there is none.
func title(r *ast.Rule) string {
	best, bestRow := "", 0
	for _, a := range r.Module.Annotations {
		if a.Title == "" || a.Location == nil || a.Location.Row >= r.Location.Row {
			continue
		}
		end := a.Location.Row + strings.Count(string(a.Location.Text), "\n")
		if end+1 >= r.Location.Row && a.Location.Row > bestRow {
			best, bestRow = a.Title, a.Location.Row
		}
	}
	if best == "" {
		// A rule of a document whose first rule carries the METADATA (else branches, and
		// rules split across bodies) shares its title.
		for _, a := range r.Module.Annotations {
			if a.Title != "" && a.Scope == "document" && a.GetTargetPath().Equal(r.Ref().GroundPrefix()) {
				return a.Title
			}
		}
		for _, other := range r.Module.Rules {
			if other != r && other.Location != nil && other.Location.Row < r.Location.Row && other.Head.Ref().Equal(r.Head.Ref()) {
				return title(other)
			}
		}
	}
	return best
}

// isHelper reports whether r is plumbing: a function, or a constant, that is a rule that reads
// neither the input nor another rule of its package (a number, a config value).
func isHelper(r *ast.Rule) bool {
	if len(r.Head.Args) > 0 {
		return true
	}
	pkg := r.Module.Package.Path
	reads := false
	visit := func(x any) {
		ast.WalkRefs(x, func(ref ast.Ref) bool {
			if ref.HasPrefix(ast.InputRootRef) || ref.HasPrefix(pkg) || ref[0].Value.Compare(ast.InputRootDocument.Value) == 0 {
				reads = true
			}
			return reads
		})
	}
	visit(r.Body)
	if r.Head.Value != nil {
		visit(r.Head.Value)
	}
	return !reads
}

// stepTracer records each rule of one package the first time its body exits successfully,
// plugging the head's value while the bindings are still live.
type stepTracer struct {
	pkg   string
	seen  map[string]bool
	steps []Step
}

func (t *stepTracer) Enabled() bool { return true }

func (t *stepTracer) Config() topdown.TraceConfig { return topdown.TraceConfig{} }

func (t *stepTracer) TraceEvent(ev topdown.Event) {
	if ev.Op != topdown.ExitOp {
		return
	}
	r, ok := ev.Node.(*ast.Rule)
	if !ok || r.Module == nil || r.Module.Package.Path.String() != t.pkg || r.Location == nil {
		return
	}
	s := Step{
		File:   r.Location.File,
		Line:   r.Location.Row,
		Rule:   r.Head.Ref().String(),
		Head:   headText(r),
		Title:  title(r),
		Helper: isHelper(r),
	}
	if len(r.Head.Args) == 0 {
		term := r.Head.Value
		if r.Head.Key != nil && r.Head.Value == nil {
			term = r.Head.Key // a partial set: the element this body added
		}
		if term != nil {
			s.Value = shorten(ev.Plug(term).String())
		}
	}
	key := fmt.Sprintf("%s:%d:%s", s.File, s.Line, s.Value)
	if t.seen[key] {
		return
	}
	t.seen[key] = true
	t.steps = append(t.steps, s)
}

// headText is the rule's first source line, as the author wrote it.
func headText(r *ast.Rule) string {
	text, _, _ := strings.Cut(string(r.Location.Text), "\n")
	return strings.TrimSpace(text)
}

func shorten(s string) string {
	if len(s) <= maxValue {
		return s
	}
	return s[:maxValue-3] + "..."
}
