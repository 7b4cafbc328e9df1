package policy

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type Embedded struct {
	E     float64 `json:"e"`
	Shade string  `json:"x"` // shadowed by the outer x
}

type textKey struct{ s string }

func (k textKey) MarshalText() ([]byte, error) { return []byte("<" + k.s + ">"), nil }

type sample struct {
	Embedded
	X        string            `json:"x"`
	Skip     string            `json:"-"`
	hidden   int               // unexported: never encoded
	Untagged bool              // encoded under its Go name
	Ptr      *inner            `json:"ptr"`
	NilPtr   *inner            `json:"nil_ptr"`
	Omit     *inner            `json:"omit,omitempty"`
	Slice    []inner           `json:"slice"`
	NilSlice []int             `json:"nil_slice"`
	Bytes    []byte            `json:"bytes"`
	Map      map[string]any    `json:"map"`
	NilMap   map[string]string `json:"nil_map"`
	Array    [2]int8           `json:"array"`
	F32      float32           `json:"f32"`
	Uint     uint16            `json:"uint"`
	Text     textKey           `json:"text"`
	Any      any               `json:"any"`
	At       time.Time         `json:"at"`
	AtPtr    *time.Time        `json:"at_ptr,omitempty"`
	Zeroes   inner             `json:"zeroes"`
}

// TestAstValueMatchesJSON holds astValue to encoding/json on the rules the input types do not
// all exercise today, so a field added later converts as its JSON encoding would.
func TestAstValueMatchesJSON(t *testing.T) {
	at := time.Date(2026, 12, 7, 22, 0, 0, 123, time.FixedZone("X", 5400))
	tests := []struct {
		name string
		v    any
	}{
		{"zero", sample{}},
		{"full", sample{
			Embedded: Embedded{E: 2.5e-7, Shade: "hidden by x"}, X: "x", Skip: "no", hidden: 3, Untagged: true,
			Ptr: &inner{A: 1, B: "b"}, Omit: &inner{}, Slice: []inner{{A: 2}, {B: "c"}}, NilSlice: nil,
			Bytes: []byte("\x00hi"), Map: map[string]any{"z": 1.5, "a": []any{"s", nil, true}, "n": json.Number("12")},
			Array: [2]int8{-1, 7}, F32: 0.1, Uint: 65535, Text: textKey{"k"}, Any: map[string]int{"q": 1},
			At: at, AtPtr: &at,
		}},
		{"awkward floats", map[string]float64{"big": 1e21, "tiny": -1e-7, "neg zero": math.Copysign(0, -1), "plain": 123456789.125}},
		{"pointer to struct", &inner{A: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ast.ValueFromReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got, err := astValue(reflect.ValueOf(tt.v))
			if err != nil {
				t.Fatalf("astValue() = %v", err)
			}
			if ast.Compare(want, got) != 0 || want.String() != got.String() {
				t.Errorf("astValue() =\n%v\nwant the JSON encoding\n%v", got, want)
			}
		})
	}
}

func TestAstValueRefuses(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"NaN", map[string]float64{"v": math.NaN()}},
		{"infinity", []float64{math.Inf(1)}},
		{"a channel", map[string]any{"c": make(chan int)}},
		{"a json.Number that is not one", []any{json.Number("twelve")}},
		{"a year JSON cannot encode", struct{ T time.Time }{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, err := astValue(reflect.ValueOf(tt.v)); err == nil {
				t.Errorf("astValue() = %v, want an error", v)
			}
		})
	}
}
