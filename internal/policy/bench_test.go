package policy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// BenchmarkDecide is one warm decision on a realistic input: three hours of one-minute points in
// each series, converted to OPA's value inside Decide as the function does it.
func BenchmarkDecide(b *testing.B) {
	e := bundled(b)
	in := input(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Decide(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecideParsed is the evaluation alone, the input already an ast.Value.
func BenchmarkDecideParsed(b *testing.B) {
	e := bundled(b)
	raw, err := json.Marshal(input(nil))
	if err != nil {
		b.Fatal(err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(raw))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Decide(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInputValue compares the ways to turn the input into OPA's value; Decide uses the
// fastest for structs.
func BenchmarkInputValue(b *testing.B) {
	in := input(nil)
	b.Run("json+ValueFromReader", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := json.Marshal(in)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ast.ValueFromReader(bytes.NewReader(raw)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Input.Value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := in.Value(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("InterfaceToValue(struct)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ast.InterfaceToValue(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json+UnmarshalJSON+InterfaceToValue", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			raw, err := json.Marshal(in)
			if err != nil {
				b.Fatal(err)
			}
			var x any
			if err := util.UnmarshalJSON(raw, &x); err != nil {
				b.Fatal(err)
			}
			if _, err := ast.InterfaceToValue(x); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkExplain(b *testing.B) {
	e := bundled(b)
	in := input(nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.Explain(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
