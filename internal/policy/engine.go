// Package policy evaluates runmedic's Rego policies: it compiles them once, asks them for a
// decision on a snapshot plus its signals, and checks that the decision is one Go can act on.
// It also runs the policies' own Rego tests with coverage.
package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/signals"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// DefaultPackage is the memory runbook's package.
const DefaultPackage = "runmedic.oom"

// Input is what a policy sees: the snapshot's fields at the top level, plus the signals.
type Input struct {
	snapshot.Snapshot
	Signals signals.Signals `json:"signals"`
	// Rounded is the evidence's numbers rounded as the policy rounds them. Value fills it when
	// nil; without it (an input encoded elsewhere) the policy rounds them itself.
	Rounded *Rounded `json:"rounded,omitempty"`
}

// Engine holds the compiled policies. It is built once (cold start) and is safe for concurrent
// use: every Decide shares the prepared query.
type Engine struct {
	pkg   string
	query rego.PreparedEvalQuery
}

// Option changes how New builds an Engine.
type Option func(*options)

type options struct{ pkg string }

// WithPackage decides with the policy package pkg ("runmedic.<name>") instead of
// DefaultPackage.
func WithPackage(pkg string) Option { return func(o *options) { o.pkg = pkg } }

// New compiles every non-test .rego file in fsys and prepares the one query Decide runs, with
// cfg as data.runmedic.config. Parse and compile errors say file:line:col.
func New(ctx context.Context, fsys fs.FS, cfg config.Config, opts ...Option) (*Engine, error) {
	o := options{pkg: DefaultPackage}
	for _, opt := range opts {
		opt(&o)
	}
	if err := checkPackage(o.pkg); err != nil {
		return nil, err
	}
	modules, err := loadModules(fsys, false)
	if err != nil {
		return nil, err
	}
	if len(packageModules(modules, o.pkg)) == 0 {
		return nil, fmt.Errorf("policy package %s: no module declares it", o.pkg)
	}
	compiler, err := compile(modules)
	if err != nil {
		return nil, err
	}
	store, err := configStore(cfg)
	if err != nil {
		return nil, err
	}
	// One query for both documents. The comprehensions keep the query defined when the
	// decision is undefined (reported as such) or the package has no deny rule (no refusals).
	q := fmt.Sprintf("decision := [d | d := data.%[1]s.decision]; deny := [m | some m in data.%[1]s.deny]", o.pkg)
	pq, err := rego.New(
		rego.Query(q),
		rego.Compiler(compiler),
		rego.Store(store),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare policy %s: %w", o.pkg, regoError(err))
	}
	return &Engine{pkg: o.pkg, query: pq}, nil
}

// Package is the policy package the engine decides with.
func (e *Engine) Package() string { return e.pkg }

// configStore is the data document policies read: cfg at data.runmedic.config, exactly as its
// JSON encoding (durations as text, which time.parse_duration_ns reads).
func configStore(cfg config.Config) (storage.Store, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	var doc map[string]any
	if err := util.UnmarshalJSON(b, &doc); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	// AST values on read: the config is converted to OPA values once, not on every decision.
	return inmem.NewFromObjectWithOpts(map[string]any{"runmedic": map[string]any{"config": doc}}, inmem.OptRoundTripOnWrite(true), inmem.OptReturnASTValuesOnRead(true)), nil
}

// Decide evaluates the policy on input (an Input, any value that encodes to the same JSON, raw
// JSON bytes, or an ast.Value) and returns the validated decision with the policy's refusals,
// sorted. An undefined decision is ErrUndefined; a decision Go cannot act on is an
// *InvalidDecisionError.
func (e *Engine) Decide(ctx context.Context, input any) (decision.Decision, error) {
	v, err := inputValue(input)
	if err != nil {
		return decision.Decision{}, err
	}
	return e.eval(ctx, v)
}

func (e *Engine) eval(ctx context.Context, v ast.Value, opts ...rego.EvalOption) (decision.Decision, error) {
	// The evaluation stops when ctx is done. Left to itself, OPA starts a goroutine per
	// evaluation to watch ctx; context.AfterFunc watches it without one.
	cancel := topdown.NewCancel()
	defer context.AfterFunc(ctx, cancel.Cancel)()
	rs, err := e.query.Eval(ctx, append(opts, rego.EvalParsedInput(v), rego.EvalExternalCancel(cancel))...)
	if err != nil {
		return decision.Decision{}, fmt.Errorf("evaluate policy %s: %w", e.pkg, err)
	}
	if len(rs) != 1 {
		return decision.Decision{}, fmt.Errorf("evaluate policy %s: %d results, want 1", e.pkg, len(rs))
	}
	return e.decode(rs[0].Bindings["decision"], rs[0].Bindings["deny"])
}

// inputValue converts input to OPA's value once: an Input by its own fast path, anything else
// through its JSON encoding.
func inputValue(input any) (ast.Value, error) {
	switch x := input.(type) {
	case ast.Value:
		return x, nil
	case Input:
		return x.Value()
	case *Input:
		if x == nil {
			return nil, errors.New("policy input: nil")
		}
		return x.Value()
	case []byte:
		return jsonValue(x)
	case json.RawMessage:
		return jsonValue(x)
	case map[string]any:
		v, err := ast.InterfaceToValue(x)
		if err != nil {
			return nil, fmt.Errorf("policy input: %w", err)
		}
		return v, nil
	}
	b, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("policy input: %w", err)
	}
	return jsonValue(b)
}

func jsonValue(b []byte) (ast.Value, error) {
	v, err := ast.ValueFromReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("policy input: %w", err)
	}
	if _, ok := v.(ast.Object); !ok {
		return nil, fmt.Errorf("policy input: want a JSON object, got %s", ast.ValueName(v))
	}
	return v, nil
}
