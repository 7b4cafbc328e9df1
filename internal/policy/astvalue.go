package policy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

// astValue converts v to the OPA value of its JSON encoding without producing the JSON: the
// encoding/json rules (field names and omitempty from tags, embedded structs promoted, nil
// slices and maps as null, []byte as base64, Marshalers honoured, floats formatted as
// encoding/json formats them) applied directly, so a decision does not pay for encoding and
// parsing the input. TestValueMatchesJSON holds the two equal, strings included.
func astValue(v reflect.Value) (ast.Value, error) {
	if !v.IsValid() {
		return ast.NullValue, nil
	}
	t := v.Type()
	if t == timeType {
		tm := v.Interface().(time.Time)
		if y := tm.Year(); y < 0 || y > 9999 {
			return nil, fmt.Errorf("policy input: year %d outside 0..9999", y)
		}
		return ast.String(tm.Format(time.RFC3339Nano)), nil
	}
	if t == roundedNumberType { // OPA's own text, a number by construction
		if v.String() == "" {
			return ast.NullValue, nil
		}
		return ast.Number(v.String()), nil
	}
	if t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		switch encoderOf(t) {
		case encodesItself:
			return marshaled(v)
		case pointerEncodes:
			if v.CanAddr() {
				return marshaled(v.Addr())
			}
		}
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		if t.Kind() == reflect.Pointer && encoderOf(t) == encodesItself {
			return marshaled(v)
		}
		return astValue(v.Elem())
	case reflect.String:
		if t == numberType { // encoding/json checks it is a number
			return marshaled(v)
		}
		return ast.String(v.String()), nil
	case reflect.Bool:
		return ast.Boolean(v.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return ast.Number(strconv.FormatInt(v.Int(), 10)), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return ast.Number(strconv.FormatUint(v.Uint(), 10)), nil
	case reflect.Float32, reflect.Float64:
		return floatNumber(v.Float(), t.Bits())
	case reflect.Struct:
		return structValue(v)
	case reflect.Map:
		if v.IsNil() {
			return ast.NullValue, nil
		}
		if t.Key().Kind() != reflect.String {
			return marshaled(v)
		}
		terms := make([][2]*ast.Term, 0, v.Len())
		it := v.MapRange()
		for it.Next() {
			ev, err := astValue(it.Value())
			if err != nil {
				return nil, err
			}
			terms = append(terms, [2]*ast.Term{ast.StringTerm(it.Key().String()), ast.NewTerm(ev)})
		}
		return ast.NewObject(terms...), nil
	case reflect.Slice, reflect.Array:
		if t.Kind() == reflect.Slice && v.IsNil() {
			return ast.NullValue, nil
		}
		if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
			return ast.String(base64.StdEncoding.EncodeToString(v.Bytes())), nil
		}
		terms := make([]*ast.Term, v.Len())
		for i := range terms {
			ev, err := astValue(v.Index(i))
			if err != nil {
				return nil, err
			}
			terms[i] = ast.NewTerm(ev)
		}
		return ast.NewArray(terms...), nil
	}
	return nil, fmt.Errorf("policy input: a %s cannot be encoded as JSON", t)
}

var (
	numberType        = reflect.TypeFor[json.Number]()
	roundedNumberType = reflect.TypeFor[Number]()
)

// marshaled is v through its own JSON encoding: the rare values (time.Time among them) whose
// encoding is theirs to choose.
func marshaled(v reflect.Value) (ast.Value, error) {
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, fmt.Errorf("policy input: %w", err)
	}
	out, err := ast.ValueFromReader(strings.NewReader(string(b)))
	if err != nil {
		return nil, fmt.Errorf("policy input: %w", err)
	}
	return out, nil
}

// floatNumber formats f exactly as encoding/json does, so evidence that prints a number prints
// what the JSON path printed.
func floatNumber(f float64, bits int) (ast.Value, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("policy input: value %v is not a JSON number", f)
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 {
		if bits == 64 && (a < 1e-6 || a >= 1e21) || bits == 32 && (float32(a) < 1e-6 || float32(a) >= 1e21) {
			format = 'e'
		}
	}
	b := strconv.AppendFloat(make([]byte, 0, 24), f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return ast.Number(b), nil
}

// encoder is who writes a type's JSON: encoding/json's rules, the type itself (a Marshaler or
// TextMarshaler), or its pointer.
type encoder uint8

const (
	jsonRules encoder = iota
	encodesItself
	pointerEncodes
)

var encoderCache sync.Map // reflect.Type → encoder

// encoderOf is t's encoder, worked out once per type.
func encoderOf(t reflect.Type) encoder {
	if e, ok := encoderCache.Load(t); ok {
		return e.(encoder)
	}
	e := jsonRules
	switch {
	case t.Implements(marshalerType) || t.Implements(textType):
		e = encodesItself
	case t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textType)):
		e = pointerEncodes
	}
	encoderCache.Store(t, e)
	return e
}

// field is one struct field as encoding/json sees it.
type field struct {
	name      string
	key       *ast.Term // name as OPA's term, built once: terms in an input are never changed
	index     []int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type → []field

// fieldsOf lists t's encoded fields in encoding/json's order, embedded structs' fields promoted
// unless a shallower field has the same name.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var all []field
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), index...), i)
			if sf.Anonymous && name == "" {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft, idx)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			all = append(all, field{name: name, index: idx, omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
		}
	}
	walk(t, nil)
	// The shallowest field of a name wins; two at the same depth cancel out, as in encoding/json
	// (which would keep a tagged one over untagged ones: no input type has such a pair).
	depth := map[string]int{}
	count := map[string]int{}
	for _, f := range all {
		d, ok := depth[f.name]
		switch {
		case !ok || len(f.index) < d:
			depth[f.name], count[f.name] = len(f.index), 1
		case len(f.index) == d:
			count[f.name]++
		}
	}
	var out []field
	for _, f := range all {
		if len(f.index) == depth[f.name] && count[f.name] == 1 {
			f.key = ast.StringTerm(f.name)
			out = append(out, f)
		}
	}
	fieldCache.Store(t, out)
	return out
}

func structValue(v reflect.Value) (ast.Value, error) {
	fields := fieldsOf(v.Type())
	terms := make([][2]*ast.Term, 0, len(fields))
	for _, f := range fields {
		fv, err := v.FieldByIndexErr(f.index)
		if err != nil { // through a nil embedded pointer: encoding/json leaves it out
			continue
		}
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		ev, err := astValue(fv)
		if err != nil {
			return nil, err
		}
		terms = append(terms, [2]*ast.Term{f.key, ast.NewTerm(ev)})
	}
	return ast.NewObject(terms...), nil
}

// isEmpty is encoding/json's omitempty test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
