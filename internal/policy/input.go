package policy

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// Value converts in to the OPA value policies see as input: the JSON encoding of in (built
// directly from the structs, not through JSON text: astValue), with Rounded filled in when nil
// and the metric series (three series of 180 points, most of a snapshot) converted only if a
// policy reads them. Converting them up front costs more than evaluating the policy
// (BenchmarkInputValue); the bundled policy reads the signals instead. TestValueMatchesJSON
// holds the result equal to the JSON encoding. The value is for one evaluation at a time: OPA
// caches the parts it converts inside it.
func (in Input) Value() (ast.Value, error) {
	series, err := seriesOf(in.Metrics)
	if err != nil {
		return nil, err
	}
	rest := in.WithRounded()
	rest.Metrics = snapshot.Metrics{}
	v, err := astValue(reflect.ValueOf(rest))
	if err != nil {
		return nil, err
	}
	obj := v.(ast.Object)
	native := make(map[string]any, obj.Len())
	obj.Foreach(func(k, v *ast.Term) {
		if s, ok := k.Value.(ast.String); ok {
			native[string(s)] = v.Value
		}
	})
	native["metrics"] = series
	return ast.LazyObject(native), nil
}

// seriesOf is snapshot.Metrics as its JSON encoding's keys, each series left as Go values for
// OPA to convert on first use. Conversion must not fail then, so the values are checked now:
// JSON has no NaN or infinity, and time.Time encodes only years 0 to 9999.
func seriesOf(m snapshot.Metrics) (map[string]any, error) {
	out := map[string]any{}
	rv := reflect.ValueOf(m)
	for i := range rv.NumField() {
		f := rv.Type().Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			return nil, fmt.Errorf("policy input: metrics field %s is not a tagged series", f.Name)
		}
		switch v := rv.Field(i).Interface().(type) {
		case []snapshot.Point:
			if len(v) == 0 && strings.Contains(opts, "omitempty") {
				continue
			}
			if err := checkPoints(name, v); err != nil {
				return nil, err
			}
			out[name] = v
		case map[string][]snapshot.Point:
			if len(v) == 0 && strings.Contains(opts, "omitempty") {
				continue
			}
			byName := make(map[string]any, len(v))
			for k, points := range v {
				if err := checkPoints(name+"."+k, points); err != nil {
					return nil, err
				}
				byName[k] = points
			}
			out[name] = byName
		default:
			return nil, fmt.Errorf("policy input: metrics field %s is not a tagged series", f.Name)
		}
	}
	return out, nil
}

// safeFrom and safeTo are the Unix seconds of 0000-01-02 and 9999-12-31 UTC: a time strictly
// between them is in years 0..9999 in every time zone (offsets are under a day).
const (
	safeFrom = -62167132800
	safeTo   = 253402214400
)

// checkPoints holds a series to what JSON can encode, naming the first point that it cannot.
func checkPoints(name string, points []snapshot.Point) error {
	for j, p := range points {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			return fmt.Errorf("policy input: metrics.%s[%d]: value %v is not a JSON number", name, j, p.Value)
		}
		if u := p.At.Unix(); u > safeFrom && u < safeTo {
			continue // years 0..9999 in any zone: Year, which costs more, need not be asked
		}
		if y := p.At.Year(); y < 0 || y > 9999 {
			return fmt.Errorf("policy input: metrics.%s[%d]: year %d outside 0..9999", name, j, y)
		}
	}
	return nil
}
