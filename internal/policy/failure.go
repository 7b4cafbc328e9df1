package policy

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// explainFailures runs the failed tests of rep again, traced, with the test rules rewritten so
// that every compared value is kept (what `opa test --var-values` does), and replaces each one's
// message with the expression that failed, where, and the values it compared. Tracing excludes
// coverage in OPA's runner, hence the second run; only failures pay for it.
func explainFailures(ctx context.Context, modules map[string]*ast.Module, store storage.Store, rep *Report) {
	var names []string
	for _, t := range rep.Tests {
		if t.Outcome == Fail {
			names = append(names, regexp.QuoteMeta("data."+t.Package+"."+t.Name))
		}
	}
	if len(names) == 0 {
		return
	}
	runner := tester.NewRunner().
		SetCompiler(ast.NewCompiler().WithRewriteTestRules(true)).
		SetStore(store).
		SetModules(modules).
		EnableTracing(true).
		CapturePrintOutput(false).
		Filter("^(" + strings.Join(names, "|") + ")$")
	msgs := map[string]string{}
	_ = storage.Txn(ctx, store, storage.TransactionParams{}, func(txn storage.Transaction) error {
		ch, err := runner.RunTests(ctx, txn)
		if err != nil {
			return err
		}
		for r := range ch {
			if msg := failureMessage(r.Trace); r.Fail && msg != "" {
				msgs[strings.TrimPrefix(r.Package, "data.")+"."+r.Name] = msg
			}
		}
		return nil
	})
	for i, t := range rep.Tests {
		if msg, ok := msgs[t.Package+"."+t.Name]; ok {
			rep.Tests[i].Message = msg
		}
	}
}

// failureMessage condenses a failed test's trace to its last failing expression, as `opa test
// --var-values` shows it: "oom_test.rego:42: oom.decision.action == \"rollback\"", then
// "got: ..., want: ..." for a comparison, or the expression's variables otherwise.
func failureMessage(trace []*topdown.Event) string {
	for _, e := range slices.Backward(trace) {
		if e.Op != topdown.FailOp || e.Location == nil || e.QueryID == 0 {
			continue
		}
		expr, ok := e.Node.(*ast.Expr)
		if !ok {
			continue
		}
		if _, isEvery := expr.Terms.(*ast.Every); isEvery {
			continue // the failing expression inside the every body comes first
		}
		lines := []string{fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, strings.TrimSpace(string(e.Location.Text)))}
		if gw := gotWant(e, expr); gw != "" {
			lines = append(lines, gw)
		} else {
			lines = append(lines, exprValues(e)...)
		}
		return strings.Join(lines, "\n")
	}
	return ""
}

// gotWant reads a failed comparison `a == b`: the side written as a constant is what the test
// wants, the other (a variable once rewritten) is what the policy gave; when neither side is a
// constant, the left is "got". "" for any other expression.
func gotWant(e *topdown.Event, expr *ast.Expr) string {
	// Rewritten for tracing, `a == b` reaches the trace as the unification `__local1__ = b`.
	if !expr.IsCall() || len(expr.Operands()) != 2 ||
		!(expr.Operator().Equal(ast.Equal.Ref()) || expr.Operator().Equal(ast.Equality.Ref())) {
		return ""
	}
	l, r := plugged(e, expr.Operand(0)), plugged(e, expr.Operand(1))
	if expr.Operand(0).IsGround() && !expr.Operand(1).IsGround() {
		l, r = r, l
	}
	return fmt.Sprintf("got %s, want %s", shorten(l.String()), shorten(r.String()))
}

// plugged is the term's value at the event: a local variable from the event's locals, anything
// else with the bindings plugged in.
func plugged(e *topdown.Event, t *ast.Term) *ast.Term {
	if v, ok := t.Value.(ast.Var); ok && e.Locals != nil {
		if val := e.Locals.Get(v); val != nil {
			return ast.NewTerm(val)
		}
	}
	return e.Plug(t)
}

// exprValues are OPA's pretty event of the expression (its values drawn under it), without the
// first line, which repeats the expression.
func exprValues(e *topdown.Event) []string {
	var b bytes.Buffer
	if err := topdown.PrettyEvent(&b, e, topdown.PrettyEventOpts{PrettyVars: true}); err != nil {
		return nil
	}
	var out []string
	for i, line := range strings.Split(b.String(), "\n") {
		line = strings.TrimRight(line, " \t")
		if i == 0 || strings.TrimSpace(line) == "" {
			continue
		}
		out = append(out, line)
	}
	return out
}
