package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/quantity"
)

// ErrUndefined means the policy reached no decision for the input: no rule body held and there
// is no default. It is permanent; retrying the same input decides nothing again.
var ErrUndefined = errors.New("decision is undefined for this input")

// InvalidDecisionError is a decision Go will not act on: an unknown action or diagnosis, a
// missing or malformed parameter. Go never guesses what a policy meant.
type InvalidDecisionError struct {
	Policy  string // the package, e.g. "runmedic.oom"
	Problem string // what is wrong, naming the field
}

// Error reads "policy runmedic.oom: invalid decision: unknown action \"reboot\"".
func (e *InvalidDecisionError) Error() string {
	return fmt.Sprintf("policy %s: invalid decision: %s", e.Policy, e.Problem)
}

var (
	actions = []decision.Action{
		decision.None, decision.RaiseMemory, decision.Rollback,
		decision.LowerConcurrency, decision.Restart, decision.Escalate,
	}
	diagnoses = []decision.Diagnosis{
		decision.Recovered, decision.Regression, decision.GradualGrowth,
		decision.InsufficientMemory, decision.RequestSpike, decision.Unknown,
	}
	decisionKeys = []string{"action", "diagnosis", "reason", "evidence", "params"}
	paramKeys    = []string{"memory", "cpu", "revision", "max_concurrency", "notify"}
)

// decode turns the query's bindings into a validated Decision.
func (e *Engine) decode(decisions, deny any) (decision.Decision, error) {
	list, _ := decisions.([]any)
	if len(list) == 0 {
		return decision.Decision{}, fmt.Errorf("policy %s: %w", e.pkg, ErrUndefined)
	}
	bad := func(format string, args ...any) error {
		return &InvalidDecisionError{Policy: e.pkg, Problem: fmt.Sprintf(format, args...)}
	}
	obj, ok := list[0].(map[string]any)
	if !ok {
		return decision.Decision{}, bad("want an object, got %s", typeName(list[0]))
	}
	for k := range obj {
		if !slices.Contains(decisionKeys, k) {
			return decision.Decision{}, bad("unknown key %q", k)
		}
	}
	d := decision.Decision{Policy: e.pkg}
	var err error
	if d.Action, err = str[decision.Action](obj, "", "action", true); err != nil {
		return decision.Decision{}, bad("%v", err)
	}
	if !slices.Contains(actions, d.Action) {
		return decision.Decision{}, bad("unknown action %q", d.Action)
	}
	if d.Diagnosis, err = str[decision.Diagnosis](obj, "", "diagnosis", true); err != nil {
		return decision.Decision{}, bad("%v", err)
	}
	if !slices.Contains(diagnoses, d.Diagnosis) {
		return decision.Decision{}, bad("unknown diagnosis %q", d.Diagnosis)
	}
	if d.Reason, err = str[string](obj, "", "reason", true); err != nil {
		return decision.Decision{}, bad("%v", err)
	}
	if d.Evidence, err = strs(obj["evidence"], "evidence"); err != nil {
		return decision.Decision{}, bad("%v", err)
	}
	if d.Params, err = params(obj["params"]); err != nil {
		return decision.Decision{}, bad("%v", err)
	}
	if err := checkParams(d.Action, d.Params); err != nil {
		return decision.Decision{}, bad("%v", err)
	}
	if deny, ok := deny.([]any); ok && len(deny) > 0 {
		if d.Deny, err = strs(deny, "deny"); err != nil {
			return decision.Decision{}, bad("%v", err)
		}
		sort.Strings(d.Deny)
	}
	return d, nil
}

// checkParams holds each action to the parameters it cannot do without.
func checkParams(a decision.Action, p decision.Params) error {
	switch a {
	case decision.RaiseMemory:
		if p.Memory == "" {
			return errors.New("raise_memory needs params.memory")
		}
		if _, err := quantity.ParseMemory(p.Memory); err != nil {
			return fmt.Errorf("params.memory: %w", err)
		}
	case decision.Rollback:
		if p.Revision == "" {
			return errors.New("rollback needs params.revision")
		}
	case decision.LowerConcurrency:
		if p.MaxConcurrency < 1 {
			return fmt.Errorf("lower_concurrency needs params.max_concurrency >= 1, got %d", p.MaxConcurrency)
		}
	}
	if p.CPU != "" {
		if _, err := quantity.ParseCPU(p.CPU); err != nil {
			return fmt.Errorf("params.cpu: %w", err)
		}
	}
	return nil
}

func params(v any) (decision.Params, error) {
	var p decision.Params
	if v == nil {
		return p, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return p, fmt.Errorf("params: want an object, got %s", typeName(v))
	}
	for k := range obj {
		if !slices.Contains(paramKeys, k) {
			return p, fmt.Errorf("params: unknown key %q", k)
		}
	}
	var err error
	if p.Memory, err = str[string](obj, "params.", "memory", false); err != nil {
		return p, err
	}
	if p.CPU, err = str[string](obj, "params.", "cpu", false); err != nil {
		return p, err
	}
	if p.Revision, err = str[string](obj, "params.", "revision", false); err != nil {
		return p, err
	}
	if n, ok := obj["max_concurrency"]; ok {
		num, isNum := n.(json.Number)
		i, err := num.Int64()
		if !isNum || err != nil || i > 1<<31 || i < -(1<<31) {
			return p, fmt.Errorf("params.max_concurrency: want an integer, got %s", typeName(n))
		}
		p.MaxConcurrency = int(i)
	}
	if p.Notify, err = strs(obj["notify"], "params.notify"); err != nil {
		return p, err
	}
	for i, n := range p.Notify {
		if n == "" {
			return p, fmt.Errorf("params.notify[%d]: empty", i)
		}
	}
	return p, nil
}

// str reads obj[key] as a string; a missing key is "" unless required.
func str[T ~string](obj map[string]any, prefix, key string, required bool) (T, error) {
	v, ok := obj[key]
	if !ok {
		if required {
			return "", fmt.Errorf("%s%s: missing", prefix, key)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s%s: want a string, got %s", prefix, key, typeName(v))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s%s: empty", prefix, key)
	}
	return T(s), nil
}

// strs reads a list of strings; a missing list is nil.
func strs(v any, field string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a list of strings, got %s", field, typeName(v))
	}
	out := make([]string, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("%s[%d]: want a string, got %s", field, i, typeName(x))
		}
		out[i] = s
	}
	return out, nil
}

// typeName names a decoded JSON value the way a policy author thinks of it.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "the number " + x.String()
	case string:
		return fmt.Sprintf("the string %q", x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
