package policy

import (
	"context"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/runmedic/runmedic/internal/decision"
)

// Branch is one branch of the decision rule's else chain, in priority order.
type Branch struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Head string `json:"head"` // the line as written: "} else := rollback_decision if {"
	Held bool   `json:"held"` // the winner; branches below it were never tried
	// Why is, for a branch above the winner, the first condition that did not hold, with the
	// values it saw: `"insufficient_memory" == "regression"`.
	Why string `json:"why,omitempty"`
}

// Explanation is what `--explain` shows: why each branch above the winning one did not fire,
// the winning branch, and every rule that held (constants and helpers marked).
type Explanation struct {
	Branches []Branch `json:"branches"`
	Steps    []Step   `json:"steps"`
}

// ExplainDecision decides like Decide and explains the decision rule's branches and the rules
// that held. It traces the evaluation, so it is for people, not for the hot path.
func (e *Engine) ExplainDecision(ctx context.Context, input any) (decision.Decision, Explanation, error) {
	v, err := inputValue(input)
	if err != nil {
		return decision.Decision{}, Explanation{}, err
	}
	steps := &stepTracer{pkg: "data." + e.pkg, seen: map[string]bool{}}
	fails := &failTracer{pkg: "data." + e.pkg, failed: map[string]failure{}}
	d, err := e.eval(ctx, v, rego.EvalQueryTracer(steps), rego.EvalQueryTracer(fails))
	sortSteps(steps.steps)
	ex := Explanation{Steps: steps.steps}
	if fails.root != nil {
		values := map[string]string{}
		for _, st := range steps.steps {
			if st.Value != "" {
				values[st.Rule] = st.Value
			}
		}
		why := map[string]string{}
		for k, f := range fails.failed {
			why[k] = f.text(fails.pkg, values)
		}
		ex.Branches = branches(fails.root, why, steps.steps)
	}
	return d, ex, err
}

// branches walks the else chain from root down to the branch that held (the decision step's
// line), saying for each branch above it which condition failed.
func branches(root *ast.Rule, failed map[string]string, steps []Step) []Branch {
	won := 0
	for _, s := range steps {
		if s.Rule == "decision" {
			won = s.Line
		}
	}
	var out []Branch
	for r := root; r != nil; r = r.Else {
		b := Branch{File: r.Location.File, Line: r.Location.Row, Head: headText(r), Held: r.Location.Row == won}
		if b.Held {
			out = append(out, b)
			break
		}
		for _, expr := range r.Body {
			if why, ok := failed[exprKey(expr)]; ok {
				b.Why = why
				break
			}
		}
		if b.Why == "" && len(r.Body) > 0 {
			// OPA's rule index can skip a body whose condition compares input to a constant, so
			// no expression failed in the trace; the branch did not hold all the same.
			b.Why = r.Body[0].String() + "  (did not hold)"
		}
		if b.Why == "" {
			b.Why = "not evaluated"
		}
		out = append(out, b)
	}
	return out
}

// failTracer records the decision rule's root and, for every expression of the package that
// failed, the expression with the values it saw (the first failure of each).
type failTracer struct {
	pkg    string
	root   *ast.Rule
	failed map[string]failure
}

// failure is one failed expression: as written, and with its variables plugged.
type failure struct {
	written string
	plugged *ast.Expr
	negated bool
}

func (t *failTracer) Enabled() bool { return true }

func (t *failTracer) Config() topdown.TraceConfig { return topdown.TraceConfig{} }

func (t *failTracer) TraceEvent(ev topdown.Event) {
	switch n := ev.Node.(type) {
	case *ast.Rule:
		if ev.Op == topdown.EnterOp && n.Module != nil && n.Module.Package.Path.String() == t.pkg &&
			n.Head.Ref().String() == "decision" && n.Location != nil && (t.root == nil || n.Location.Row < t.root.Location.Row) {
			t.root = n
		}
	case *ast.Expr:
		if ev.Op != topdown.FailOp || n.Location == nil {
			return
		}
		key := exprKey(n)
		if _, ok := t.failed[key]; ok {
			return
		}
		plugged := n.Copy()
		switch terms := n.Terms.(type) {
		case []*ast.Term:
			args := make([]*ast.Term, len(terms))
			args[0] = terms[0]
			for i, a := range terms[1:] {
				args[i+1] = ev.Plug(a)
			}
			plugged.Terms = args
		case *ast.Term:
			plugged.Terms = ev.Plug(terms)
		}
		t.failed[key] = failure{written: strings.TrimSpace(string(n.Location.Text)), plugged: plugged, negated: n.Negated}
	}
}

func exprKey(e *ast.Expr) string {
	if e.Location == nil {
		return ""
	}
	return fmt.Sprintf("%s:%d:%d", e.Location.File, e.Location.Row, e.Location.Col)
}

// infix writes the comparison built-ins the way policies are written.
var infix = map[string]string{"equal": "==", "eq": "==", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// text is the failure for a person: the expression as written and, when its operands had
// values, as evaluated, with the package's rules replaced by the values they had (from the
// rules that held) or "undefined": `diagnosis == "regression"  ("insufficient_memory" == "regression")`.
func (f failure) text(pkg string, values map[string]string) string {
	value := func(t *ast.Term) string {
		if ref, ok := t.Value.(ast.Ref); ok && ref.HasPrefix(ast.MustParseRef(pkg)) {
			rule := strings.TrimPrefix(ref.String(), pkg+".")
			if v, ok := values[rule]; ok {
				return v
			}
			return rule + " (undefined)"
		}
		return t.String()
	}
	switch terms := f.plugged.Terms.(type) {
	case *ast.Term:
		got := value(terms)
		if f.negated {
			return f.written + "  (it holds: " + got + ")"
		}
		if strings.HasSuffix(got, "(undefined)") {
			return f.written + "  (undefined: no body of it held)"
		}
		return f.written + "  (" + got + ")"
	case []*ast.Term:
		op := terms[0].String()
		if sym, ok := infix[op]; ok && len(terms) == 3 {
			return f.written + "  (" + shorten(value(terms[1])+" "+sym+" "+value(terms[2])) + ")"
		}
		args := make([]string, 0, len(terms)-1)
		for _, a := range terms[1:] {
			args = append(args, value(a))
		}
		return f.written + "  (" + shorten(op+"("+strings.Join(args, ", ")+")") + ")"
	}
	return f.written
}
